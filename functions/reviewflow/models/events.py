"""Event contract (docs/architecture.md §2): the review the storefront posts and the three outcomes.

The input detail is validated strictly (unknown fields, wrong types and control characters are
errors); a detail that fails becomes an ``invalid_review`` outcome through ``describe_errors``,
which lists every error without echoing the offending values.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StrictInt,
    StrictStr,
    ValidationError,
)

from reviewflow.contracts import OUTCOME_SOURCE, OutcomeType
from reviewflow.models.languages import ISO_639_1
from reviewflow.models.team import REVIEWER_ID_PATTERN, ReminderSent

MAX_REVIEW_CHARS = 20_000
MAX_NAME_CHARS = 200
MAX_ERRORS_REPORTED = 25
MAX_MESSAGE_CHARS = 1_000

#: review_id / product_id (architecture.md §2); also how the workflow reads a de-duplication key.
ID_PATTERN = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
# C0 controls other than tab, newline and carriage return, DEL and C1 controls.
_FORBIDDEN_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


class FailureReason(StrEnum):
    RESPONSE_TOXIC = "response_toxic"
    RESPONSE_REJECTED = "response_rejected"
    RESPONSE_POLICY_VIOLATION = "response_policy_violation"
    RESPONSE_UNREVIEWED = "response_unreviewed"
    APPROVAL_TIMED_OUT = "approval_timed_out"
    INVALID_REVIEW = "invalid_review"
    PROVIDER_ERROR = "provider_error"
    PROVIDER_THROTTLED = "provider_throttled"
    PROVIDER_TIMEOUT = "provider_timeout"
    MALFORMED_MODEL_OUTPUT = "malformed_model_output"
    INTERNAL_ERROR = "internal_error"
    # A new draft requested past the configured number of rounds, or without guidance: only a
    # resume that bypassed the approval page can ask for one, so the workflow fails closed.
    NEW_DRAFT_REFUSED = "new_draft_refused"


class Stage(StrEnum):
    REVIEW = "REVIEW"
    RESPONSE = "RESPONSE"


class Decision(StrEnum):
    APPROVED = "APPROVED"
    REJECTED = "REJECTED"
    # RESPONSE stage only: back to reply generation with the reviewer's guidance (bounded rounds).
    NEW_DRAFT_REQUESTED = "NEW_DRAFT_REQUESTED"


Sentiment = Literal["POSITIVE", "NEGATIVE", "NEUTRAL", "MIXED"]


def _check_identifier(value: str) -> str:
    if not ID_PATTERN.fullmatch(value):
        raise ValueError("must be 1-128 characters of letters, digits and . _ : -")
    return value


def _check_clean_text(value: str) -> str:
    if _FORBIDDEN_CONTROL.search(value):
        raise ValueError("must not contain control characters")
    if any(unicodedata.category(ch) == "Cs" for ch in value):
        raise ValueError("must be valid Unicode (no lone surrogates)")
    return value


def _check_review_text(value: str) -> str:
    if not value.strip():
        raise ValueError("must not be empty or only whitespace")
    if len(value) > MAX_REVIEW_CHARS:
        raise ValueError(f"must be at most {MAX_REVIEW_CHARS} characters (got {len(value)})")
    return _check_clean_text(value)


def _check_language(value: str) -> str:
    if value not in ISO_639_1:
        raise ValueError("must be a lower-case ISO 639-1 code such as 'en' or 'de'")
    return value


def _check_timestamp(value: str) -> str:
    try:
        datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError("must be an ISO 8601 date-time such as 2026-11-23T10:00:00Z") from None
    return value


Identifier = Annotated[StrictStr, AfterValidator(_check_identifier)]
ReviewText = Annotated[StrictStr, AfterValidator(_check_review_text)]
ShortText = Annotated[StrictStr, Field(max_length=MAX_NAME_CHARS), AfterValidator(_check_clean_text)]
LanguageCode = Annotated[StrictStr, AfterValidator(_check_language)]
Timestamp = Annotated[StrictStr, AfterValidator(_check_timestamp)]


class ReviewPosted(BaseModel):
    """``detail`` of a ``NEW_REVIEW_POSTED`` event."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    review_id: Identifier
    product_id: Identifier
    review_text: ReviewText
    rating: Annotated[StrictInt, Field(ge=1, le=5)] | None = None
    product_name: ShortText | None = None
    reviewer_name: ShortText | None = None
    language: LanguageCode = "en"
    posted_at: Timestamp | None = None


class FieldError(BaseModel):
    """One validation error, safe to publish: location and rule, never the rejected value."""

    field: str
    message: str
    type: str


def describe_errors(error: ValidationError) -> list[FieldError]:
    """Every error of a failed validation, without the input values pydantic would echo."""
    described = []
    for item in error.errors(include_input=False, include_url=False)[:MAX_ERRORS_REPORTED]:
        field = ".".join(str(part) for part in item["loc"]) or "detail"
        message = str(item["msg"])[:200]
        described.append(FieldError(field=field, message=message, type=str(item["type"])))
    return described


def summarize_errors(errors: list[FieldError], total: int | None = None, *, subject: str = "review") -> str:
    parts = [f"{e.field}: {e.message}" for e in errors]
    more = (total or len(errors)) - len(errors)
    text = f"invalid {subject}: " + "; ".join(parts)
    if more > 0:
        text += f"; and {more} more"
    return text[:MAX_MESSAGE_CHARS]


# --------------------------------------------------------------------------- outcome events


