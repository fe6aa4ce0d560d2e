"""A roster reviewer's queue: the approvals waiting for them, opened through one of their emails.

The queue link is ``/reviewers/<reviewer id>/queue?a=<approval id>&s=<secret>``: the approval
and secret of any email the reviewer got (an approval email, a reminder, an escalation). The
use case reads that one approval and requires the secret's hash to belong to the reviewer named
in the path; anything else (an unknown or malformed id, a wrong secret, another reviewer's
secret or path, the anonymous link of a deployment without a roster) gets the same 404, so a
guess learns nothing about which part was wrong. A link lives as long as its approval's window:
past that deadline it opens nothing (410), and a newer email has a fresh one.

The list comes from the pending-by-deadline index, filtered on the reviewer id, soonest deadline
first. It holds only what the page shows: the store's read leaves out task tokens and link
hashes. Only the approval of the link itself is linked (its secret is in the URL already); the
others are opened from their own emails, whose subjects the page names. A GET never writes.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Protocol

from reviewflow.domain.approvals.links import is_well_formed_id, reviewer_of
from reviewflow.domain.approvals.reminders import deadline_of
from reviewflow.domain.clock import utc_now
from reviewflow.domain.ports import ApprovalStore
from reviewflow.models.approvals import ApprovalRecord, ApprovalStatus
from reviewflow.models.team import REVIEWER_ID_PATTERN
from reviewflow.observability import add_metric, get_logger

#: More than a reviewer can work through in one sitting; the page says how many it left out.
MAX_QUEUE_ENTRIES = 100

_REVIEWER_ID = re.compile(REVIEWER_ID_PATTERN)


class ReviewerQueueReader(Protocol):
    """The approvals pending for one reviewer with a deadline after ``now``, soonest first. The
    records carry no task token and no link hashes."""

    def pending_for(self, reviewer_id: str, now: datetime) -> Iterable[ApprovalRecord]: ...


class QueueOutcome(StrEnum):
    LISTED = "listed"
    NOT_FOUND = "not_found"  # no such reviewer, approval or secret, or they do not belong together
    LINK_EXPIRED = "link_expired"  # the link's approval window is over


@dataclass(frozen=True)
class QueueRequest:
    reviewer_id: str
    approval_id: str | None
    secret: str | None = field(default=None, repr=False)


@dataclass(frozen=True)
class QueueView:
    """What the queue page shows; ``secret`` only to link the approval the queue was opened from."""

    outcome: QueueOutcome
    status: int
    reviewer_id: str = ""
    entries: tuple[ApprovalRecord, ...] = ()
    left_out: int = 0
    now: datetime | None = None
    via_approval_id: str = ""
    secret: str = field(default="", repr=False)


def waiting_for(record: ApprovalRecord, reviewer_id: str, now: datetime) -> bool:
    """Whether ``record`` belongs in ``reviewer_id``'s queue at ``now``. The index is eventually
    consistent, so a decision made a moment ago is checked again here."""
    return (
        record.status is ApprovalStatus.PENDING
        and reviewer_id in record.reviewer_ids
        and not record.expired(now)
        and deadline_of(record) > now
    )


def show_queue(
    request: QueueRequest,
    *,
    store: ApprovalStore,
    queue: ReviewerQueueReader,
    now: datetime | None = None,
) -> QueueView:
    """GET of a queue link: the reviewer's pending approvals, or 404/410. Never writes."""
    now = now or utc_now()
    approval_id = request.approval_id or ""
    if not _REVIEWER_ID.fullmatch(request.reviewer_id) or not is_well_formed_id(approval_id):
        return QueueView(QueueOutcome.NOT_FOUND, 404)
    record = store.get(approval_id)
    if record is None or reviewer_of(request.secret, record.reviewer_links) != request.reviewer_id:
        # No hint which part was wrong; the log names neither the secret nor the reviewer asked for.
        get_logger().warning("queue link refused", extra={"approval_id": approval_id})
        add_metric("QueueLinksRefused")
        return QueueView(QueueOutcome.NOT_FOUND, 404)
    if record.expired(now):
        return QueueView(QueueOutcome.LINK_EXPIRED, 410, reviewer_id=request.reviewer_id)
    waiting = [
        entry
        for entry in queue.pending_for(request.reviewer_id, now)
        if waiting_for(entry, request.reviewer_id, now)
    ]
    waiting.sort(key=deadline_of)
    return QueueView(
        QueueOutcome.LISTED,
        200,
        reviewer_id=request.reviewer_id,
        entries=tuple(waiting[:MAX_QUEUE_ENTRIES]),
        left_out=max(0, len(waiting) - MAX_QUEUE_ENTRIES),
        now=now,
        via_approval_id=record.approval_id,
        secret=request.secret or "",
    )
