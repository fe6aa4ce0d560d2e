"""The approval records the store keeps: status, the frozen snapshot a reviewer sees, the audit.

These are records, not behaviour: the human-review protocol that moves them from state to state
is ``reviewflow.domain.approvals``; the table adapter (``providers/approval_store.py``) stores them.
"""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, SecretStr

from reviewflow.models.events import Decision, DraftRound, ReviewPosted, Sentiment, Stage, ToxicityScore
from reviewflow.models.replies import Bands, PolicyViolation
from reviewflow.models.team import ReminderSent


class ApprovalStatus(StrEnum):
    PENDING = "PENDING"
    APPROVED = "APPROVED"
    REJECTED = "REJECTED"
    # RESPONSE stage: the reviewer asked for a new draft with guidance; that draft is a new approval.
    NEW_DRAFT_REQUESTED = "NEW_DRAFT_REQUESTED"
    EXPIRED = "EXPIRED"  # the workflow stopped waiting before a decision reached it


class ApprovalSnapshot(BaseModel):
    """What the page and the email show, frozen at request time."""

    model_config = ConfigDict(extra="forbid")

    review: ReviewPosted
    review_toxicity: ToxicityScore
    sentiment: Sentiment | None = None
    sentiment_reason: str | None = None
    response_text: str | None = None
    response_model_id: str | None = None
    response_prompt_version: str | None = None
    response_toxicity: ToxicityScore | None = None
    policy_violations: list[PolicyViolation] = Field(default_factory=list)
    policy_version: str | None = None
    bands: Bands | None = None
    # RESPONSE stage, "request a new draft": this draft's round (0 = the first draft), the
    # configured limit (the page offers a new draft only while round < max_rounds) and the
    # earlier rounds (their guidance is shown, escaped, above the form).
    round: int = Field(default=0, ge=0)
    max_rounds: int = Field(default=0, ge=0)
    draft_rounds: list[DraftRound] = Field(default_factory=list)

    @property
    def new_draft_allowed(self) -> bool:
        return self.response_text is not None and self.round < self.max_rounds


class DecisionAudit(BaseModel):
    """Who decided, when, from where: written on the item in the same write as the decision."""

    model_config = ConfigDict(extra="forbid")

    decision: Decision
    reviewer: str | None = None
    comment: str | None = None
    decided_at: str
    source_ip: str | None = None
    user_agent: str | None = None
    response_edited: bool = False
    edited_response_text: str | None = None
    policy_override_reason: str | None = None
    # The roster entry whose own link decided (proven by their mailbox); None for the anonymous link.
    reviewer_id: str | None = None
    reviewer_verified: bool = False
    # NEW_DRAFT_REQUESTED only: what the reviewer asked the next draft to do differently.
    guidance: str | None = None


class ApprovalRecord(BaseModel):
    """One approval item. ``task_token`` is a ``SecretStr`` so no repr or log can show it."""

    model_config = ConfigDict(extra="forbid")

    approval_id: str
    status: ApprovalStatus
    stage: Stage
    review_id: str
    product_id: str
    execution_id: str
    created_at: str
    expires_at: int = Field(description="epoch seconds; also the table's TTL attribute")
    secret_sha256: str
    task_token: SecretStr | None = None
    snapshot: ApprovalSnapshot
    audit: DecisionAudit | None = None
    delivered_at: str | None = None
    closed_reason: str | None = None
    closed_at: str | None = None
    last_delivery_error: str | None = None
    # A team of known reviewers (docs/human-review.md). Each roster entry gets its own link; the
    # item keeps only sha256(secret) -> reviewer id. Empty when there is no roster (anonymous link,
    # ``secret_sha256``). Reminders may add hashes (fresh links) and escalation reviewer ids.
    reviewer_links: dict[str, str] = Field(default_factory=dict)
    reviewer_ids: list[str] = Field(default_factory=list)
    # When the approval window ends (ISO 8601, UTC): what reminders measure their fractions against.
    deadline_at: str | None = None
    # Partition key of the PendingByDeadline index while pending; removed by every decision/close.
    pending_pk: str | None = None
    reminders: list[ReminderSent] = Field(default_factory=list)

    def expired(self, now: datetime) -> bool:
        return now.timestamp() >= self.expires_at

    @property
    def expires_at_datetime(self) -> datetime:
        return datetime.fromtimestamp(self.expires_at, UTC)
