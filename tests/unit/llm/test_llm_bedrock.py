"""BedrockChatModel and the LLM domain over it, with Converse stubbed against the real API model."""

from __future__ import annotations

import json

import pytest
from botocore.exceptions import ConnectTimeoutError, EndpointConnectionError, ReadTimeoutError
from llm_fakes import MODEL_ID, converse_response

from reviewflow.domain.prompts import load_prompt, review_fields
from reviewflow.domain.responses import LlmResponseWriter
from reviewflow.domain.sentiment import SENTIMENT_MAX_TOKENS, LlmSentiment
from reviewflow.errors import (
    MalformedModelOutputError,
    ProviderError,
    ProviderThrottledError,
    ProviderTimeoutError,
)
from reviewflow.models.chat import ChatMessage
from reviewflow.models.steps import SentimentResult, TokenUsage
from reviewflow.providers.bedrock import BedrockChatModel

GOOD_JSON = '{"sentiment": "MIXED", "reason": "Praises speed and the dial but dislikes the squeaky lid."}'


def _sentiment_request(sample_review, extra_messages=()):
    prompt = load_prompt("sentiment", "v1").render(**review_fields(sample_review))
    messages = [{"role": "user", "content": [{"text": prompt.user}]}, *extra_messages]
    return {
        "modelId": MODEL_ID,
        "system": [{"text": prompt.system}],
        "messages": messages,
        "inferenceConfig": {"maxTokens": SENTIMENT_MAX_TOKENS, "temperature": 0.0},
    }


def test_converse_sends_the_converse_shape_and_reads_text_usage_and_stop_reason(bedrock):
    client, stubber = bedrock
    stubber.add_response(
        "converse",
        converse_response("Hello there.", stop_reason="end_turn", input_tokens=11, output_tokens=3),
        expected_params={
            "modelId": MODEL_ID,
            "system": [{"text": "be brief"}],
            "messages": [
                {"role": "user", "content": [{"text": "hi"}]},
                {"role": "assistant", "content": [{"text": "yes?"}]},
                {"role": "user", "content": [{"text": "again"}]},
            ],
            "inferenceConfig": {"maxTokens": 64, "temperature": 0.5},
        },
    )
    reply = BedrockChatModel(client, MODEL_ID).converse(
        "be brief",
        [ChatMessage("user", "hi"), ChatMessage("assistant", "yes?"), ChatMessage("user", "again")],
        max_tokens=64,
        temperature=0.5,
    )
    assert reply.text == "Hello there."
    assert reply.model_id == MODEL_ID
    assert reply.usage == TokenUsage(input_tokens=11, output_tokens=3)
    assert reply.stop_reason == "end_turn"


def test_only_text_blocks_form_the_answer(bedrock):
    client, stubber = bedrock
    response = converse_response("ignored")
    response["output"]["message"]["content"] = [
        {"reasoningContent": {"reasoningText": {"text": "thinking..."}}},
        {"text": "Part one. "},
        {"text": "Part two."},
    ]
    stubber.add_response("converse", response)
    reply = BedrockChatModel(client, "amazon.nova-lite-v1:0").converse(
        "s", [ChatMessage("user", "u")], max_tokens=16, temperature=0
    )
    assert reply.text == "Part one. Part two."


@pytest.mark.parametrize(
    ("code", "status", "expected"),
    [
        ("ThrottlingException", 429, ProviderThrottledError),
        ("ServiceQuotaExceededException", 400, ProviderThrottledError),
        ("ModelTimeoutException", 408, ProviderTimeoutError),
        ("InternalServerException", 500, ProviderTimeoutError),
        ("ServiceUnavailableException", 503, ProviderTimeoutError),
        ("ModelNotReadyException", 429, ProviderTimeoutError),
        ("ValidationException", 400, ProviderError),
        ("AccessDeniedException", 403, ProviderError),
        ("ResourceNotFoundException", 404, ProviderError),
        ("ModelErrorException", 424, ProviderError),
        ("SomethingNewException", 502, ProviderTimeoutError),
        ("SomethingElseException", 400, ProviderError),
    ],
)
def test_client_errors_map_by_code_to_typed_errors(bedrock, code, status, expected):
    client, stubber = bedrock
    stubber.add_client_error(
        "converse",
        service_error_code=code,
        service_message="retry later" if expected is ProviderError else "access denied",
        http_status_code=status,
    )
    with pytest.raises(ProviderError) as caught:
        BedrockChatModel(client, MODEL_ID).converse(
            "s", [ChatMessage("user", "u")], max_tokens=16, temperature=0
        )
    assert type(caught.value) is expected
    assert caught.value.retryable is (expected is not ProviderError)
    assert code in str(caught.value)
    assert caught.value.__cause__ is not None


