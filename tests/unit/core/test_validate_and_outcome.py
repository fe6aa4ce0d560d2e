"""validate_review and build_outcome: the first and last Lambda steps of the workflow."""

from __future__ import annotations

import json

import pytest

from reviewflow.contracts import OutcomeType
from reviewflow.domain.outcomes import build_outcome
from reviewflow.domain.validation import dedup_key, validate_review
from reviewflow.handlers import build_outcome as build_outcome_handler
from reviewflow.handlers import validate_review as validate_handler
from reviewflow.models.events import ReviewPosted
from reviewflow.models.steps import OutcomeRequest

EXECUTION = "arn:aws:states:us-east-1:123456789012:execution:reviewflow:abc-123"
REVIEW = {"review_id": "r-1", "product_id": "p-1", "review_text": "Lovely kettle.", "rating": 5}


def event(detail: object, event_id: str = "6a7e8feb-b491-4cf7-a9f1-bf3703467718") -> dict:
    return {
        "version": "0",
        "id": event_id,
        "detail-type": "NEW_REVIEW_POSTED",
        "source": "reviews.storefront",
        "account": "123456789012",
        "time": "2026-11-23T10:00:00Z",
        "region": "us-east-1",
        "resources": [],
        "detail": detail,
    }


def test_valid_review_is_returned_normalised_with_a_ledger_expiry() -> None:
    result = validate_review(event(REVIEW), EXECUTION, ledger_ttl_days=30, now=1_000)
    assert result.valid
    assert result.review == ReviewPosted.model_validate(REVIEW)
    assert result.review_id == "r-1"
    assert result.ledger_expires_at == 1_000 + 30 * 86_400


@pytest.mark.parametrize(
    ("detail", "key"),
    [
        ({"review_id": "r-9", "review_text": ""}, "r-9"),  # invalid, but its id still de-duplicates
        ({"review_id": "../x"}, "event:6a7e8feb-b491-4cf7-a9f1-bf3703467718"),
        (["not", "an", "object"], "event:6a7e8feb-b491-4cf7-a9f1-bf3703467718"),
        ("a string", "event:6a7e8feb-b491-4cf7-a9f1-bf3703467718"),
    ],
)
def test_dedup_key_prefers_a_readable_review_id(detail: object, key: str) -> None:
    assert dedup_key(event(detail), EXECUTION) == key


def test_dedup_key_falls_back_to_the_execution() -> None:
    assert dedup_key({"detail": None, "id": "bad id with spaces"}, EXECUTION) == "execution:abc-123"


@pytest.mark.parametrize("detail", [["a"], "text", 42, None])
def test_detail_that_is_not_an_object_is_invalid(detail: object) -> None:
    result = validate_review(event(detail), EXECUTION, ledger_ttl_days=1)
    assert not result.valid
    assert [e.field for e in result.errors] == ["detail"]
    assert "must be a JSON object" in (result.message or "")


def test_validate_handler_runs_as_lambda(lambda_context, runtime_env) -> None:
    runtime_env.setenv("REVIEWFLOW_LEDGER_TTL_DAYS", "2")
    bad = dict(REVIEW, rating=9, extra="x")
    out = validate_handler.handler({"event": event(bad), "execution_id": EXECUTION}, lambda_context)
    assert out["valid"] is False
    assert out["review_id"] == "r-1"
    assert out["product_id"] == "p-1"
    assert {e["field"] for e in out["errors"]} == {"rating", "extra"}
    assert out["review"] is None
    json.dumps(out)  # what Step Functions receives must be plain JSON


# ----------------------------------------------------------------------------- build_outcome

TOX_LOW = {
    "score": 0.05,
    "labels": {"PROFANITY": 0.05},
    "scorable": True,
    "provider": "local",
    "segments": 1,
    "calls": 1,
}
TOX_MID = dict(TOX_LOW, score=0.5)
SENTIMENT = {
    "sentiment": "POSITIVE",
    "reason": "praise",
    "model_id": "m",
    "prompt_version": "sentiment/v1",
    "usage": {"input_tokens": 10, "output_tokens": 5},
    "attempts": 1,
}
RESPONSE = {"response_text": "Thank you!", "model_id": "m", "prompt_version": "response/v1"}


def check(text: str, toxicity: dict, verdict: str = "publish", **extra: object) -> dict:
    """A ReplyCheck as CheckDraftReply / PublishGate return it."""
    band = "safe" if toxicity["score"] < 0.4 else "uncertain"
    return {
        "text": text,
        "toxicity": toxicity,
        "band": band,
        "policy_version": "reply/v1",
        "verdict": verdict,
        **extra,
    }


