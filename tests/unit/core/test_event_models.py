"""Field rules of the NEW_REVIEW_POSTED detail (architecture.md §2) and the safety of error reports."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from reviewflow.models.events import (
    MAX_REVIEW_CHARS,
    OutcomeEvent,
    OutcomeType,
    ResponseCreated,
    ResponseGenerationFailed,
    ReviewPosted,
    describe_errors,
    summarize_errors,
)

VALID = {"review_id": "r-1", "product_id": "p.1", "review_text": "Works well."}


def with_(**changes: object) -> dict[str, object]:
    detail = dict(VALID)
    for key, value in changes.items():
        if value is ...:
            detail.pop(key)
        else:
            detail[key] = value
    return detail


def test_minimal_review_gets_defaults() -> None:
    review = ReviewPosted.model_validate(VALID)
    assert review.language == "en"
    assert review.rating is None


def test_full_review_round_trips() -> None:
    detail = with_(
        rating=5,
        product_name="Kettle",
        reviewer_name="Ana",
        language="de",
        posted_at="2026-11-23T10:00:00Z",
        review_id="A" * 128,
        product_id="sku:12_3.x-y",
        review_text="x" * MAX_REVIEW_CHARS,
    )
    assert ReviewPosted.model_validate(detail).model_dump(exclude_none=True) == detail


MALFORMED = {
    "missing review_id": (with_(review_id=...), "review_id", "missing"),
    "missing product_id": (with_(product_id=...), "product_id", "missing"),
    "missing review_text": (with_(review_text=...), "review_text", "missing"),
    "empty review_id": (with_(review_id=""), "review_id", "value_error"),
    "review_id 129 chars": (with_(review_id="a" * 129), "review_id", "value_error"),
    "review_id with slash": (with_(review_id="../etc/passwd"), "review_id", "value_error"),
    "review_id with space": (with_(review_id="r 1"), "review_id", "value_error"),
    "review_id is a number": (with_(review_id=12), "review_id", "string_type"),
    "product_id unicode": (with_(product_id="prodüct"), "product_id", "value_error"),
    "empty text": (with_(review_text=""), "review_text", "value_error"),
    "whitespace text": (with_(review_text=" \n\t "), "review_text", "value_error"),
    "text too long": (with_(review_text="a" * (MAX_REVIEW_CHARS + 1)), "review_text", "value_error"),
    "text with NUL": (with_(review_text="bad\x00byte"), "review_text", "value_error"),
    "text with escape": (with_(review_text="ansi \x1b[31m red"), "review_text", "value_error"),
    "text lone surrogate": (with_(review_text="half \ud800 pair"), "review_text", "value_error"),
    "text is a list": (with_(review_text=["a"]), "review_text", "string_type"),
    "rating 0": (with_(rating=0), "rating", "greater_than_equal"),
    "rating 6": (with_(rating=6), "rating", "less_than_equal"),
    "rating string": (with_(rating="5"), "rating", "int_type"),
    "rating float": (with_(rating=4.5), "rating", "int_type"),
    "rating bool": (with_(rating=True), "rating", "int_type"),
    "product_name too long": (with_(product_name="n" * 201), "product_name", "string_too_long"),
    "reviewer_name control": (with_(reviewer_name="a\x07b"), "reviewer_name", "value_error"),
    "unknown language": (with_(language="xx"), "language", "value_error"),
    "language upper case": (with_(language="EN"), "language", "value_error"),
    "language three letters": (with_(language="eng"), "language", "value_error"),
    "posted_at not a date": (with_(posted_at="yesterday"), "posted_at", "value_error"),
    "extra field": (with_(admin=True), "admin", "extra_forbidden"),
}


@pytest.mark.parametrize(("detail", "field", "error_type"), MALFORMED.values(), ids=MALFORMED.keys())
def test_malformed_detail_is_rejected_with_its_field(detail: dict, field: str, error_type: str) -> None:
    with pytest.raises(ValidationError) as caught:
        ReviewPosted.model_validate(detail)
    errors = describe_errors(caught.value)
    assert (field, error_type) in {(e.field, e.type) for e in errors}


def test_error_report_never_echoes_the_rejected_value() -> None:
    secret_payload = "<script>alert(1)</script>" + "A" * 30_000
    with pytest.raises(ValidationError) as caught:
        ReviewPosted.model_validate(with_(review_text=secret_payload, review_id=secret_payload))
    errors = describe_errors(caught.value)
    message = summarize_errors(errors, caught.value.error_count())
    assert "<script>" not in message
    assert "AAAA" not in message
    assert len(message) <= 1_000
    assert {e.field for e in errors} == {"review_id", "review_text"}


def test_all_errors_are_listed_and_the_message_is_bounded() -> None:
    bad = {f"extra_{i}": i for i in range(40)}
    with pytest.raises(ValidationError) as caught:
        ReviewPosted.model_validate(bad)
    errors = describe_errors(caught.value)
    assert len(errors) == 25  # capped, the rest counted in the message
    message = summarize_errors(errors, caught.value.error_count())
    assert message.endswith("more") or len(message) == 1_000


def test_outcome_event_carries_its_detail_type_and_drops_empty_fields() -> None:
    created = ResponseCreated(
        review_id="r-1",
        product_id="p-1",
        execution_id="arn:x",
        decided_by="auto",
        response_text="Thanks!",
        model_id="m",
        prompt_version="response/v1",
    )
    event = OutcomeEvent.of(created)
    assert event.detail_type is OutcomeType.RESPONSE_CREATED
    assert event.source == "reviews.response-pipeline"
    assert "sentiment" not in event.detail
    assert event.parsed_detail() == created


def test_failure_outcome_requires_a_known_reason() -> None:
    with pytest.raises(ValidationError):
        ResponseGenerationFailed(
            review_id="r", execution_id="e", decided_by="auto", reason="because", message="m"
        )