@pytest.mark.parametrize(
    "transport_error",
    [
        ReadTimeoutError(endpoint_url="https://bedrock-runtime.us-east-1.amazonaws.com"),
        ConnectTimeoutError(endpoint_url="https://bedrock-runtime.us-east-1.amazonaws.com"),
        EndpointConnectionError(endpoint_url="https://bedrock-runtime.us-east-1.amazonaws.com"),
    ],
)
def test_botocore_timeouts_are_retryable_timeouts(transport_error):
    class TimingOutClient:
        def converse(self, **kwargs):
            raise transport_error

    with pytest.raises(ProviderTimeoutError) as caught:
        BedrockChatModel(TimingOutClient(), MODEL_ID).converse(
            "s", [ChatMessage("user", "u")], max_tokens=16, temperature=0
        )
    assert caught.value.__cause__ is transport_error


# ------------------------------------------------------------------ sentiment over Bedrock


def test_sentiment_happy_path(bedrock, sample_review):
    client, stubber = bedrock
    stubber.add_response(
        "converse",
        converse_response(GOOD_JSON, input_tokens=300, output_tokens=25),
        expected_params=_sentiment_request(sample_review),
    )
    result = LlmSentiment(BedrockChatModel(client, MODEL_ID), 3).detect(sample_review)
    assert result == SentimentResult(
        sentiment="MIXED",
        reason="Praises speed and the dial but dislikes the squeaky lid.",
        model_id=MODEL_ID,
        prompt_version="sentiment/v1",
        usage=TokenUsage(input_tokens=300, output_tokens=25),
        attempts=1,
    )


def test_sentiment_throttling_surfaces_for_the_workflow_to_retry(bedrock, sample_review):
    client, stubber = bedrock
    stubber.add_client_error("converse", service_error_code="ThrottlingException", http_status_code=429)
    with pytest.raises(ProviderThrottledError):
        LlmSentiment(BedrockChatModel(client, MODEL_ID), 3).detect(sample_review)


def test_sentiment_model_timeout_is_a_timeout_error(bedrock, sample_review):
    client, stubber = bedrock
    stubber.add_client_error("converse", service_error_code="ModelTimeoutException", http_status_code=408)
    with pytest.raises(ProviderTimeoutError):
        LlmSentiment(BedrockChatModel(client, MODEL_ID), 3).detect(sample_review)


def test_sentiment_access_denied_is_not_retryable(bedrock, sample_review):
    client, stubber = bedrock
    stubber.add_client_error("converse", service_error_code="AccessDeniedException", http_status_code=403)
    with pytest.raises(ProviderError) as caught:
        LlmSentiment(BedrockChatModel(client, MODEL_ID), 3).detect(sample_review)
    assert type(caught.value) is ProviderError and not caught.value.retryable


