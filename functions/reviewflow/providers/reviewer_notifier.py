"""Emails addressed to one reviewer: the reviewer topic, with the message attribute ``reviewer``
that each reviewer's subscription filters on (``{"reviewer": [<id>]}``).

A message without the attribute (empty id) reaches only unfiltered subscriptions (the single
``reviewer_email`` of a deployment without a roster). Bodies carry link secrets: never logged.
"""

from __future__ import annotations

from email.message import EmailMessage
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from reviewflow.errors import ApprovalError
from reviewflow.providers.aws_errors import translate
from reviewflow.providers.notifier import SNS_CODES, plain_text_of, sns_subject

REVIEWER_ATTRIBUTE = "reviewer"


class SnsReviewerNotifier:
    """``ReviewerNotifier`` that publishes one message per reviewer to the reviewer topic."""

    def __init__(self, client: Any, topic_arn: str) -> None:
        self._client = client
        self._topic_arn = topic_arn

    def send_to(self, reviewer_id: str, message: EmailMessage) -> str:
        request: dict[str, Any] = {
            "TopicArn": self._topic_arn,
            "Subject": sns_subject(message),
            "Message": plain_text_of(message),
        }
        if reviewer_id:
            request["MessageAttributes"] = {
                REVIEWER_ATTRIBUTE: {"DataType": "String", "StringValue": reviewer_id}
            }
        try:
            answer = self._client.publish(**request)
        except (ClientError, BotoCoreError) as exc:
            raise translate(exc, "SNS publish", SNS_CODES, ApprovalError) from exc
        return str(answer.get("MessageId", ""))
