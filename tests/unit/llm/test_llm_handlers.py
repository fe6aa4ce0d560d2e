"""detect_sentiment and generate_response invoked the way Lambda invokes them."""

from __future__ import annotations

import io
import json
import logging
import subprocess
import sys
from pathlib import Path

import pytest
from llm_fakes import MODEL_ID, converse_response

from reviewflow.domain.responses import LlmResponseWriter
from reviewflow.domain.sentiment import LlmSentiment
from reviewflow.errors import ConfigurationError, InvalidInputError
from reviewflow.handlers import detect_sentiment, generate_response
from reviewflow.observability import get_logger
from reviewflow.providers import registry
from reviewflow.providers.bedrock import BedrockChatModel

ROOT = Path(__file__).resolve().parents[3]
REVIEW_TEXT = "Boils fast, but the lid squeaks. UNIQUE-REVIEW-MARKER"


@pytest.fixture
def review_event():
    return {
        "review_id": "rev-42",
        "product_id": "sku-7",
        "review_text": REVIEW_TEXT,
        "rating": 3,
        "product_name": "Aurora Kettle",
        "reviewer_name": "Dana",
    }


@pytest.fixture
def log_lines():
    """Every line the Powertools logger writes during the test, as parsed JSON."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    logger = get_logger()
    handler.setFormatter(logger.registered_formatter)
    logger._logger.addHandler(handler)
    yield lambda: [json.loads(line) for line in stream.getvalue().splitlines() if line.strip()]
    logger._logger.removeHandler(handler)


def test_detect_sentiment_with_an_overridden_provider(review_event, lambda_context, bedrock, log_lines):
    client, stubber = bedrock
    stubber.add_response(
        "converse",
        converse_response('{"sentiment": "MIXED", "reason": "Fast but noisy lid."}', input_tokens=200),
    )
    with registry.override(sentiment_provider=LlmSentiment(BedrockChatModel(client, MODEL_ID), 2)):
        result = detect_sentiment.handler({"review": review_event}, lambda_context)
    assert result == {
        "sentiment": "MIXED",
        "reason": "Fast but noisy lid.",
        "model_id": MODEL_ID,
        "prompt_version": "sentiment/v1",
        "usage": {"input_tokens": 200, "output_tokens": 30},
        "attempts": 1,
    }
    lines = log_lines()
    detected = next(line for line in lines if line["message"] == "sentiment detected")
    assert detected["model_id"] == MODEL_ID
    assert detected["prompt_version"] == "sentiment/v1"
    assert (detected["input_tokens"], detected["output_tokens"]) == (200, 30)
    assert detected["correlation_id"] == "rev-42"
    assert "UNIQUE-REVIEW-MARKER" not in json.dumps(lines)


def test_generate_response_with_an_overridden_writer(review_event, lambda_context, bedrock, log_lines):
    client, stubber = bedrock
    stubber.add_response(
        "converse", converse_response("Hi Dana, thank you for reviewing the Aurora Kettle.", output_tokens=12)
    )
    sentiment = {
        "sentiment": "MIXED",
        "reason": "Fast but noisy lid.",
        "model_id": MODEL_ID,
        "prompt_version": "sentiment/v1",
    }
    writer = LlmResponseWriter(BedrockChatModel(client, MODEL_ID), max_tokens=300, temperature=0.3)
    with registry.override(response_writer=writer):
        result = generate_response.handler({"review": review_event, "sentiment": sentiment}, lambda_context)
    assert result == {
        "response_text": "Hi Dana, thank you for reviewing the Aurora Kettle.",
        "model_id": MODEL_ID,
        "prompt_version": "response/v1",
        "usage": {"input_tokens": 120, "output_tokens": 12},
        "language": None,  # a model is asked for the review's language; only a template knows its own
    }
    lines = log_lines()
    generated = next(line for line in lines if line["message"] == "response generated")
    assert (generated["model_id"], generated["prompt_version"]) == (MODEL_ID, "response/v1")
    assert "UNIQUE-REVIEW-MARKER" not in json.dumps(lines)
    assert "thank you for reviewing" not in json.dumps(lines)


def test_both_handlers_run_offline_with_the_local_provider(runtime_env, review_event, lambda_context):
    runtime_env.setenv("REVIEWFLOW_LLM_PROVIDER", "local")
    registry.reset()
    review_event["review_text"] = (
        "The kettle broke after a week and the lid squeaks terribly. UNIQUE-REVIEW-MARKER"
    )
    try:
        sentiment = detect_sentiment.handler({"review": review_event}, lambda_context)
        assert sentiment["model_id"] == "local/vader-3.3.2"
        assert sentiment["prompt_version"] == "none"
        assert sentiment["sentiment"] == "NEGATIVE"
        assert sentiment["reason"].startswith("VADER lexicon scores: compound -0.751")
        response = generate_response.handler({"review": review_event, "sentiment": sentiment}, lambda_context)
        assert response["model_id"] == "local/template-responder"
        assert response["prompt_version"] == "template/v2"
        assert response["response_text"] == (
            "Hi Dana, we are sorry about the trouble you had with Aurora Kettle. Please reach out to our "
            "customer support team so they can look into what happened."
        )
        assert "UNIQUE-REVIEW-MARKER" not in response["response_text"]
    finally:
        registry.reset()


def test_bedrock_provider_without_a_model_id_is_a_configuration_error(
    runtime_env, review_event, lambda_context
):
    runtime_env.setenv("REVIEWFLOW_LLM_PROVIDER", "bedrock")
    registry.reset()
    try:
        with pytest.raises(ConfigurationError, match="REVIEWFLOW_MODEL_ID"):
            detect_sentiment.handler({"review": review_event}, lambda_context)
    finally:
        registry.reset()


@pytest.mark.parametrize(
    ("module", "event"),
    [
        (detect_sentiment, {"review": {"review_id": "rev-42", "review_text": REVIEW_TEXT}}),
        (
            detect_sentiment,
            {"review": {"review_id": "bad id!", "product_id": "p", "review_text": REVIEW_TEXT}},
        ),
        (generate_response, {"review": {"review_id": "r", "product_id": "p", "review_text": REVIEW_TEXT}}),
        (generate_response, "not an object"),
    ],
)
def test_invalid_input_fails_without_echoing_the_text(module, event, lambda_context):
    with pytest.raises(InvalidInputError) as caught:
        module.handler(event, lambda_context)
    assert "UNIQUE-REVIEW-MARKER" not in str(caught.value)
    assert caught.value.__cause__ is None and caught.value.__suppress_context__


def test_importing_the_handlers_loads_no_sdk_and_reads_no_settings():
    probe = (
        "import sys\n"
        "import reviewflow.handlers.detect_sentiment, reviewflow.handlers.generate_response\n"
        "from reviewflow.config import get_settings\n"
        "heavy = ('boto3', 'botocore', 'aws_lambda_powertools', 'vaderSentiment')\n"
        "heavy = [m for m in heavy if m in sys.modules]\n"
        "print(heavy, get_settings.cache_info().currsize)\n"
    )
    completed = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=ROOT / "functions",
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert completed.stdout.strip() == "[] 0"