def test_malformed_answer_is_repaired_on_the_second_attempt(bedrock, sample_review):
    client, stubber = bedrock
    bad = "Sure! The sentiment is mostly positive."
    stubber.add_response(
        "converse",
        converse_response(bad, input_tokens=300, output_tokens=9),
        expected_params=_sentiment_request(sample_review),
    )
    # The second call carries the bad answer back and a correction, then gets fenced JSON.
    first_request = _sentiment_request(sample_review)

    def check_second_request(params):
        assert params["messages"][0] == first_request["messages"][0]
        assert params["messages"][1] == {"role": "assistant", "content": [{"text": bad}]}
        correction = params["messages"][2]
        assert correction["role"] == "user"
        assert "no JSON object" in correction["content"][0]["text"]
        assert len(params["messages"]) == 3

    stubber.add_response(
        "converse",
        converse_response(f"```json\n{GOOD_JSON}\n```", input_tokens=340, output_tokens=30),
    )
    seen = []
    client.meta.events.register(
        "provide-client-params.bedrock-runtime.Converse", lambda params, **_: seen.append(params)
    )
    result = LlmSentiment(BedrockChatModel(client, MODEL_ID), 3).detect(sample_review)
    assert len(seen) == 2
    check_second_request(seen[1])
    assert result.sentiment == "MIXED"
    assert result.attempts == 2
    assert result.usage == TokenUsage(input_tokens=640, output_tokens=39)


@pytest.mark.parametrize("max_attempts", [1, 3])
def test_malformed_every_time_fails_after_exactly_max_attempts_calls(bedrock, sample_review, max_attempts):
    client, stubber = bedrock
    answers = [
        '{"sentiment": "HAPPY", "reason": "x"}',
        "",
        json.dumps({"sentiment": "POSITIVE", "reason": "r" * 201}),
    ]
    for attempt in range(max_attempts):
        stubber.add_response("converse", converse_response(answers[attempt % len(answers)]))
    calls = []
    client.meta.events.register(
        "provide-client-params.bedrock-runtime.Converse", lambda params, **_: calls.append(1)
    )
    with pytest.raises(MalformedModelOutputError, match=f"{max_attempts} time"):
        LlmSentiment(BedrockChatModel(client, MODEL_ID), max_attempts).detect(sample_review)
    assert len(calls) == max_attempts
    # No response left over and none missing: exactly max_attempts calls were made.
    stubber.assert_no_pending_responses()


# ------------------------------------------------------------------ reply over Bedrock


def test_reply_is_generated_from_the_response_prompt(bedrock, sample_review):
    client, stubber = bedrock
    sentiment = SentimentResult(
        sentiment="MIXED", reason="r", model_id=MODEL_ID, prompt_version="sentiment/v1"
    )
    prompt = load_prompt("response", "v1").render(**review_fields(sample_review), sentiment="MIXED")
    stubber.add_response(
        "converse",
        converse_response("  Hi Dana, thanks for reviewing the Aurora Kettle 1.7 L.  \n", input_tokens=500),
        expected_params={
            "modelId": MODEL_ID,
            "system": [{"text": prompt.system}],
            "messages": [{"role": "user", "content": [{"text": prompt.user}]}],
            "inferenceConfig": {"maxTokens": 250, "temperature": 0.2},
        },
    )
    writer = LlmResponseWriter(BedrockChatModel(client, MODEL_ID), max_tokens=250, temperature=0.2)
    response = writer.write(sample_review, sentiment)
    assert response.response_text == "Hi Dana, thanks for reviewing the Aurora Kettle 1.7 L."
    assert response.model_id == MODEL_ID
    assert response.prompt_version == "response/v1"
    assert response.usage == TokenUsage(input_tokens=500, output_tokens=30)


@pytest.mark.parametrize(
    ("text", "stop_reason"),
    [
        ("   \n ", "end_turn"),
        ("Hi Dana, thanks for", "max_tokens"),
        ("Sorry, I can't.", "guardrail_intervened"),
    ],
)
def test_empty_or_incomplete_reply_is_malformed_output(bedrock, sample_review, text, stop_reason):
    client, stubber = bedrock
    stubber.add_response("converse", converse_response(text, stop_reason=stop_reason))
    sentiment = SentimentResult(
        sentiment="MIXED", reason="r", model_id=MODEL_ID, prompt_version="sentiment/v1"
    )
    with pytest.raises(MalformedModelOutputError):
        LlmResponseWriter(BedrockChatModel(client, MODEL_ID)).write(sample_review, sentiment)
