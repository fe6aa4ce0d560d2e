"""check_reply through its Lambda entry point, with the payloads the workflow sends it."""

from __future__ import annotations

from typing import Any

import pytest

from reviewflow.errors import InvalidInputError
from reviewflow.handlers import check_reply
from reviewflow.providers import registry

REVIEW = {"review_id": "r-1", "product_id": "p-1", "review_text": "Works well, quiet and fast."}
DRAFT = "Thank you for your review! We are glad the kettle works well for you."
SETTINGS = {"low": 0.4, "high": 0.6, "approval_timeout_seconds": 3600}


def review_toxicity(score: float = 0.05) -> dict[str, Any]:
    return {"score": score, "labels": {"PROFANITY": score}, "scorable": True, "provider": "local"}


@pytest.fixture
def local_provider(runtime_env):
    runtime_env.setenv("REVIEWFLOW_TOXICITY_PROVIDER", "local")
    registry.reset()
    yield
    registry.reset()


def draft_event(text: str = DRAFT) -> dict[str, Any]:
    return {
        "mode": "draft",
        "review": REVIEW,
        "review_toxicity": review_toxicity(),
        "response": {"response_text": text, "model_id": "local/template-responder", "prompt_version": "t/v2"},
        "bands": {"low": 0.4, "high": 0.6},
    }


def gate_event(draft_check: dict[str, Any], **state: Any) -> dict[str, Any]:
    base = {
        "validation": {"valid": True, "review_id": "r-1", "product_id": "p-1", "review": REVIEW},
        "settings": SETTINGS,
        "review_toxicity": review_toxicity(),
        "response": draft_event()["response"],
        "draft_check": draft_check,
        "sentiment": {"sentiment": "POSITIVE", "reason": "x", "model_id": "m", "prompt_version": "p"},
    }
    return {"mode": "publish", "state": base | state}


def test_a_clean_draft_is_cleared_and_passes_the_gate_with_the_real_offline_classifier(
    local_provider, lambda_context
):
    draft = check_reply.handler(draft_event(), lambda_context)
    assert draft["verdict"] == "publish" and draft["band"] == "safe"
    assert draft["policy_version"] == "reply/v1" and draft["toxicity"]["provider"] == "local"
    gate = check_reply.handler(gate_event(draft), lambda_context)
    assert gate["verdict"] == "publish" and gate["text"] == DRAFT and gate["rescored"] is False


def test_a_token_resumed_with_a_toxic_edit_does_not_pass_the_gate(local_provider, lambda_context):
    draft = check_reply.handler(draft_event(), lambda_context) | {"verdict": "ask_person"}
    forged = {
        "approval_id": "not-from-the-page",
        "stage": "RESPONSE",
        "decision": "APPROVED",
        "decided_at": "2026-12-02T10:00:00Z",
        "response_edited": True,
        "edited_response_text": "You are a fucking idiot and this shit review is worthless.",
    }
    gate = check_reply.handler(gate_event(draft, response_decision=forged), lambda_context)
    assert gate["verdict"] == "refuse" and gate["reason"] == "response_toxic"
    assert gate["rescored"] is True and gate["toxicity"]["score"] > 0.6


def test_a_malformed_resumption_is_invalid_input_not_a_publish(local_provider, lambda_context):
    draft = check_reply.handler(draft_event(), lambda_context)
    with pytest.raises(InvalidInputError) as caught:
        check_reply.handler(gate_event(draft, response_decision={"decision": "APPROVED"}), lambda_context)
    assert "approval_id" in str(caught.value)
