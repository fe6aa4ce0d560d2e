"""A team of known reviewers: the roster, reminders and escalations, and draft rounds.

Records only; the protocol that uses them lives in ``reviewflow.domain.approvals``.
"""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

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