def state(result: dict, **extra: object) -> dict:
    validation = validate_review(event(REVIEW), EXECUTION, ledger_ttl_days=1).model_dump(mode="json")
    return {"validation": validation, "settings": {"low": 0.4}, "result": result, **extra}


def decision(stage: str, verdict: str, **extra: object) -> dict:
    return {
        "approval_id": "ap-1",
        "stage": stage,
        "decision": verdict,
        "reviewer": "Sam",
        "comment": "ok",
        "decided_at": "2026-11-23T11:00:00Z",
        **extra,
    }


def outcome(state_: dict):
    return build_outcome(OutcomeRequest.model_validate({"execution_id": EXECUTION, "state": state_}))


def test_created_automatically() -> None:
    out = outcome(
        state(
            {"outcome": "created"},
            review_toxicity=TOX_LOW,
            sentiment=SENTIMENT,
            response=RESPONSE,
            draft_check=check("Thank you!", TOX_LOW),
            reply_check=check("Thank you!", TOX_LOW),
        )
    )
    assert out.detail_type is OutcomeType.RESPONSE_CREATED
    d = out.detail
    assert d["decided_by"] == "auto"
    assert d["response_text"] == "Thank you!"
    assert d["sentiment"] == {k: SENTIMENT[k] for k in ("sentiment", "reason", "model_id", "prompt_version")}
    assert d["prompt_version"] == "response/v1"
    assert d["execution_id"] == EXECUTION
    assert d["human_decisions"] == []


def test_created_after_an_edited_approval_publishes_the_edit() -> None:
    approved = decision("RESPONSE", "APPROVED", response_edited=True, edited_response_text="Thanks, Ana!")
    out = outcome(
        state(
            {"outcome": "created"},
            review_toxicity=TOX_LOW,
            sentiment=SENTIMENT,
            response=RESPONSE,
            draft_check=check("Thank you!", TOX_MID, verdict="ask_person"),
            response_decision=approved,
            reply_check=check("Thanks, Ana!", TOX_LOW, rescored=True),
        )
    )
    assert out.detail["response_text"] == "Thanks, Ana!"
    assert out.detail["decided_by"] == "reviewer"
    assert out.detail["human_decisions"][0]["response_edited"] is True
    assert "edited_response_text" not in out.detail["human_decisions"][0]


def test_harmful_by_reviewer_rejection() -> None:
    out = outcome(
        state({"outcome": "harmful"}, review_toxicity=TOX_MID, review_decision=decision("REVIEW", "REJECTED"))
    )
    assert out.detail_type is OutcomeType.HARMFUL_CONTENT
    assert out.detail["decided_by"] == "reviewer"
    assert out.detail["human_decisions"][0]["stage"] == "REVIEW"


def test_invalid_review_lists_its_errors() -> None:
    s = state({"outcome": "failed", "reason": "invalid_review", "step": "ValidateReview"})
    s["validation"] = validate_review(event({"review_id": "r-2"}), EXECUTION, ledger_ttl_days=1).model_dump()
    out = outcome(s)
    assert out.detail_type is OutcomeType.GENERATION_FAILED
    assert out.detail["reason"] == "invalid_review"
    assert {e["field"] for e in out.detail["errors"]} == {"product_id", "review_text"}
    assert out.detail["message"].startswith("invalid review:")


def test_provider_failure_names_the_error_from_the_lambda_envelope() -> None:
    cause = json.dumps(
        {"errorType": "ProviderThrottledError", "errorMessage": "Bedrock throttled", "stackTrace": ["x"]}
    )
    out = outcome(
        state(
            {"outcome": "failed", "reason": "provider_error", "step": "GenerateResponse"},
            review_toxicity=TOX_LOW,
            sentiment=SENTIMENT,
            error={"Error": "ProviderThrottledError", "Cause": cause},
        )
    )
    assert out.detail["reason"] == "provider_error"
    assert out.detail["error_type"] == "ProviderThrottledError"
    assert out.detail["failed_step"] == "GenerateResponse"
    assert out.detail["message"] == "GenerateResponse failed with ProviderThrottledError: Bedrock throttled"
    assert "stackTrace" not in out.detail["message"]


