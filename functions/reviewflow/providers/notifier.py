"""Reviewer notifications: an email built once (``presentation/emails.py``), delivered by SNS.

SNS email subscriptions deliver plain text only, so the adapter publishes the message's text
part; the local runtime writes the whole ``EmailMessage`` (text and HTML) to its outbox instead.
The message body holds the approval link and its secret: it is never logged.
"""

from __future__ import annotations

from email.message import EmailMessage
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from reviewflow.contracts import REVIEWER_ATTRIBUTE
from reviewflow.errors import ApprovalError
from reviewflow.providers.aws_errors import ErrorCodes, translate

MAX_SUBJECT_CHARS = 99  # SNS: "must be less than 100 characters"
SNS_CODES = ErrorCodes(
    throttling=frozenset({"Throttled", "Throttling", "ThrottlingException", "KMSThrottling"}),
    transient=frozenset({"InternalError", "InternalFailure", "ServiceUnavailable"}),
    misconfigured=frozenset({"NotFound", "AuthorizationError", "KMSAccessDenied", "KMSNotFound"}),
    check="the topic and grants",
)


def plain_text_of(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain",))
    if part is None:
        raise ApprovalError("the approval email has no text part")
    return str(part.get_content())  # type: ignore[attr-defined]


def clean_subject(text: str, *, fallback: str) -> str:
    """SNS subjects: ASCII, no line breaks or control characters, fewer than 100 characters."""
    subject = " ".join(text.split())
    subject = subject.encode("ascii", errors="replace").decode("ascii")
    subject = "".join(ch if ch.isprintable() else "?" for ch in subject)
    return subject[:MAX_SUBJECT_CHARS] or fallback


def sns_subject(message: EmailMessage) -> str:
    return clean_subject(str(message.get("Subject", "")), fallback="Review needed")


class SnsNotifier:
    """``Notifier`` that publishes the message's text part to the reviewer topic."""

    def __init__(self, client: Any, topic_arn: str) -> None:
        self._client = client
        self._topic_arn = topic_arn

    def send(self, message: EmailMessage, reviewer: str | None = None) -> str:
        request: dict[str, Any] = {
            "TopicArn": self._topic_arn,
            "Subject": sns_subject(message),
            "Message": plain_text_of(message),
        }
        if reviewer is not None:
            # The roster reviewer's subscription filters on this attribute: only they get the message.
            request["MessageAttributes"] = {
                REVIEWER_ATTRIBUTE: {"DataType": "String", "StringValue": reviewer}
            }
        try:
            answer = self._client.publish(**request)
        except (ClientError, BotoCoreError) as exc:
            raise translate(exc, "SNS publish", SNS_CODES, ApprovalError) from exc
        return str(answer.get("MessageId", ""))

    def send_to(self, reviewer_id: str, message: EmailMessage) -> str:
        """``ReviewerNotifier`` (reminders): ``send`` addressed to one reviewer; an empty id reaches
        only the unfiltered subscription of a deployment without a roster."""
        return self.send(message, reviewer=reviewer_id or None)
