"""The score_toxicity Lambda entry point, called as Lambda calls it: a dict event and a context."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator

import pytest

from reviewflow.errors import InvalidInputError, ProviderThrottledError
from reviewflow.handlers.score_toxicity import handler
from reviewflow.providers import registry
from reviewflow.providers.comprehend import ComprehendToxicity

REVIEW = "The kettle is fine but the seller never answered my emails. Secret-marker-7731."


@pytest.fixture
def log_lines() -> Iterator[list[str]]:
    """Every line the pipeline's logger writes, formatted exactly as Powertools formats it."""
    from reviewflow.observability import get_logger

    powertools = get_logger()
    lines: list[str] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            lines.append(self.format(record))

    collector = Collect()
    collector.setFormatter(powertools.registered_formatter)
    powertools.addHandler(collector)
    yield lines
    powertools.removeHandler(collector)


def test_handler_scores_the_review_with_the_configured_provider(
    comprehend, lambda_context, log_lines, capsys
) -> None:
    client, stubber = comprehend
    stubber.add_response(
        "detect_toxic_content",
        {
            "ResultList": [
                {
                    "Labels": [{"Name": "INSULT", "Score": 0.2}, {"Name": "PROFANITY", "Score": 0.05}],
                    "Toxicity": 0.23,
                }
            ]
        },
        expected_params={"TextSegments": [{"Text": REVIEW}], "LanguageCode": "en"},
    )

    with registry.override(toxicity_provider=ComprehendToxicity(client)):
        result = handler({"text": REVIEW, "language": "en", "stage": "REVIEW"}, lambda_context)

    assert result == {
        "score": 0.23,
        "labels": {"INSULT": 0.2, "PROFANITY": 0.05},
        "scorable": True,
        "provider": "comprehend",
        "segments": 1,
        "calls": 1,
        "note": None,
        "findings": [],
        "needs_person": False,
        "billed_units": {},
    }
    json.dumps(result)  # a Lambda result must be plain JSON
    scored = [json.loads(line) for line in log_lines if "toxicity scored" in line]
    assert len(scored) == 1
    assert scored[0]["stage"] == "REVIEW"
    assert (scored[0]["segments"], scored[0]["calls"], scored[0]["score"]) == (1, 1, 0.23)
    emitted = capsys.readouterr().out
    assert "ToxicityProviderCalls" in emitted  # the EMF metric blob
    assert "Secret-marker-7731" not in "\n".join(log_lines) + emitted


def test_handler_serves_the_response_stage_and_unscorable_languages(comprehend, lambda_context) -> None:
    client, _ = comprehend  # nothing queued: a call would fail the test

    with registry.override(toxicity_provider=ComprehendToxicity(client)):
        result = handler(
            {"text": "Danke für Ihre Bewertung!", "language": "de", "stage": "RESPONSE"}, lambda_context
        )

    assert result["scorable"] is False
    assert result["score"] is None
    assert result["note"] == "language 'de' is not supported by Comprehend toxicity detection"


def test_provider_errors_reach_lambda_with_their_type(comprehend, lambda_context) -> None:
    client, stubber = comprehend
    stubber.add_client_error(
        "detect_toxic_content", service_error_code="ThrottlingException", http_status_code=400
    )

    with (
        registry.override(toxicity_provider=ComprehendToxicity(client)),
        pytest.raises(ProviderThrottledError),
    ):
        handler({"text": REVIEW, "stage": "REVIEW"}, lambda_context)


@pytest.mark.parametrize(
    ("event", "fields"),
    [
        ({"text": "", "stage": "REVIEW"}, ["text"]),
        ({"text": "Secret-marker-7731 you idiot", "stage": "LATER"}, ["stage"]),
        ({"text": "Secret-marker-7731", "stage": "REVIEW", "extra": "x"}, ["extra"]),
        ({"stage": "REVIEW"}, ["text"]),
        ("Secret-marker-7731", ["detail"]),
    ],
)
def test_invalid_input_is_rejected_without_echoing_the_text(lambda_context, event, fields) -> None:
    with pytest.raises(InvalidInputError) as caught:
        handler(event, lambda_context)

    message = str(caught.value)
    assert message.startswith("invalid toxicity request: ")
    assert all(f"{field}:" in message for field in fields)
    assert "Secret-marker-7731" not in message


def test_local_provider_is_chosen_by_configuration(runtime_env, lambda_context) -> None:
    runtime_env.setenv("REVIEWFLOW_TOXICITY_PROVIDER", "local")
    registry.reset()
    try:
        abusive = handler(
            {"text": "I know where you live and I will find you.", "language": "en", "stage": "REVIEW"},
            lambda_context,
        )
        friendly = handler({"text": "Lovely kettle, thank you!", "stage": "RESPONSE"}, lambda_context)
    finally:
        registry.reset()

    assert abusive["provider"] == "local"
    assert abusive["score"] > 0.6
    assert abusive["labels"]["VIOLENCE_OR_THREAT"] == pytest.approx(0.92)
    assert friendly["score"] < 0.4
    assert (friendly["segments"], friendly["calls"]) == (1, 1)
