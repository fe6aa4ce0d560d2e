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
    PublishCheck,
    ResponseCreated,
    ResponseGenerationFailed,
    SentimentSummary,
)
from reviewflow.models.replies import ReplyCheck
from reviewflow.models.steps import OutcomeRequest, TaskDecision, TaskErrorInfo, WorkflowState

_REASON_MESSAGES = {
    FailureReason.RESPONSE_TOXIC: "the generated reply scored above the harmful threshold",
    FailureReason.RESPONSE_REJECTED: "a reviewer rejected the generated reply",
    FailureReason.APPROVAL_TIMED_OUT: "no reviewer decided before the approval deadline",
    FailureReason.RESPONSE_POLICY_VIOLATION: (
        "the reply breaks a reply-policy rule that no reviewer published over with a reason"
    ),
    FailureReason.RESPONSE_UNREVIEWED: "the reply needed a reviewer's approval and had none",
    FailureReason.NEW_DRAFT_REFUSED: (
        "a new draft was requested past the configured number of rounds or without guidance"
    ),
}


def _publish_check(check: ReplyCheck | None) -> PublishCheck | None:
    if check is None:
        return None
    return PublishCheck(
        policy_version=check.policy_version,
        toxicity_band=check.band,
        violations=[violation.rule for violation in check.violations],
        overridden=check.overridden,
        rescored=check.rescored,
    )


def _human(decision: TaskDecision | None) -> HumanDecision | None:
    if decision is None:
        return None
    return HumanDecision.model_validate(decision.model_dump(exclude={"edited_response_text"}))


def _decisions(state: WorkflowState) -> list[HumanDecision]:
    """Every decision a person made, in order: the review's, each new-draft request, the last one.

    The latest response decision is also the newest recorded round when the execution ended right
    after recording it (a regenerated draft refused as harmful): it is listed once.
    """
    rounds = state.draft.rounds() if state.draft is not None else []
    decisions: list[TaskDecision | None] = [state.review_decision, *(entry.decision for entry in rounds)]
    recorded = {entry.decision.approval_id for entry in rounds}
    last = state.response_decision
    if last is not None and last.approval_id not in recorded:
        decisions.append(last)
    return [human for human in map(_human, decisions) if human is not None]


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


def _common(request: OutcomeRequest, decisions: list[HumanDecision]) -> dict[str, Any]:
    """The fields every outcome shares, from what the execution reached."""
    state = request.state
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
        "human_decisions": decisions,
        "draft_rounds": [entry.as_draft_round() for entry in state.draft.rounds()] if state.draft else [],
    }
    # The last check of a reply text is the one that speaks for it: the gate's, else the draft's.
    last_check = state.reply_check or state.draft_check
    if last_check is not None:
        common |= {"response_toxicity": last_check.toxicity, "reply_check": _publish_check(last_check)}
    if state.draft_check is not None:
        common["draft_toxicity"] = state.draft_check.toxicity
    if state.response is not None:
        common |= {"model_id": state.response.model_id, "prompt_version": state.response.prompt_version}
    return common


def _failure(state: WorkflowState, common: dict[str, Any]) -> ResponseGenerationFailed:
    result = state.result
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
    # The generated draft, never a refused edit: a text the gate refused does not go on the bus.
    draft = state.response.response_text if state.response is not None else None
    return ResponseGenerationFailed(
        **common,
        response_text=draft,
        reason=reason,
        message=message,
        failed_step=result.step,
        error_type=error_type,
        errors=errors,
    )


def build_outcome(request: OutcomeRequest) -> OutcomeEvent:
    state: WorkflowState = request.state
    decisions = _decisions(state)
    decided_by: Literal["auto", "reviewer"] = "reviewer" if decisions else "auto"
    common = _common(request, decisions) | {"decided_by": decided_by}
    detail: OutcomeDetail
    if state.result.outcome == "created":
        check = state.reply_check
        if state.response is None or check is None or check.verdict != "publish":
            raise ValueError("a created outcome needs a reply the publish gate cleared")
        # Exactly the text the gate checked in this execution, never a text it did not see.
        detail = ResponseCreated(**common, response_text=check.text)
    elif state.result.outcome == "harmful":
        detail = HarmfulContentDetected(**common)
    else:
        detail = _failure(state, common)
    return OutcomeEvent.of(detail)