def test_timed_out_and_rejected_replies_keep_the_draft() -> None:
    timed_out = outcome(
        state(
            {"outcome": "failed", "reason": "approval_timed_out", "step": "HumanReviewOfResponse"},
            review_toxicity=TOX_LOW,
            sentiment=SENTIMENT,
            response=RESPONSE,
            draft_check=check("Thank you!", TOX_MID, verdict="ask_person"),
            error={"Error": "States.Timeout"},
        )
    )
    assert timed_out.detail["reason"] == "approval_timed_out"
    assert timed_out.detail["response_text"] == "Thank you!"
    rejected = outcome(
        state(
            {"outcome": "failed", "reason": "response_rejected"},
            review_toxicity=TOX_LOW,
            response=RESPONSE,
            response_decision=decision("RESPONSE", "REJECTED"),
        )
    )
    assert rejected.detail["decided_by"] == "reviewer"


def test_build_outcome_handler_runs_as_lambda(lambda_context) -> None:
    out = build_outcome_handler.handler(
        {
            "execution_id": EXECUTION,
            "state": state({"outcome": "harmful"}, review_toxicity=dict(TOX_LOW, score=0.9)),
        },
        lambda_context,
    )
    assert out["detail_type"] == "HARMFUL_CONTENT_DETECTED"
    assert out["source"] == "reviews.response-pipeline"
    assert out["detail"]["review_toxicity"]["score"] == 0.9


def test_a_person_who_let_the_review_through_makes_the_outcome_reviewer_decided() -> None:
    out = outcome(
        state(
            {"outcome": "created"},
            review_toxicity=TOX_MID,
            review_decision=decision("REVIEW", "APPROVED"),
            sentiment=SENTIMENT,
            response=RESPONSE,
            draft_check=check("Thank you!", TOX_LOW),
            reply_check=check("Thank you!", TOX_LOW),
        )
    )
    assert out.detail["decided_by"] == "reviewer"
    assert out.detail["response_text"] == "Thank you!"


def test_no_person_asked_means_auto_even_when_the_approval_timed_out() -> None:
    out = outcome(
        state(
            {"outcome": "failed", "reason": "approval_timed_out", "step": "HumanReviewOfReview"},
            review_toxicity=TOX_MID,
            error={"Error": "States.Timeout"},
        )
    )
    assert out.detail["decided_by"] == "auto"
    assert out.detail["human_decisions"] == []


def test_the_published_text_and_its_score_are_the_gates_and_the_draft_keeps_its_own() -> None:
    approved = decision("RESPONSE", "APPROVED", response_edited=True, edited_response_text="Thanks, Ana!")
    out = outcome(
        state(
            {"outcome": "created"},
            review_toxicity=TOX_LOW,
            sentiment=SENTIMENT,
            response=RESPONSE,
            draft_check=check("Thank you!", TOX_MID, verdict="ask_person"),
            response_decision=approved,
            reply_check=check("Thanks, Ana!", dict(TOX_LOW, score=0.02), rescored=True),
        )
    )
    assert out.detail["response_toxicity"]["score"] == 0.02
    assert out.detail["draft_toxicity"]["score"] == 0.5
    assert out.detail["reply_check"] == {
        "policy_version": "reply/v1",
        "toxicity_band": "safe",
        "violations": [],
        "overridden": [],
        "rescored": True,
    }


@pytest.mark.parametrize("gate", [None, "refuse"], ids=["no-gate", "gate-refused"])
def test_a_created_outcome_needs_the_gates_clearance(gate) -> None:
    extra = {} if gate is None else {"reply_check": check("Thank you!", TOX_LOW, verdict=gate)}
    with pytest.raises(ValueError, match="publish gate"):
        outcome(state({"outcome": "created"}, review_toxicity=TOX_LOW, response=RESPONSE, **extra))


def test_a_cleared_gate_without_a_result_is_the_created_outcome() -> None:
    """GateVerdict goes straight to BuildOutcome (no Pass state records the result)."""
    cleared = state({}, review_toxicity=TOX_LOW, response=RESPONSE, reply_check=check("Thank you!", TOX_LOW))
    del cleared["result"]
    out = outcome(cleared)
    assert out.detail_type is OutcomeType.RESPONSE_CREATED
    assert out.detail["response_text"] == "Thank you!"


@pytest.mark.parametrize("gate", [None, "refuse", "ask_person"])
def test_without_a_result_nothing_but_a_cleared_gate_is_accepted(gate) -> None:
    extra = {} if gate is None else {"reply_check": check("Thank you!", TOX_LOW, verdict=gate)}
    incomplete = state({}, review_toxicity=TOX_LOW, response=RESPONSE, **extra)
    del incomplete["result"]
    with pytest.raises(ValueError):
        outcome(incomplete)
