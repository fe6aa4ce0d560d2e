"""Payloads between the workflow and its Lambda functions.

The state machine (``statemachines/review_response.asl.json``) builds each request with
``Parameters`` and stores each result under its own ``ResultPath``; these models are the two
sides of that contract and the ASL tests check both.
"""

from __future__ import annotations

from typing import Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from reviewflow.errors import InvalidInputError
from reviewflow.models.events import (
    MAX_NAME_CHARS,
    Decision,
    DraftRound,
    FieldError,
    HumanDecision,
    ReviewPosted,
    Sentiment,
    SentimentSummary,
    Stage,
    ToxicityScore,
    describe_errors,
    summarize_errors,
)
from reviewflow.models.replies import Bands, PolicyViolation, ReplyCheck

_Model = TypeVar("_Model", bound=BaseModel)

# The guidance of a "request a new draft" decision: the same bound as HumanDecision.guidance.
MAX_GUIDANCE_CHARS = 1_000


def parse_step_input(model: type[_Model], payload: Any, *, subject: str) -> _Model:
    """The handler's input, or ``InvalidInputError`` naming the bad fields.

    ``from None`` and ``describe_errors`` keep the rejected values out of the error: payloads
    carry review text and task tokens, and the error message lands in the execution history.
    """
    try:
        return model.model_validate(payload)
    except ValidationError as exc:
        errors = describe_errors(exc)
        raise InvalidInputError(summarize_errors(errors, exc.error_count(), subject=subject)) from None


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


# ------------------------------------------------------------------ ValidateReview


class ValidationResult(_Strict):
    """Output of ``validate_review``. ``review_id`` is the de-duplication key: the review id
    when it can be read, else ``event:<EventBridge event id>``."""

    valid: bool
    review_id: str
    product_id: str | None = None
    review: ReviewPosted | None = None
    errors: list[FieldError] = Field(default_factory=list)
    message: str | None = None
    # Epoch seconds after which the de-duplication claim on review_id may be forgotten (TTL).
    ledger_expires_at: int = 0


class ValidateRequest(BaseModel):
    """Input of ``validate_review``: the EventBridge event as the rule delivered it."""

    model_config = ConfigDict(extra="forbid")

    event: Any
    execution_id: str = ""


# ------------------------------------------------------------------ ScoreToxicity


class ToxicityRequest(_Strict):
    text: str = Field(min_length=1)
    language: str = "en"
    stage: Stage


# ToxicityScore (events.py) is the response.


# ------------------------------------------------------------------ DetectSentiment / GenerateResponse


class TokenUsage(_Strict):
    input_tokens: int = Field(default=0, ge=0)
    output_tokens: int = Field(default=0, ge=0)


class SentimentRequest(_Strict):
    review: ReviewPosted


class SentimentResult(SentimentSummary):
    usage: TokenUsage = Field(default_factory=TokenUsage)
    attempts: int = Field(default=1, ge=1)


class ResponseRequest(_Strict):
    review: ReviewPosted
    sentiment: SentimentResult
    # RegenerateResponse: the staff guidance of a "request a new draft" decision (trusted, but
    # sanitised before it reaches a prompt) and the round it opens (1 = the first new draft).
    guidance: str | None = Field(default=None, max_length=1_000)
    round: int = Field(default=0, ge=0)

    @model_validator(mode="after")
    def _a_new_draft_has_guidance(self) -> ResponseRequest:
        if self.round > 0 and not (self.guidance and self.guidance.strip()):
            raise ValueError("a new draft (round > 0) needs the reviewer's guidance")
        return self


class GeneratedResponse(_Strict):
    response_text: str = Field(min_length=1)
    model_id: str
    prompt_version: str
    usage: TokenUsage = Field(default_factory=TokenUsage)
    # The language the writer wrote in, when it knows (the template responder does; a model is
    # asked for the review's language). A reply not in the review's language goes to a person.
    language: str | None = None


# ------------------------------------------------------------------ HumanReview


