"""Decides pending approvals through their emailed links, the way a person's browser does.

``reviewflow run --decide approve|reject`` and ``reviewflow soak`` share this; they differ only in
how each decision is chosen (one fixed answer, or a seeded mix per review and stage). Only
approvals the table still lists as pending are decided, each once, through the first approval
link of the email sent for it (``reviewer.decide``: GET the page, POST its form). An approval
whose email is not in the outbox yet is simply tried again on the next call.

Reminder and escalation emails (``OutboxMessage.reminder``) carry a fresh personal link to the
same approval: it is used only when no approval email of that approval has been read (the
original link stays the one a person would click first), and an approval already decided is
never decided again whichever of its emails arrives later.

Two ways in: ``decide(pending)`` takes the table's pending items and looks for their emails
(``reviewflow run``); ``decide_sent(emails, lookup)`` starts from the emails written since the
last call and looks each approval up by id (the soak). The second costs the same per call
whatever the number of reviews already done: nothing is scanned or listed again.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from reviewflow_local.outbox import Outbox, OutboxMessage, read_message
from reviewflow_local.reviewer import PageResult, decide

#: A pending approval item (``pending_approvals()``) -> ``"APPROVED"`` or ``"REJECTED"``.
Choice = Callable[[Mapping[str, Any]], str]
#: ``reviewer.decide``'s signature; tests pass a fake to decide without HTTP.
Submit = Callable[..., tuple[PageResult, PageResult]]
#: Approval id -> its item if it is still pending, else ``None`` (``LocalPipeline.pending_approval``).
Lookup = Callable[[str], Mapping[str, Any] | None]


def always(decision: str) -> Choice:
    """The same decision for every approval (``--decide approve`` / ``reject``)."""

    def choose(item: Mapping[str, Any]) -> str:
        return decision

    return choose


class ApprovalDecider:
    """Opens each pending approval's emailed link and submits the chosen decision."""

    def __init__(
        self,
        outbox: Outbox,
        choose: Choice,
        *,
        reviewer: str,
        comment_prefix: str,
        submit: Submit = decide,
    ) -> None:
        self.decided: Counter[str] = Counter()  # decision -> approvals it answered
        self.errors: list[str] = []
        self._outbox = outbox
        self._choose = choose
        self._reviewer = reviewer
        self._comment_prefix = comment_prefix
        self._submit = submit
        self._handled: set[str] = set()
        self._links: dict[str, str] = {}  # approval id -> first approval link of its email
        self._reminder_links: dict[str, str] = {}  # approval id -> first link of a reminder email
        self._read: set[Path] = set()
        self._sent_seen = 0  # emails of ``decide_sent``'s list already read

    def decide(self, pending: Iterable[Mapping[str, Any]]) -> int:
        """Decide every approval in ``pending`` not decided before; returns how many answered."""
        waiting = [item for item in pending if str(item.get("approval_id")) not in self._handled]
        if not waiting:
            return 0
        self._read_new_emails()
        answered = 0
        for item in waiting:
            approval_id = str(item.get("approval_id"))
            link = self._link_of(approval_id)
            if link is None:
                continue  # its email is not written yet
            self._handled.add(approval_id)
            answered += self._decide_one(approval_id, link, self._choose(item))
        return answered

    def decide_sent(self, emails: Sequence[Path], lookup: Lookup) -> int:
        """Decide the approvals of the emails in ``emails`` not read before (each file complete).

        ``emails`` is the notifier's list of written files, oldest first, only ever appended to;
        an approval ``lookup`` no longer finds pending (decided or expired meanwhile) is skipped.
        Returns how many were answered.
        """
        new = list(emails[self._sent_seen :])
        self._sent_seen += len(new)
        answered = 0
        for path in new:
            message = read_message(path)
            approval_id = message.approval_id
            if not approval_id or not message.approval_links or approval_id in self._handled:
                continue
            self._read.add(path)
            link = self._remember(message)
            item = lookup(approval_id)
            if item is None:
                continue
            self._handled.add(approval_id)
            answered += self._decide_one(approval_id, link, self._choose(item))
        return answered

    def _decide_one(self, approval_id: str, link: str, decision: str) -> int:
        try:
            _, result = self._submit(
                link,
                decision,
                reviewer=self._reviewer,
                comment=f"{self._comment_prefix} {decision.lower()}",
            )
        except Exception as exc:  # a page that does not offer the decision is a finding, not a crash
            self.errors.append(f"{approval_id}: {type(exc).__name__}: {exc}")
            return 0
        if result.status != 200:
            self.errors.append(f"{approval_id}: HTTP {result.status}")
            return 0
        self.decided[decision] += 1
        return 1

    def _read_new_emails(self) -> None:
        """Parse each ``.eml`` once; one without a link yet (still being written) is read again."""
        for path in sorted(self._outbox.folder.glob("*.eml")):
            if path in self._read:
                continue
            message = read_message(path)
            if message.approval_id and message.approval_links:
                self._remember(message)
                self._read.add(path)

    def _remember(self, message: OutboxMessage) -> str:
        """Keep the message's first link; returns the link its approval is now decided through."""
        approval_id = str(message.approval_id)
        links = self._links if message.reminder is None else self._reminder_links
        links.setdefault(approval_id, message.approval_links[0])
        return self._links.get(approval_id) or self._reminder_links[approval_id]

    def _link_of(self, approval_id: str) -> str | None:
        """The approval email's link; a reminder's only while no approval email was read."""
        return self._links.get(approval_id) or self._reminder_links.get(approval_id)
