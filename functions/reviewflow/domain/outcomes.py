"""Assemble the one outcome event of an execution from what the workflow gathered.

``decided_by`` is ``reviewer`` whenever a person decided at either stage (a review a person let
through is answered on that person's say-so, even if its reply then passed on its own), and
``auto`` when no person was asked.
"""

from __future__ import annotations

import json
from typing import Any, Literal

from reviewflow.models.events import (
    MAX_MESSAGE_CHARS,
    FailureReason,
    HarmfulContentDetected,
    HumanDecision,
    OutcomeDetail,
    OutcomeEvent,
    ResponseCreated,
    ResponseGenerationFailed,
    SentimentSummary,
)
from reviewflow.models.steps import OutcomeRequest, TaskDecision, TaskErrorInfo, WorkflowState

_REASON_MESSAGES = {
    FailureReason.RESPONSE_TOXIC: "the generated reply scored above the harmful threshold",
    FailureReason.RESPONSE_REJECTED: "a reviewer rejected the generated reply",
    FailureReason.APPROVAL_TIMED_OUT: "no reviewer decided before the approval deadline",
}


def _human(decision: TaskDecision | None) -> HumanDecision | None:
    if decision is None:
        return None
    return HumanDecision.model_validate(decision.model_dump(exclude={"edited_response_text"}))


def describe_task_error(error: TaskErrorInfo | None, step: str | None) -> tuple[str | None, str]:
    """(error type, safe message) from a Catch payload; Lambda puts its envelope in ``Cause``."""
    if error is None:
        return None, f"{step or 'a step'} failed"
    error_type, detail = error.Error, ""
    if error.Cause:
        try:
            cause = json.loads(error.Cause)
        except ValueError:
            cause = None
        if isinstance(cause, dict):
            error_type = str(cause.get("errorType") or error_type)
            detail = str(cause.get("errorMessage") or "")
    message = f"{step or 'a step'} failed with {error_type}"
    if detail:
        message += f": {detail}"
    return error_type, message[:MAX_MESSAGE_CHARS]


def build_outcome(request: OutcomeRequest) -> OutcomeEvent:
    state: WorkflowState = request.state
    result = state.result
    decisions = [d for d in (_human(state.review_decision), _human(state.response_decision)) if d]
    decided_by: Literal["auto", "reviewer"] = "reviewer" if decisions else "auto"
    sentiment = None
    if state.sentiment is not None:
        fields = set(SentimentSummary.model_fields)
        sentiment = SentimentSummary.model_validate(state.sentiment.model_dump(include=fields))
    common: dict[str, Any] = {
        "review_id": state.validation.review_id,
        "product_id": state.validation.product_id,
        "execution_id": request.execution_id,
        "review_toxicity": state.review_toxicity,
        "sentiment": sentiment,
        "response_toxicity": state.response_toxicity,
        "human_decisions": decisions,
    }
    if state.response is not None:
        common |= {"model_id": state.response.model_id, "prompt_version": state.response.prompt_version}

    detail: OutcomeDetail
    if result.outcome == "created":
        if state.response is None:
            raise ValueError("a created outcome needs a generated response")
        text = state.response.response_text
        final = state.response_decision
        if final is not None and final.response_edited and final.edited_response_text:
            text = final.edited_response_text
        detail = ResponseCreated(**common, response_text=text, decided_by=decided_by)
    elif result.outcome == "harmful":
        detail = HarmfulContentDetected(**common, decided_by=decided_by)
    else:
        reason = FailureReason(result.reason or FailureReason.INTERNAL_ERROR)
        error_type = None
        errors = []
        if reason == FailureReason.INVALID_REVIEW:
            message = state.validation.message or "invalid review"
            errors = state.validation.errors
        elif reason in _REASON_MESSAGES:
            message = _REASON_MESSAGES[reason]
        else:
            error_type, message = describe_task_error(state.error, result.step)
        if result.message:
            message = result.message[:MAX_MESSAGE_CHARS]
        draft = state.response.response_text if state.response is not None else None
        detail = ResponseGenerationFailed(
            **common,
            response_text=draft,
            decided_by=decided_by,
            reason=reason,
            message=message,
            failed_step=result.step,
            error_type=error_type,
            errors=errors,
        )
    return OutcomeEvent.of(detail)
