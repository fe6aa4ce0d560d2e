"""Every bad input ends as an invalid_review outcome naming its field, and nothing it contains is
echoed (the workflow tier posts the same corpus through the local bus)."""

from __future__ import annotations

import json

import pytest

from reviewflow.domain.outcomes import build_outcome
from reviewflow.domain.validation import validate_review
from reviewflow.models.steps import OutcomeRequest
from tests.corpus.bad_inputs import CASES, BadInput

EXECUTION = "arn:aws:states:us-east-1:123456789012:execution:reviewflow:run-1"


def test_corpus_is_large_enough() -> None:
    assert len(CASES) >= 40


@pytest.mark.parametrize("case", [c for c in CASES if c.expect == "invalid"], ids=lambda c: c.name)
def test_bad_input_becomes_invalid_review(case: BadInput) -> None:
    event = {"id": "0d2b8f4e-1111-2222-3333-444455556666", "detail": case.detail}
    validation = validate_review(event, EXECUTION, ledger_ttl_days=1)
    assert not validation.valid
    state = {
        "validation": validation.model_dump(mode="json"),
        "result": {"outcome": "failed", "reason": "invalid_review", "step": "ValidateReview"},
    }
    outcome = build_outcome(OutcomeRequest.model_validate({"execution_id": EXECUTION, "state": state}))
    detail = outcome.detail
    assert outcome.detail_type.value == "RESPONSE_GENERATION_FAILED"
    assert detail["reason"] == "invalid_review"
    assert case.field in {e["field"].split(".")[0] for e in detail["errors"]}
    assert detail["message"].startswith("invalid review:")
    published = json.dumps(detail)
    assert len(published) < 8_000
    assert "<script>" not in published and "aaaaaaaaaaaaaaaa" not in published