class DraftHistory(BaseModel):
    """The workflow's record of the "request a new draft" rounds, as its ``RecordDraftRound`` Pass
    state builds it: the newest round, linking to the ones before (``earlier``).

    Step Functions' JSONPath cannot append to a list, so each round wraps the previous record
    instead; :func:`draft_rounds_of` reads it back oldest first. Only bounded fields are kept
    (no second copy of the review or the checked text) to stay far below the 256 KB payload limit.
    """

    model_config = ConfigDict(extra="forbid")

    round: int = Field(ge=1)
    decision: TaskDecision
    response_text: str
    model_id: str
    prompt_version: str
    toxicity: ToxicityScore
    violations: list[PolicyViolation] = Field(default_factory=list)
    earlier: DraftHistory | None = None

    def rounds(self) -> list[DraftHistory]:
        """Every round of this record, oldest first."""
        found: list[DraftHistory] = []
        entry: DraftHistory | None = self
        while entry is not None:
            found.append(entry)
            entry = entry.earlier
        return found[::-1]

    def as_draft_round(self) -> DraftRound:
        decision = self.decision
        return DraftRound(
            round=self.round,
            guidance=decision.guidance or "",
            requested_by=decision.reviewer_id if decision.reviewer_verified else None,
            requested_at=decision.decided_at,
            approval_id=decision.approval_id,
            response_text=self.response_text,
            response_toxicity=self.toxicity,
            policy_violations=[violation.rule for violation in self.violations],
            model_id=self.model_id,
            prompt_version=self.prompt_version,
        )


class DraftState(BaseModel):
    """``$.draft``: the round of the current draft (0 = the first) and the rounds so far."""

    model_config = ConfigDict(extra="forbid")

    round: int = Field(default=0, ge=0)
    history: DraftHistory | None = None

    def rounds(self) -> list[DraftHistory]:
        return self.history.rounds() if self.history is not None else []


def draft_rounds_of(value: Any) -> Any:
    """A ``DraftHistory`` as the workflow passes it (or ``None``) -> the list of ``DraftRound``;
    a list is left as it is."""
    if value is None:
        return []
    if isinstance(value, dict):
        return [entry.as_draft_round() for entry in DraftHistory.model_validate(value).rounds()]
    return value


class ApprovalRequest(_Strict):
    """Input of ``request_approval`` (a ``.waitForTaskToken`` task)."""

    task_token: str = Field(min_length=1)
    stage: Stage
    execution_id: str
    timeout_seconds: int = Field(ge=60)
    review: ReviewPosted
    review_toxicity: ToxicityScore
    sentiment: SentimentResult | None = None
    response: GeneratedResponse | None = None
    response_toxicity: ToxicityScore | None = None
    # RESPONSE stage: what the draft check found, and the bands an edit is checked against.
    policy_violations: list[PolicyViolation] = Field(default_factory=list)
    policy_version: str | None = None
    bands: Bands | None = None
    # RESPONSE stage, "request a new draft": this draft's round (0 = first), the configured limit
    # (no new-draft button once round == max_rounds) and the earlier rounds, for the page.
    round: int = Field(default=0, ge=0)
    max_rounds: int = Field(default=0, ge=0)
    draft_rounds: list[DraftRound] = Field(default_factory=list)

    @field_validator("draft_rounds", mode="before")
    @classmethod
    def _rounds_from_the_workflow(cls, value: Any) -> Any:
        # The ASL passes its linked ``$.draft.history`` (null before the first new draft).
        return draft_rounds_of(value)


class ApprovalTicket(_Strict):
    approval_id: str
    expires_at: str


class DecisionForm(_Strict):
    """What a reviewer submits on the approval page."""

    decision: Decision
    reviewer: str | None = Field(default=None, max_length=MAX_NAME_CHARS)
    comment: str | None = Field(default=None, max_length=2_000)
    edited_response_text: str | None = Field(default=None, max_length=4_000)
    policy_override_reason: str | None = Field(default=None, max_length=1_000)
    # "Request a new draft" (RESPONSE stage): required with that decision (``forms.audit_of``).
    guidance: str | None = Field(default=None, max_length=MAX_GUIDANCE_CHARS)


class TaskDecision(HumanDecision):
    """Sent with ``SendTaskSuccess``; lands at ``$.review_decision`` or ``$.response_decision``."""

    edited_response_text: str | None = None


# ------------------------------------------------------------------ CheckDraftReply / PublishGate