class ToxicityScore(BaseModel):
    """A text's toxicity: the maximum over its segments, overall and per label.

    ``score`` is ``None`` when the provider could not score the text (``scorable`` false);
    such text always goes to a person.
    """

    model_config = ConfigDict(extra="forbid")

    score: float | None = Field(default=None, ge=0.0, le=1.0)
    labels: dict[str, float] = Field(default_factory=dict)
    scorable: bool = True
    provider: str
    segments: int = Field(default=0, ge=0)
    calls: int = Field(default=0, ge=0)
    note: str | None = None
    # What a provider found besides the score (e.g. Guardrails' PROMPT_ATTACK on a review), and
    # whether that finding sends the text to a person whatever the score says.
    findings: list[str] = Field(default_factory=list)
    needs_person: bool = False
    # Units the provider billed for this text, by its own unit name (Guardrails' contentPolicyUnits).
    billed_units: dict[str, int] = Field(default_factory=dict)


class SentimentSummary(BaseModel):
    model_config = ConfigDict(extra="forbid")

    sentiment: Sentiment
    reason: str
    model_id: str
    prompt_version: str


class HumanDecision(BaseModel):
    """What a reviewer decided on one approval, as sent back to the workflow and published."""

    model_config = ConfigDict(extra="forbid")

    approval_id: str
    stage: Stage
    decision: Decision
    reviewer: str | None = Field(default=None, max_length=MAX_NAME_CHARS)
    comment: str | None = Field(default=None, max_length=2_000)
    decided_at: str
    response_edited: bool = False
    # Why a person published a reply over a reply-policy rule (required to do so).
    policy_override_reason: str | None = Field(default=None, max_length=1_000)
    # The audit trail of architecture.md §4, as declared by the request that decided (not authenticated).
    source_ip: str | None = Field(default=None, max_length=64)
    user_agent: str | None = Field(default=None, max_length=512)
    # A team of known reviewers (docs/human-review.md): the roster entry whose own link decided
    # (verified by their mailbox, not typed), the draft round decided on (0 = the first draft),
    # the guidance of a new-draft request, and the reminders/escalations sent before the decision.
    reviewer_id: str | None = Field(default=None, pattern=REVIEWER_ID_PATTERN)
    reviewer_verified: bool = False
    round: int = Field(default=0, ge=0)
    guidance: str | None = Field(default=None, max_length=1_000)
    reminders: list[ReminderSent] = Field(default_factory=list)


class DraftRound(BaseModel):
    """One "request a new draft" round: the guidance a reviewer gave and the draft it produced."""

    model_config = ConfigDict(extra="forbid")

    round: int = Field(ge=1)
    guidance: str = Field(min_length=1, max_length=1_000)
    requested_by: str | None = Field(default=None, description="verified reviewer id; None if anonymous")
    requested_at: str
    approval_id: str
    response_text: str | None = None
    response_toxicity: ToxicityScore | None = None
    policy_violations: list[str] = Field(default_factory=list)  # reply-policy rule ids
    model_id: str | None = None
    prompt_version: str | None = None


ToxicityBand = Literal["safe", "uncertain", "harmful", "unscorable"]


class PublishCheck(BaseModel):
    """What the publish gate found in the reply text it checked (the text in ``response_text``)."""

    model_config = ConfigDict(extra="forbid")

    policy_version: str
    toxicity_band: ToxicityBand
    violations: list[str] = Field(default_factory=list)  # reply-policy rule ids
    # What a person published over: "toxicity_uncertain", "toxicity_unscorable", rule ids.
    overridden: list[str] = Field(default_factory=list)
    rescored: bool = False  # an edited text, scored anew rather than the draft's score reused


class OutcomeDetail(BaseModel):
    """Fields common to every outcome event's ``detail``."""

    model_config = ConfigDict(extra="forbid")

    review_id: str
    product_id: str | None = None
    execution_id: str
    decided_by: Literal["auto", "reviewer"]
    review_toxicity: ToxicityScore | None = None
    sentiment: SentimentSummary | None = None
    response_text: str | None = None
    # The score of the text in ``response_text``; ``draft_toxicity`` is the generated draft's.
    response_toxicity: ToxicityScore | None = None
    draft_toxicity: ToxicityScore | None = None
    reply_check: PublishCheck | None = None
    model_id: str | None = None
    prompt_version: str | None = None
    human_decisions: list[HumanDecision] = Field(default_factory=list)
    # Every "request a new draft" round of the RESPONSE stage, oldest first (docs/human-review.md).
    draft_rounds: list[DraftRound] = Field(default_factory=list)


class ResponseCreated(OutcomeDetail):
    response_text: str
    model_id: str
    prompt_version: str


class HarmfulContentDetected(OutcomeDetail):
    pass


class ResponseGenerationFailed(OutcomeDetail):
    reason: FailureReason
    message: str = Field(max_length=MAX_MESSAGE_CHARS)
    failed_step: str | None = None
    error_type: str | None = None
    errors: list[FieldError] = Field(default_factory=list)


OUTCOME_MODELS: dict[OutcomeType, type[OutcomeDetail]] = {
    OutcomeType.RESPONSE_CREATED: ResponseCreated,
    OutcomeType.HARMFUL_CONTENT: HarmfulContentDetected,
    OutcomeType.GENERATION_FAILED: ResponseGenerationFailed,
}


class OutcomeEvent(BaseModel):
    """What the workflow hands to the ``events:putEvents`` integration."""

    model_config = ConfigDict(extra="forbid")

    source: str = OUTCOME_SOURCE
    detail_type: OutcomeType
    detail: dict[str, Any]

    @classmethod
    def of(cls, detail: OutcomeDetail) -> OutcomeEvent:
        kinds = {model: kind for kind, model in OUTCOME_MODELS.items()}
        return cls(detail_type=kinds[type(detail)], detail=detail.model_dump(mode="json", exclude_none=True))

    def parsed_detail(self) -> OutcomeDetail:
        return OUTCOME_MODELS[self.detail_type].model_validate(self.detail)
