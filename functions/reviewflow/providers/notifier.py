"""Reviewer notifications: an email built once (``domain/emails.py``), delivered by SNS.

SNS email subscriptions deliver plain text only, so the adapter publishes the message's text
part; the local runtime writes the whole ``EmailMessage`` (text and HTML) to its outbox instead.
The message body holds the approval link and its secret: it is never logged.
"""

from __future__ import annotations

from email.message import EmailMessage
from typing import Any, Protocol

from botocore.exceptions import BotoCoreError, ClientError, HTTPClientError
from botocore.exceptions import ConnectionError as SdkConnectionError

from reviewflow.errors import ApprovalError, ConfigurationError, ProviderThrottledError, ProviderTimeoutError

MAX_SUBJECT_CHARS = 99  # SNS: "must be less than 100 characters"
THROTTLING_CODES = frozenset({"Throttled", "Throttling", "ThrottlingException", "KMSThrottling"})
TRANSIENT_CODES = frozenset({"InternalError", "InternalFailure", "ServiceUnavailable"})
MISCONFIGURED_CODES = frozenset({"NotFound", "AuthorizationError", "KMSAccessDenied", "KMSNotFound"})


class Notifier(Protocol):
    def send(self, message: EmailMessage) -> str:
        """Deliver the message; returns the delivery id."""
        ...


def plain_text_of(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain",))
    if part is None:
        raise ApprovalError("the approval email has no text part")
    return str(part.get_content())  # type: ignore[attr-defined]


def sns_subject(message: EmailMessage) -> str:
    """SNS subjects: ASCII, no line breaks or control characters, fewer than 100 characters."""
    subject = " ".join(str(message.get("Subject", "")).split())
    subject = subject.encode("ascii", errors="replace").decode("ascii")
    subject = "".join(ch if ch.isprintable() else "?" for ch in subject)
    return subject[:MAX_SUBJECT_CHARS] or "Review needed"


class SnsNotifier:
    def __init__(self, client: Any, topic_arn: str) -> None:
        self._client = client
        self._topic_arn = topic_arn

    def send(self, message: EmailMessage) -> str:
        try:
            answer = self._client.publish(
                TopicArn=self._topic_arn,
                Subject=sns_subject(message),
                Message=plain_text_of(message),
            )
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "Unknown")
            if code in THROTTLING_CODES:
                raise ProviderThrottledError(f"SNS publish throttled ({code})") from exc
            if code in TRANSIENT_CODES:
                raise ProviderTimeoutError(f"SNS publish unavailable ({code})") from exc
            if code in MISCONFIGURED_CODES:
                raise ConfigurationError(f"SNS publish failed ({code}); check the topic and grants") from exc
            raise ApprovalError(f"SNS publish failed ({code})") from exc
        except (SdkConnectionError, HTTPClientError) as exc:
            raise ProviderTimeoutError(f"SNS publish: {type(exc).__name__}") from exc
        except BotoCoreError as exc:
            raise ApprovalError(f"SNS publish: {type(exc).__name__}") from exc
        return str(answer.get("MessageId", ""))
