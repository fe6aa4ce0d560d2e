"""LlmSentiment's lenient parsing, strict validation and repair loop (with a scripted model)."""

from __future__ import annotations

import pytest
from llm_fakes import ScriptedChatModel

from reviewflow.domain.sentiment import LlmSentiment, parse_answer
from reviewflow.errors import ConfigurationError, MalformedModelOutputError
from reviewflow.models.steps import TokenUsage

GOOD = '{"sentiment": "NEGATIVE", "reason": "The lid squeaks."}'


@pytest.mark.parametrize(
    "answer",
    [
        GOOD,
        f"  {GOOD}\n",
        f"```json\n{GOOD}\n```",
        f"```\n{GOOD}\n```",
        f"Here is the classification:\n{GOOD}\nLet me know if you need more.",
        'Thinking {not json} ... {"sentiment": "negative", "reason": "  The lid squeaks.  "} done',
        '{"sentiment": "NEGATIVE", "reason": "The lid squeaks.", "confidence": 0.9}',
    ],
)
def test_answers_with_fences_prose_or_lower_case_are_accepted(answer):
    parsed = parse_answer(answer)
    assert (parsed.sentiment, parsed.reason) == ("NEGATIVE", "The lid squeaks.")


@pytest.mark.parametrize(
    ("answer", "problem"),
    [
        ("NEGATIVE", "no JSON object"),
        ("", "no JSON object"),
        ("[1, 2]", "no JSON object"),
        ('{"sentiment": "ANGRY", "reason": "r"}', "sentiment"),
        ('{"sentiment": "NEGATIVE"}', "reason"),
        ('{"sentiment": "NEGATIVE", "reason": ""}', "reason"),
        ('{"sentiment": "NEGATIVE", "reason": "' + "x" * 201 + '"}', "at most 200"),
        ('{"sentiment": 3, "reason": "r"}', "sentiment"),
    ],
)
def test_answers_outside_the_shape_are_rejected_with_a_reason(answer, problem):
    with pytest.raises(ValueError, match=problem):
        parse_answer(answer)


def test_rejection_message_does_not_echo_the_answer():
    secret = "SECRET-REVIEW-WORDS"
    with pytest.raises(ValueError) as caught:
        parse_answer('{"sentiment": "' + secret + '", "reason": "r"}')
    assert secret not in str(caught.value)


def test_repair_turns_carry_the_bad_answer_and_a_correction(sample_review):
    model = ScriptedChatModel(["", "positive!", GOOD])
    result = LlmSentiment(model, 3).detect(sample_review)
    assert result.sentiment == "NEGATIVE"
    assert result.attempts == 3
    assert result.usage == TokenUsage(input_tokens=30, output_tokens=15)
    assert result.model_id == "fake/scripted"
    first, second, third = (messages for _, messages in model.calls)
    assert [m.role for m in first] == ["user"]
    assert [m.role for m in third] == ["user", "assistant", "user", "assistant", "user"]
    assert third[1].text == "(empty answer)"
    assert third[3].text == "positive!"
    assert "Answer again with exactly one JSON object" in third[4].text
    assert second == third[:3]


def test_exhausted_repairs_raise_after_max_attempts_calls(sample_review):
    model = ScriptedChatModel(["nope"] * 5)
    with pytest.raises(MalformedModelOutputError) as caught:
        LlmSentiment(model, 2).detect(sample_review)
    assert len(model.calls) == 2
    assert sample_review.review_text not in str(caught.value)


def test_prompt_version_is_the_one_passed_in(sample_review):
    with pytest.raises(ConfigurationError, match="sentiment/v7"):
        LlmSentiment(ScriptedChatModel([GOOD]), 1, prompt_version="v7").detect(sample_review)


def test_prompt_version_comes_from_settings_through_the_registry(runtime_env, sample_review):
    from reviewflow.providers import registry

    runtime_env.setenv("REVIEWFLOW_LLM_PROVIDER", "bedrock")
    runtime_env.setenv("REVIEWFLOW_MODEL_ID", "test-model")
    runtime_env.setenv("REVIEWFLOW_SENTIMENT_PROMPT_VERSION", "v7")
    runtime_env.setenv("AWS_DEFAULT_REGION", "us-east-1")
    registry.reset()
    try:
        # The prompt file is looked up before any model call, so nothing is sent anywhere.
        with pytest.raises(ConfigurationError, match="sentiment/v7"):
            registry.sentiment_provider().detect(sample_review)
    finally:
        registry.reset()


def test_max_attempts_must_be_positive():
    with pytest.raises(ValueError):
        LlmSentiment(ScriptedChatModel([]), 0)
