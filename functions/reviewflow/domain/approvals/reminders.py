"""Reminders and escalation before an approval's deadline (docs/human-review.md).

One scheduled run looks at every pending approval and decides, per approval, which one step is
due: a reminder to the roster at each configured fraction of the approval window, then an
escalation to a second list. ``due_step`` is pure (the run's time comes in as an argument);
``send_due_reminders`` records each step with a conditional write before its emails go out, so
a step is sent at most once per approval, never after a decision, and never after the deadline:
the timeout itself stays the workflow's.

When several steps are due at once (the schedule missed runs), only the latest is sent and the
earlier ones are skipped for good: a stale reminder right before an escalation is noise.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from email.message import EmailMessage
from typing import Protocol

from pydantic import BaseModel, ConfigDict, Field, model_validator

from reviewflow.domain.approvals.links import approval_link, hash_secret, new_link_secret, queue_link
from reviewflow.domain.clock import iso_utc, parse_utc
from reviewflow.errors import ReviewflowError
from reviewflow.models.approvals import ApprovalRecord, ApprovalStatus
from reviewflow.models.team import ReminderSent, ReminderStep


class ReminderPlan(BaseModel):
    """When steps are due, as fractions of the window (created_at .. deadline_at), and who escalates."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    reminder_fractions: tuple[float, ...] = (0.5,)
    escalation_fraction: float | None = 0.8
    escalation_reviewer_ids: tuple[str, ...] = ()

    @model_validator(mode="after")
    def _ordered(self) -> ReminderPlan:
        for value in (*self.reminder_fractions, self.escalation_fraction):
            if value is not None and not 0 < value < 1:
                raise ValueError(f"a reminder fraction must lie strictly between 0 and 1, got {value}")
        if len(set(self.reminder_fractions)) != len(self.reminder_fractions):
            raise ValueError("reminder fractions must be distinct")
        if self.escalation_fraction is not None and any(
            value >= self.escalation_fraction for value in self.reminder_fractions
        ):
            raise ValueError("the escalation fraction must be later than every reminder fraction")
        return self

    @property
    def escalates(self) -> bool:
        return self.escalation_fraction is not None and bool(self.escalation_reviewer_ids)

    def steps(self) -> list[tuple[ReminderStep, float]]:
        """Every step of the plan, earliest first."""
        planned = [(ReminderStep.REMINDER, value) for value in sorted(self.reminder_fractions)]
        if self.escalates:
            assert self.escalation_fraction is not None
            planned.append((ReminderStep.ESCALATION, self.escalation_fraction))
        return planned


class DueStep(BaseModel):
    model_config = ConfigDict(frozen=True)

    step: ReminderStep
    fraction: float = Field(gt=0, lt=1)

    @property
    def key(self) -> str:
        """The step's marker on the item: what makes the conditional write once-only."""
        return step_key(self.step, self.fraction)


def step_key(step: ReminderStep, fraction: float) -> str:
    return f"{step.value}@{fraction:.4f}"


def deadline_of(record: ApprovalRecord) -> datetime:
    """When the approval window ends: ``deadline_at``, or the item's expiry for older items."""
    return parse_utc(record.deadline_at) if record.deadline_at else record.expires_at_datetime


def due_step(record: ApprovalRecord, now: datetime, plan: ReminderPlan) -> DueStep | None:
    """The one step to send for ``record`` at ``now``, or ``None``.

    Nothing for a decided or closed approval, none without a deadline, none at or after the
    deadline (the workflow's timeout handles that), none before the first fraction, none that was
    sent already, and none earlier than a step already sent.
    """
    if record.status is not ApprovalStatus.PENDING or record.pending_pk is None or not record.deadline_at:
        return None
    start, deadline = parse_utc(record.created_at), parse_utc(record.deadline_at)
    if deadline <= start or now >= deadline:
        return None
    elapsed = (now - start) / (deadline - start)
    sent_after = max((sent.fraction for sent in record.reminders), default=0.0)
    sent_keys = {step_key(sent.step, sent.fraction) for sent in record.reminders}
    due = [
        DueStep(step=step, fraction=fraction)
        for step, fraction in plan.steps()
        if fraction <= elapsed and fraction > sent_after and step_key(step, fraction) not in sent_keys
    ]
    return due[-1] if due else None


def recipients_for(record: ApprovalRecord, step: DueStep, plan: ReminderPlan) -> list[str]:
    """Reminders go to the roster on the item; an escalation to the escalation list.

    An approval without a roster (one anonymous link) gets one reminder addressed to nobody in
    particular (empty id): it reaches the topic's unfiltered subscription, without a new link.
    """
    if step.step is ReminderStep.ESCALATION:
        return list(plan.escalation_reviewer_ids)
    return list(dict.fromkeys(record.reviewer_ids)) or [""]


