"""The local "mail server": every reviewer email becomes a real RFC 5322 ``.eml`` file.

In AWS the request_approval function (and the send_reminders function, for reminders and
escalations) publishes the email's text part to the reviewer topic and SNS mails it. Locally the
``notifier`` and ``reviewer_notifier`` providers are both replaced by one ``OutboxNotifier``, which
writes the whole message (text and HTML parts, as ``reviewflow.presentation.emails.build_email``
or ``reminder_emails.build_reminder_email`` made it) to the outbox folder and then still publishes
to the (moto) topic through the real SNS adapter, so the functions' SNS path runs too.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import format_datetime, make_msgid
from pathlib import Path

from reviewflow.errors import ApprovalError

_LINK = re.compile(r"https?://[^\s\"'<>]+/approvals/[^\s\"'<>]+")


@dataclass(frozen=True)
class OutboxMessage:
    path: Path
    subject: str
    approval_id: str | None
    stage: str | None
    sent_at: str
    text: str
    html: str | None
    to: str | None = None
    #: ``reminder`` or ``escalation`` for a reminder email (its ``X-Reviewflow-Reminder`` header);
    #: ``None`` for the approval email itself.
    reminder: str | None = None

    @property
    def approval_links(self) -> list[str]:
        return list(dict.fromkeys(_LINK.findall(self.text)))


class Outbox:
    """A folder of ``.eml`` files, newest last."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.folder.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._count = 0

    def write(self, message: EmailMessage, recipient: str | None = None) -> Path:
        message = _complete(message, recipient)
        with self._lock:
            self._count += 1
            stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
            ident = re.sub(r"[^A-Za-z0-9_-]", "", str(message.get("X-Reviewflow-Approval-Id", "")))[:24]
            path = self.folder / f"{stamp}-{self._count:04d}-{ident or 'message'}.eml"
            path.write_bytes(message.as_bytes(policy=policy.SMTP))
        return path

    def messages(self) -> list[OutboxMessage]:
        return [read_message(path) for path in sorted(self.folder.glob("*.eml"))]


def read_message(path: Path) -> OutboxMessage:
    parsed = BytesParser(policy=policy.default).parsebytes(path.read_bytes())
    assert isinstance(parsed, EmailMessage)
    text_part = parsed.get_body(preferencelist=("plain",))
    html_part = parsed.get_body(preferencelist=("html",))
    return OutboxMessage(
        path=path,
        # A subject too long for the "Subject:" line is folded right after the colon, and the
        # parser keeps the fold's space: strip it, or a reminder's subject reads " Reminder: ...".
        subject=str(parsed.get("Subject", "")).strip(),
        approval_id=parsed.get("X-Reviewflow-Approval-Id"),
        stage=parsed.get("X-Reviewflow-Stage"),
        sent_at=str(parsed.get("Date", "")),
        to=str(parsed["To"]) if parsed.get("To") else None,
        reminder=str(parsed["X-Reviewflow-Reminder"]) if parsed.get("X-Reviewflow-Reminder") else None,
        text=text_part.get_content() if text_part is not None else "",  # type: ignore[attr-defined]
        html=html_part.get_content() if html_part is not None else None,  # type: ignore[attr-defined]
    )


def _complete(message: EmailMessage, recipient: str | None) -> EmailMessage:
    """The headers a mail client expects that the function leaves to the mail system."""
    if recipient and "To" not in message:
        message["To"] = recipient
    if "Date" not in message:
        message["Date"] = format_datetime(datetime.now(UTC))
    if "Message-ID" not in message:
        message["Message-ID"] = make_msgid(domain="reviewflow.local")
    return message


class OutboxNotifier:
    """The ``notifier`` and ``reviewer_notifier`` providers of the local runtime (module docstring)."""

    def __init__(
        self,
        outbox: Outbox,
        recipient: str | None,
        then: Callable[[], object] | None = None,
        *,
        roster: Mapping[str, str] | None = None,
    ) -> None:
        self._outbox = outbox
        self._recipient = recipient
        self._roster = dict(roster or {})  # reviewer id -> the email their subscription delivers to
        self._then = then  # builds the real notifier (SNS) for the current function's settings
        self.sent: list[Path] = []

    def send(self, message: EmailMessage, reviewer: str | None = None) -> str:
        # A roster reviewer's message goes to their own mailbox only, as the SNS filter policy does.
        recipient = self._recipient if reviewer is None else self._roster.get(reviewer)
        if reviewer is not None and recipient is None:
            raise ApprovalError(f"no subscription of the reviewer topic is filtered on reviewer {reviewer!r}")
        path = self._outbox.write(message, recipient)
        self.sent.append(path)
        if self._then is not None:
            delivery = self._then()
            return str(delivery.send(message, reviewer=reviewer))  # type: ignore[attr-defined]
        return path.name

    def send_to(self, reviewer_id: str, message: EmailMessage) -> str:
        """``ReviewerNotifier`` (reminders), as ``SnsNotifier.send_to``: an empty id is the anonymous
        recipient of a deployment without a roster; any other id must be a subscribed reviewer."""
        return self.send(message, reviewer=reviewer_id or None)
