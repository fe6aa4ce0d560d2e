"""Reminders and escalation over the local stack: a review left waiting gets one reminder, then one
escalation, each at its fraction of the approval window, and the decision's audit carries both.

The clock is driven, not waited for: moto never fires the EventBridge schedule, so the test invokes
the deployed ``send_reminders`` function with scheduled events whose ``time`` it chooses (the
field EventBridge sets), from just after the request up to just before the deadline.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

from reviewflow_local import reviewer
from reviewflow_local.outbox import OutboxMessage
from reviewflow_local.reminders_local import run_reminders
from tests.workflow.conftest import approval_link, decide_over_http, wait_until

ESCALATION = {"id": "lead", "email": "lead@example.com"}


def _moment(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _reviewer_inbox(stack: Any) -> tuple[Any, str]:
    """An SQS queue subscribed, unfiltered, to the reviewer topic: every message with its attributes."""
    sqs, sns = stack.client("sqs"), stack.client("sns")
    url = sqs.create_queue(QueueName="reminders-inbox")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sns.subscribe(TopicArn=stack.resources.reviewer_topic_arn, Protocol="sqs", Endpoint=arn)
    return sqs, url


def _drain(sqs: Any, url: str) -> list[dict[str, Any]]:
    """The reminders and escalations published since the last call (approval emails left out)."""
    found: list[dict[str, Any]] = []
    while True:
        messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
        if not messages:
            return found
        for message in messages:
            body = json.loads(message["Body"])
            if body.get("Subject", "").startswith(("Reminder:", "Escalation:")):
                found.append(body)
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])


def reminder_emails(stack: Any, approval_id: str) -> list[OutboxMessage]:
    """The outbox's reminder and escalation emails of one approval, oldest first."""
    return [m for m in stack.outbox.messages() if m.approval_id == approval_id and m.reminder]


def test_a_reminder_then_an_escalation_fire_once_each_and_reach_the_decision(stack_factory: Any) -> None:
    stack = stack_factory(
        {
            "reminder_fractions": "[0.5]",
            "escalation_fraction": "0.8",
            "escalation_reviewers": json.dumps([ESCALATION]),
        }
    )
    sqs, inbox = _reviewer_inbox(stack)
    stack.post_reviews(
        [
            {
                "review_id": "wf-reminded",
                "product_id": "kettle-200",
                "language": "de",
                "review_text": "Der Wasserkocher ist schnell und leise.",
            }
        ]
    )
    pending = wait_until(
        lambda: [a for a in stack.pending_approvals() if a["review_id"] == "wf-reminded"],
        60,
        "the approval of the review left waiting",
    )[0]
    approval_id = pending["approval_id"]
    start, deadline = _moment(pending["created_at"]), _moment(pending["deadline_at"])
    assert deadline == start + timedelta(seconds=172_800)  # the deployed approval window

    def at(fraction: float) -> datetime:
        return start + (deadline - start) * fraction

    def sent(fraction: float) -> list[tuple[str, str, str | None]]:
        run = run_reminders(stack, now=at(fraction))
        assert run["examined"] >= 1  # the approval is in the index while it waits
        return [(s["approval_id"], s["step"], s["reviewer_id"]) for s in run["sent"] if s["delivered"]]

    approval_link(stack, "wf-reminded", "REVIEW")  # the approval email went out
    assert sent(0.1) == [] and sent(0.49) == []
    # Half the window: the reminder, to the deployment's one anonymous mailbox (no roster).
    assert sent(0.5) == [(approval_id, "reminder", None)]
    assert sent(0.55) == [] and sent(0.79) == []  # once only, and not yet the escalation
    (reminder,) = _drain(sqs, inbox)
    assert reminder["Subject"].startswith("Reminder:") and "wf-reminded" in reminder["Subject"]
    assert "reviewer" not in reminder.get("MessageAttributes", {})
    assert "Deadline:" in reminder["Message"]
    # The same email in the local outbox, To: the deployment's one mailbox, and without a link:
    # an anonymous approval's reminder points back at the original email instead.
    original = approval_link(stack, "wf-reminded", "REVIEW")
    (reminded,) = reminder_emails(stack, approval_id)
    assert (reminded.reminder, reminded.to) == ("reminder", stack.resources.reviewer_email)
    assert reminded.subject == reminder["Subject"] and reminded.approval_links == []

    # Four fifths: the escalation, addressed to the escalation reviewer's filtered subscription.
    assert sent(0.8) == [(approval_id, "escalation", "lead")]
    assert sent(0.9) == [] and sent(0.999) == []
    (escalation,) = _drain(sqs, inbox)
    assert escalation["Subject"].startswith("Escalation:")
    assert escalation["MessageAttributes"]["reviewer"] == {"Type": "String", "Value": "lead"}
    assert f"{stack.front.stage_url}/approvals/{approval_id}?s=" in escalation["Message"]
    # In the outbox: To: the escalation reviewer's own subscription (read from moto like the
    # roster's), with one fresh personal link that opens the approval page.
    assert stack.resources.reviewer_emails == {"lead": ESCALATION["email"]}
    (_, escalated) = reminder_emails(stack, approval_id)
    assert (escalated.reminder, escalated.to) == ("escalation", ESCALATION["email"])
    (lead_link,) = escalated.approval_links
    assert lead_link.startswith(f"{stack.front.stage_url}/approvals/{approval_id}?s=")
    assert lead_link != original and lead_link in escalation["Message"]
    page = reviewer.fetch(lead_link)
    assert page.status == 200 and reviewer.decision_forms(page.body)

    item = stack.client("dynamodb").get_item(
        TableName=stack.resources.table_name, Key={"pk": {"S": f"approval#{approval_id}"}}
    )["Item"]
    assert set(item["reminder_steps"]["SS"]) == {"reminder@0.5000", "escalation@0.8000"}
    assert [r["S"] for r in item["reviewer_ids"]["L"]] == ["lead"]

    # The roster's original link decides; the outcome's audit carries what was sent before it.
    # The reply then waits for its own approval, which nobody was reminded of.
    assert decide_over_http(stack, "wf-reminded", "REVIEW", "APPROVED").status == 200
    assert decide_over_http(stack, "wf-reminded", "RESPONSE", "APPROVED").status == 200
    event = stack.outcome_for("wf-reminded", timeout=120)
    decisions = {d["stage"]: d for d in event["detail"]["human_decisions"]}
    assert decisions["RESPONSE"]["reminders"] == []
    decision = decisions["REVIEW"]
    assert [(r["step"], r["fraction"], r["recipients"]) for r in decision["reminders"]] == [
        ("reminder", 0.5, []),
        ("escalation", 0.8, ["lead"]),
    ]
    assert [r["sent_at"] for r in decision["reminders"]] == [
        at(0.5).strftime("%Y-%m-%dT%H:%M:%SZ"),
        at(0.8).strftime("%Y-%m-%dT%H:%M:%SZ"),
    ]
    # Decided: out of the index, so nothing more is ever sent for it.
    after = run_reminders(stack, now=at(0.95))
    assert all(s["approval_id"] != approval_id for s in after["sent"])
    assert approval_id not in {a["approval_id"] for a in stack.pending_approvals()}
