"""A team of known reviewers: the roster, reminders and escalations, and draft rounds.

Records only; the protocol that uses them lives in ``reviewflow.domain.approvals``.
"""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from reviewflow.models.events import ToxicityScore

#: a roster entry's id: what the audit, the outcome and the SNS filter policy name.
REVIEWER_ID_PATTERN = r"^[a-z0-9][a-z0-9-]{0,39}$"


class Reviewer(BaseModel):
    """One known reviewer. Identity is proven by the mailbox: only they receive their link."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=REVIEWER_ID_PATTERN)
    email: str


class ReminderStep(StrEnum):
    REMINDER = "reminder"  # to the roster, before the deadline
    ESCALATION = "escalation"  # to the escalation list, later


class ReminderSent(BaseModel):
    """One reminder or escalation sent for one approval (each at most once)."""

    model_config = ConfigDict(extra="forbid")

    step: ReminderStep
    fraction: float = Field(gt=0, lt=1, description="of the approval window elapsed when it was due")
    sent_at: str
    recipients: list[str] = Field(default_factory=list, description="reviewer ids, or 'escalation'")


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
    policy_violations: list[str] = Field(default_factory=list)
    model_id: str | None = None
    prompt_version: str | None = None