class ReplyCheckRequest(_Strict):
    """The publish gate's domain input: the draft as generated, or the reply about to be published."""

    mode: Literal["draft", "publish"]
    review: ReviewPosted
    review_toxicity: ToxicityScore
    response: GeneratedResponse
    bands: Bands
    draft_check: ReplyCheck | None = None  # publish mode: what the draft check found
    decision: TaskDecision | None = None  # publish mode, after a person decided at the RESPONSE stage

    @model_validator(mode="after")
    def _publish_needs_the_draft_check(self) -> ReplyCheckRequest:
        if self.mode == "publish" and self.draft_check is None:
            raise ValueError("publish mode needs the draft check of this execution")
        return self


class _GateState(BaseModel):
    """The parts of the workflow state the gate reads; a person's decision may be absent."""

    model_config = ConfigDict(extra="ignore")

    validation: ValidationResult
    settings: Bands
    review_toxicity: ToxicityScore
    response: GeneratedResponse
    draft_check: ReplyCheck
    response_decision: TaskDecision | None = None


class PublishGateRequest(_Strict):
    """Input of ``check_reply`` as ``PublishGate``: the whole state (``"state.$": "$"``), because a
    decision exists only on the path through a person and JSONPath cannot pass an absent field."""

    mode: Literal["publish"]
    state: _GateState

    def check_request(self) -> ReplyCheckRequest:
        state = self.state
        if state.validation.review is None:
            raise InvalidInputError("reply check request: the state has no validated review")
        return ReplyCheckRequest(
            mode="publish",
            review=state.validation.review,
            review_toxicity=state.review_toxicity,
            response=state.response,
            bands=Bands(low=state.settings.low, high=state.settings.high),
            draft_check=state.draft_check,
            decision=state.response_decision,
        )


# ------------------------------------------------------------------ BuildOutcome


class OutcomeResult(_Strict):
    """Set by the workflow's Pass states just before ``BuildOutcome``: which outcome, and why."""

    outcome: Literal["created", "harmful", "failed"]
    reason: str | None = None
    message: str | None = None
    step: str | None = None  # the state that failed, for failures


class TaskErrorInfo(BaseModel):
    """A Catch's ``ResultPath`` payload (``Error``/``Cause`` as Step Functions writes them)."""

    model_config = ConfigDict(extra="allow")

    Error: str = "States.Runtime"
    Cause: str | None = None


class WorkflowState(BaseModel):
    """Everything the workflow has gathered when it reaches ``BuildOutcome``.

    Every path sets ``result`` in a Pass state except the one that publishes: the publish gate's
    cleared verdict goes straight to ``BuildOutcome`` (one state transition fewer per answered
    review), so a state without a result whose ``reply_check`` the gate cleared is the created
    outcome. Without either, the state is refused (and ``FallbackOutcome`` publishes a failure).
    """

    model_config = ConfigDict(extra="ignore")

    validation: ValidationResult
    result: OutcomeResult
    review_toxicity: ToxicityScore | None = None
    review_decision: TaskDecision | None = None
    sentiment: SentimentResult | None = None
    response: GeneratedResponse | None = None
    draft_check: ReplyCheck | None = None
    response_decision: TaskDecision | None = None
    reply_check: ReplyCheck | None = None
    error: TaskErrorInfo | None = None
    draft: DraftState | None = None

    @model_validator(mode="before")
    @classmethod
    def _cleared_reply_is_created(cls, data: Any) -> Any:
        if isinstance(data, dict) and "result" not in data:
            check = data.get("reply_check")
            if isinstance(check, dict) and check.get("verdict") == "publish":
                return {**data, "result": {"outcome": "created"}}
        return data


class OutcomeRequest(BaseModel):
    """Input of ``build_outcome``."""

    model_config = ConfigDict(extra="forbid")

    execution_id: str
    state: WorkflowState


__all__ = [
    "ApprovalRequest",
    "ApprovalTicket",
    "Decision",
    "DecisionForm",
    "DraftHistory",
    "DraftState",
    "GeneratedResponse",
    "OutcomeRequest",
    "OutcomeResult",
    "PublishGateRequest",
    "ReplyCheckRequest",
    "ResponseRequest",
    "Sentiment",
    "SentimentRequest",
    "SentimentResult",
    "TaskDecision",
    "TaskErrorInfo",
    "TokenUsage",
    "ToxicityRequest",
    "ToxicityScore",
    "ValidateRequest",
    "ValidationResult",
    "WorkflowState",
]