class ReminderStore(Protocol):
    def pending_before_deadline(self, now: datetime) -> Iterable[ApprovalRecord]:
        """Every approval still pending whose deadline is after ``now``."""
        ...

    def record_reminder(
        self,
        record: ApprovalRecord,
        step_key: str,
        sent: ReminderSent,
        new_links: dict[str, str],
        new_reviewer_ids: list[str],
    ) -> bool:
        """Record the step once, only while the approval is pending; False if it was not written."""
        ...


class ReviewerNotifier(Protocol):
    def send_to(self, reviewer_id: str, message: EmailMessage) -> str:
        """Deliver to one reviewer (empty id: the unfiltered subscription); returns the delivery id."""
        ...


class ReminderEmail(Protocol):
    def __call__(
        self,
        record: ApprovalRecord,
        step: ReminderStep,
        link: str | None,
        now: datetime,
        queue_url: str | None = None,
    ) -> EmailMessage: ...


@dataclass(frozen=True)
class ReminderDelivery:
    approval_id: str
    step: ReminderStep
    fraction: float
    reviewer_id: str
    delivered: bool
    error: str | None = None


@dataclass
class ReminderRun:
    """What one scheduled run did (returned by the handler; the CLI prints it)."""

    now: str
    examined: int = 0
    deliveries: list[ReminderDelivery] = field(default_factory=list)
    lost_races: int = 0  # a decision or a concurrent run got there first

    def as_dict(self) -> dict[str, object]:
        return {
            "now": self.now,
            "examined": self.examined,
            "lost_races": self.lost_races,
            "sent": [
                {
                    "approval_id": d.approval_id,
                    "step": d.step.value,
                    "fraction": d.fraction,
                    "reviewer_id": d.reviewer_id or None,
                    "delivered": d.delivered,
                    **({"error": d.error} if d.error else {}),
                }
                for d in self.deliveries
            ],
        }


def send_due_reminders(
    now: datetime,
    plan: ReminderPlan,
    *,
    store: ReminderStore,
    notifier: ReviewerNotifier,
    compose: ReminderEmail,
    base_url: str,
    new_secret: Callable[[], str] = new_link_secret,
) -> ReminderRun:
    """Send every due step once. The write comes first: an email whose step could not be recorded
    is never sent, and a failed delivery is reported, not retried (at most once, by design)."""
    run = ReminderRun(now=iso_utc(now))
    for record in store.pending_before_deadline(now):
        run.examined += 1
        step = due_step(record, now, plan)
        if step is None:
            continue
        recipients = recipients_for(record, step, plan)
        secrets_by_reviewer = {rid: new_secret() for rid in recipients if rid}
        sent = ReminderSent(
            step=step.step,
            fraction=step.fraction,
            sent_at=iso_utc(now),
            recipients=[r for r in recipients if r],
        )
        new_ids = [rid for rid in recipients if rid and rid not in record.reviewer_ids]
        written = store.record_reminder(
            record,
            step.key,
            sent,
            {hash_secret(secret): rid for rid, secret in secrets_by_reviewer.items()},
            new_ids if step.step is ReminderStep.ESCALATION else [],
        )
        if not written:
            run.lost_races += 1
            continue
        run.deliveries += _deliver(
            record, step, recipients, secrets_by_reviewer, now, notifier, compose, base_url
        )
    return run


def _deliver(
    record: ApprovalRecord,
    step: DueStep,
    recipients: Sequence[str],
    secrets_by_reviewer: dict[str, str],
    now: datetime,
    notifier: ReviewerNotifier,
    compose: ReminderEmail,
    base_url: str,
) -> list[ReminderDelivery]:
    deliveries = []
    for reviewer_id in recipients:
        secret = secrets_by_reviewer.get(reviewer_id)
        link = queue_url = None
        if secret and base_url:  # a roster reviewer's fresh secret opens the approval and their queue
            link = approval_link(base_url, record.approval_id, secret)
            queue_url = queue_link(base_url, reviewer_id, record.approval_id, secret)
        try:
            notifier.send_to(reviewer_id, compose(record, step.step, link, now, queue_url))
        except ReviewflowError as exc:
            deliveries.append(
                ReminderDelivery(
                    record.approval_id, step.step, step.fraction, reviewer_id, False, type(exc).__name__
                )
            )
            continue
        deliveries.append(ReminderDelivery(record.approval_id, step.step, step.fraction, reviewer_id, True))
    return deliveries
