"""The local outbox as the reminders' ``ReviewerNotifier``: ``send_to`` writes the ``.eml`` To: the
reminded reviewer (the anonymous mailbox for an empty id, as ``SnsNotifier.send_to``), then
publishes through the real SNS adapter exactly what AWS would; the reminder header is read back."""

from __future__ import annotations

from email.message import EmailMessage
from pathlib import Path

import boto3
import pytest
from botocore.stub import Stubber

from reviewflow.errors import ApprovalError
from reviewflow.providers.notifier import SnsNotifier
from reviewflow_local.outbox import Outbox, OutboxNotifier

TOPIC = "arn:aws:sns:us-east-1:123456789012:reviewers"
LINK = "http://127.0.0.1:9/prod/approvals/ap-1?s=fresh-secret"


def reminder(step: str = "reminder") -> EmailMessage:
    message = EmailMessage()
    message["Subject"] = f"{step.capitalize()}: review for product p-1 still waiting (review r-1)"
    message["X-Reviewflow-Approval-Id"] = "ap-1"
    message["X-Reviewflow-Stage"] = "REVIEW"
    message["X-Reviewflow-Reminder"] = step
    message.set_content(f"Open the page:\n{LINK}\n")
    message.add_alternative(f'<p><a href="{LINK}">Open</a></p>', subtype="html")
    return message


@pytest.fixture
def sns() -> tuple[object, Stubber]:
    client = boto3.client("sns", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
    return client, Stubber(client)


def test_send_to_a_reviewer_writes_their_mail_and_publishes_filtered_on_their_id(
    tmp_path: Path, sns: tuple[object, Stubber]
) -> None:
    client, stubber = sns
    stubber.add_response(
        "publish",
        {"MessageId": "m-1"},
        {
            "TopicArn": TOPIC,
            "Subject": "Escalation: review for product p-1 still waiting (review r-1)",
            "Message": f"Open the page:\n{LINK}\n",
            "MessageAttributes": {"reviewer": {"DataType": "String", "StringValue": "lead"}},
        },
    )
    outbox = Outbox(tmp_path / "outbox")
    notifier = OutboxNotifier(
        outbox,
        "anyone@example.com",
        then=lambda: SnsNotifier(client, TOPIC),
        roster={"lead": "lead@example.com", "reviewer-1": "one@example.com"},
    )
    with stubber:
        assert notifier.send_to("lead", reminder("escalation")) == "m-1"
    stubber.assert_no_pending_responses()
    (written,) = outbox.messages()
    assert notifier.sent == [written.path]
    assert written.to == "lead@example.com"
    assert written.reminder == "escalation"
    assert written.approval_id == "ap-1" and written.approval_links == [LINK]


def test_send_to_without_an_id_reaches_the_anonymous_mailbox_unfiltered(
    tmp_path: Path, sns: tuple[object, Stubber]
) -> None:
    client, stubber = sns
    stubber.add_response(
        "publish",
        {"MessageId": "m-2"},
        {
            "TopicArn": TOPIC,
            "Subject": "Reminder: review for product p-1 still waiting (review r-1)",
            "Message": f"Open the page:\n{LINK}\n",
        },
    )
    outbox = Outbox(tmp_path / "outbox")
    notifier = OutboxNotifier(outbox, "anyone@example.com", then=lambda: SnsNotifier(client, TOPIC))
    with stubber:
        assert notifier.send_to("", reminder()) == "m-2"
    (written,) = outbox.messages()
    assert written.to == "anyone@example.com" and written.reminder == "reminder"


def test_send_to_a_reviewer_nobody_subscribed_is_refused_and_nothing_is_written(tmp_path: Path) -> None:
    outbox = Outbox(tmp_path / "outbox")
    notifier = OutboxNotifier(outbox, None, roster={"reviewer-1": "one@example.com"})
    with pytest.raises(ApprovalError, match="'ghost'"):
        notifier.send_to("ghost", reminder())
    assert outbox.messages() == [] and notifier.sent == []


def test_an_approval_email_is_not_a_reminder(tmp_path: Path) -> None:
    outbox = Outbox(tmp_path / "outbox")
    message = reminder()
    del message["X-Reviewflow-Reminder"]
    OutboxNotifier(outbox, "anyone@example.com").send(message)
    (written,) = outbox.messages()
    assert written.reminder is None and written.to == "anyone@example.com"


def test_a_subject_folded_after_its_colon_reads_back_unchanged(tmp_path: Path) -> None:
    outbox = Outbox(tmp_path / "outbox")
    message = reminder()
    subject = "Reminder: review for product kettle-200 still waiting (review wf-reminded)"
    message.replace_header("Subject", subject)  # with "Subject: " longer than a 78-character line
    OutboxNotifier(outbox, "anyone@example.com").send(message)
    assert b"Subject:\r\n " in outbox.messages()[0].path.read_bytes()
    assert outbox.messages()[0].subject == subject
