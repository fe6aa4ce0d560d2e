"""Reminders and escalation (issue 15): due-step selection, the once-only write, the emails, the
per-reviewer notifier and the scheduled handler's clock. Every clock is explicit: no sleeping."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from email.message import EmailMessage
from typing import Any

import boto3
import pytest
from approval_builders import BASE_URL, LINK, TASK_TOKEN, approval_request, create_approvals_table
from botocore.stub import ANY, Stubber
from moto import mock_aws

from reviewflow.domain.approvals import links
from reviewflow.domain.approvals.decisions import task_decision_of
from reviewflow.domain.approvals.reminders import (
    DueStep,
    ReminderPlan,
    due_step,
    recipients_for,
    send_due_reminders,
    step_key,
)
from reviewflow.domain.approvals.requests import snapshot_of
from reviewflow.errors import ApprovalError, ConfigurationError, InvalidInputError
from reviewflow.models import approvals as records
from reviewflow.models.steps import ApprovalRequest
from reviewflow.models.team import ReminderSent, ReminderStep

START = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
DEADLINE = START + timedelta(hours=10)
TABLE = "reminders-test-table"
PLAN = ReminderPlan(reminder_fractions=(0.5,), escalation_fraction=0.8, escalation_reviewer_ids=("lead",))


def at(fraction: float) -> datetime:
    return START + (DEADLINE - START) * fraction


def record(**changes: Any) -> records.ApprovalRecord:
    request = ApprovalRequest.model_validate(
        approval_request(review_text='It broke <script>alert(1)</script> & I\'m "annoyed"')
    )
    base = records.ApprovalRecord(
        approval_id="Abcdefghijklmnopqrstuv",
        status=records.ApprovalStatus.PENDING,
        stage=request.stage,
        review_id="rev-42",
        product_id="blender-9000",
        execution_id="exec-1",
        created_at="2026-11-23T10:00:00Z",
        expires_at=int(DEADLINE.timestamp()),
        secret_sha256=links.hash_secret("s"),
        task_token=TASK_TOKEN,
        snapshot=snapshot_of(request),
        deadline_at="2026-11-23T20:00:00Z",
        pending_pk="approval#PENDING",
        reviewer_ids=["ana", "bo"],
    )
    return base.model_copy(update=changes)


def sent(step: ReminderStep, fraction: float) -> ReminderSent:
    return ReminderSent(step=step, fraction=fraction, sent_at="2026-11-23T15:00:00Z", recipients=["ana"])


# ----------------------------------------------------------------------------- selection


def test_nothing_is_due_before_the_first_fraction():
    assert due_step(record(), at(0.49), PLAN) is None


def test_the_reminder_is_due_at_its_fraction_and_the_escalation_at_its_own():
    assert due_step(record(), at(0.5), PLAN) == DueStep(step=ReminderStep.REMINDER, fraction=0.5)
    reminded = record(reminders=[sent(ReminderStep.REMINDER, 0.5)])
    assert due_step(reminded, at(0.79), PLAN) is None
    assert due_step(reminded, at(0.8), PLAN) == DueStep(step=ReminderStep.ESCALATION, fraction=0.8)


def test_a_step_already_sent_is_never_due_again():
    done = record(reminders=[sent(ReminderStep.REMINDER, 0.5), sent(ReminderStep.ESCALATION, 0.8)])
    assert due_step(done, at(0.6), PLAN) is None
    assert due_step(done, at(0.95), PLAN) is None


@pytest.mark.parametrize(
    "changes",
    [
        {"status": records.ApprovalStatus.APPROVED, "pending_pk": None},
        {"status": records.ApprovalStatus.REJECTED, "pending_pk": None},
        {"status": records.ApprovalStatus.EXPIRED, "pending_pk": None},
        {"pending_pk": None},  # out of the index: decided or closed, whatever the status says
        {"deadline_at": None},  # an item from before reminders: nothing to measure against
    ],
)
def test_decided_closed_or_unindexed_approvals_get_nothing(changes):
    assert due_step(record(**changes), at(0.9), PLAN) is None


def test_nothing_at_or_after_the_deadline_the_timeout_is_the_workflows():
    assert due_step(record(), DEADLINE, PLAN) is None
    assert due_step(record(), DEADLINE + timedelta(minutes=1), PLAN) is None


def test_after_missed_runs_only_the_latest_due_step_is_sent():
    plan = ReminderPlan(
        reminder_fractions=(0.3, 0.5), escalation_fraction=0.8, escalation_reviewer_ids=("x",)
    )
    assert due_step(record(), at(0.85), plan) == DueStep(step=ReminderStep.ESCALATION, fraction=0.8)
    # An earlier step than one already sent is skipped for good.
    late = record(reminders=[sent(ReminderStep.REMINDER, 0.5)])
    assert due_step(late, at(0.6), plan) is None


def test_without_escalation_reviewers_there_is_no_escalation_step():
    plan = ReminderPlan(reminder_fractions=(0.5,), escalation_fraction=0.8)
    reminded = record(reminders=[sent(ReminderStep.REMINDER, 0.5)])
    assert due_step(reminded, at(0.9), plan) is None
    assert [step for step, _ in plan.steps()] == [ReminderStep.REMINDER]


def test_recipients_the_roster_the_escalation_list_or_the_anonymous_mailbox():
    reminder = DueStep(step=ReminderStep.REMINDER, fraction=0.5)
    escalation = DueStep(step=ReminderStep.ESCALATION, fraction=0.8)
    assert recipients_for(record(reviewer_ids=["ana", "bo", "ana"]), reminder, PLAN) == ["ana", "bo"]
    assert recipients_for(record(), escalation, PLAN) == ["lead"]
    assert recipients_for(record(reviewer_ids=[]), reminder, PLAN) == [""]


@pytest.mark.parametrize(
    "plan",
    [
        {"reminder_fractions": (0.0,)},
        {"reminder_fractions": (1.0,)},
        {"reminder_fractions": (0.5, 0.5)},
        {"reminder_fractions": (0.5,), "escalation_fraction": 0.5},
    ],
)
def test_inconsistent_plans_are_refused(plan):
    with pytest.raises(ValueError):
        ReminderPlan(**plan)


# ----------------------------------------------------------------------------- one run, fakes


@dataclass
class FakeStore:
    items: list[records.ApprovalRecord]
    written: list[tuple[str, str, ReminderSent, dict[str, str], list[str]]] = field(default_factory=list)
    refuse: bool = False

    def pending_before_deadline(self, now: datetime) -> list[records.ApprovalRecord]:
        return [item for item in self.items if item.deadline_at and item.expires_at_datetime > now]

    def record_reminder(self, rec, key, reminder, new_links, new_ids) -> bool:
        if self.refuse or any(step_key(s.step, s.fraction) == key for s in rec.reminders):
            return False
        self.written.append((rec.approval_id, key, reminder, new_links, new_ids))
        index = next(i for i, item in enumerate(self.items) if item.approval_id == rec.approval_id)
        self.items[index] = rec.model_copy(update={"reminders": [*rec.reminders, reminder]})
        return True


@dataclass
class FakeNotifier:
    sent: list[tuple[str, EmailMessage]] = field(default_factory=list)
    fail_for: set[str] = field(default_factory=set)

    def send_to(self, reviewer_id: str, message: EmailMessage) -> str:
        if reviewer_id in self.fail_for:
            raise ApprovalError("SNS publish failed")
        self.sent.append((reviewer_id, message))
        return f"m-{len(self.sent)}"


def _compose(rec, step, link, now, queue_url=None) -> EmailMessage:
    message = EmailMessage()
    message["Subject"] = f"{step.value} {rec.approval_id}"
    message.set_content("\n".join(filter(None, [link or "no link", queue_url])))
    return message


def _run(store: FakeStore, notifier: FakeNotifier, now: datetime):
    secrets = iter(f"secret-{n:02d}" for n in range(100))
    return send_due_reminders(
        now, PLAN, store=store, notifier=notifier, compose=_compose, base_url=BASE_URL,
        new_secret=lambda: next(secrets),
    )  # fmt: skip


def test_a_run_reminds_each_roster_member_once_with_a_fresh_personal_link():
    store, notifier = FakeStore([record()]), FakeNotifier()
    run = _run(store, notifier, at(0.55))
    assert [rid for rid, _ in notifier.sent] == ["ana", "bo"]
    (approval_id, key, reminder, new_links, new_ids) = store.written[0]
    assert key == "reminder@0.5000" and new_ids == []
    assert reminder.recipients == ["ana", "bo"] and reminder.sent_at == "2026-11-23T15:30:00Z"
    assert new_links == {links.hash_secret("secret-00"): "ana", links.hash_secret("secret-01"): "bo"}
    body = notifier.sent[0][1].get_content()
    match = LINK.search(body)
    assert match and match["id"] == approval_id and match["secret"] == "secret-00"
    # The same fresh secret opens ana's queue, named by her id (bo's message names bo).
    assert f"/reviewers/ana/queue?a={approval_id}&s=secret-00" in body
    assert f"/reviewers/bo/queue?a={approval_id}&s=secret-01" in notifier.sent[1][1].get_content()
    assert run.as_dict()["sent"][0] == {
        "approval_id": approval_id, "step": "reminder", "fraction": 0.5, "reviewer_id": "ana",
        "delivered": True,
    }  # fmt: skip
    # The next run, still before the escalation: nothing again.
    assert _run(store, notifier, at(0.6)).deliveries == [] and len(notifier.sent) == 2


def test_the_escalation_adds_its_reviewers_to_the_approval():
    store, notifier = FakeStore([record(reminders=[sent(ReminderStep.REMINDER, 0.5)])]), FakeNotifier()
    _run(store, notifier, at(0.81))
    assert [rid for rid, _ in notifier.sent] == ["lead"]
    assert store.written[0][1] == "escalation@0.8000" and store.written[0][4] == ["lead"]


def test_an_anonymous_approval_gets_one_reminder_without_a_new_link():
    store, notifier = FakeStore([record(reviewer_ids=[])]), FakeNotifier()
    _run(store, notifier, at(0.5))
    assert [rid for rid, _ in notifier.sent] == [""]
    assert store.written[0][3] == {} and store.written[0][2].recipients == []
    assert notifier.sent[0][1].get_content().strip() == "no link"


def test_a_lost_race_sends_nothing():
    store, notifier = FakeStore([record()], refuse=True), FakeNotifier()
    run = _run(store, notifier, at(0.6))
    assert notifier.sent == [] and run.lost_races == 1 and run.examined == 1


def test_a_failed_delivery_is_reported_and_not_retried():
    store, notifier = FakeStore([record()]), FakeNotifier(fail_for={"ana"})
    run = _run(store, notifier, at(0.6))
    assert [(d.reviewer_id, d.delivered, d.error) for d in run.deliveries] == [
        ("ana", False, "ApprovalError"),
        ("bo", True, None),
    ]
    notifier.fail_for.clear()
    assert _run(store, notifier, at(0.7)).deliveries == []


def test_the_decision_carries_the_reminders_sent_before_it():
    history = [sent(ReminderStep.REMINDER, 0.5), sent(ReminderStep.ESCALATION, 0.8)]
    audit = records.DecisionAudit(decision="APPROVED", reviewer="Sam", decided_at="2026-11-23T19:00:00Z")
    decision = task_decision_of(record(reminders=history), audit)
    assert decision.reminders == history


# ----------------------------------------------------------------------------- the DynamoDB store


def _stubbed_store():
    from reviewflow.providers.reminder_store import DynamoReminderStore

    client = boto3.client("dynamodb", region_name="us-east-1")
    return DynamoReminderStore(client, TABLE), Stubber(client)


def test_the_reminder_write_is_one_conditional_update():
    store, stub = _stubbed_store()
    reminder = ReminderSent(step="reminder", fraction=0.5, sent_at="2026-11-23T15:00:00Z", recipients=["ana"])
    stub.add_response(
        "update_item",
        {},
        {
            "TableName": TABLE,
            "Key": {"pk": {"S": "approval#Abcdefghijklmnopqrstuv"}},
            "UpdateExpression": (
                "SET reminders = list_append(if_not_exists(reminders, :empty), :entry), "
                "reviewer_links.#h0 = :r0 ADD #steps :step"
            ),
            "ConditionExpression": (
                "attribute_exists(pending_pk) AND "
                "(attribute_not_exists(#steps) OR NOT contains(#steps, :stepkey))"
            ),
            "ExpressionAttributeNames": {"#steps": "reminder_steps", "#h0": "f" * 64},
            "ExpressionAttributeValues": {
                ":step": {"SS": ["reminder@0.5000"]},
                ":stepkey": {"S": "reminder@0.5000"},
                ":entry": {
                    "L": [
                        {
                            "M": {
                                "step": {"S": "reminder"},
                                "fraction": {"N": "0.5"},
                                "sent_at": {"S": "2026-11-23T15:00:00Z"},
                                "recipients": {"L": [{"S": "ana"}]},
                            }
                        }
                    ]
                },
                ":empty": {"L": []},
                ":r0": {"S": "ana"},
            },
        },
    )
    stub.add_client_error("update_item", "ConditionalCheckFailedException")
    stub.add_client_error("update_item", "ValidationException")
    existing = record(reviewer_links={"e" * 64: "ana"})
    with stub:
        assert store.record_reminder(existing, "reminder@0.5000", reminder, {"f" * 64: "ana"}, [])
        # Already sent, decided or closed (no pending_pk): the condition fails, nothing is sent.
        assert not store.record_reminder(existing, "reminder@0.5000", reminder, {"f" * 64: "ana"}, [])
        with pytest.raises(ApprovalError):
            store.record_reminder(existing, "reminder@0.5000", reminder, {"f" * 64: "ana"}, [])
    stub.assert_no_pending_responses()


def test_pending_approvals_are_queried_from_the_index_page_by_page():
    from reviewflow.providers.approval_store import to_item

    store, stub = _stubbed_store()
    item = to_item(record())
    expected = {
        "TableName": TABLE,
        "IndexName": "PendingByDeadline",
        "KeyConditionExpression": "pending_pk = :pending AND deadline_at > :now",
        "ExpressionAttributeValues": {
            ":pending": {"S": "approval#PENDING"},
            ":now": {"S": "2026-11-23T15:00:00Z"},
        },
    }
    stub.add_response("query", {"Items": [item], "LastEvaluatedKey": {"pk": item["pk"]}}, expected)
    stub.add_response("query", {"Items": [item]}, {**expected, "ExclusiveStartKey": {"pk": item["pk"]}})
    with stub:
        found = list(store.pending_before_deadline(at(0.5)))
    assert [r.approval_id for r in found] == ["Abcdefghijklmnopqrstuv"] * 2
    stub.assert_no_pending_responses()


@pytest.fixture
def table() -> Any:
    with mock_aws():
        client = boto3.client("dynamodb", region_name="us-east-1")
        create_approvals_table(client, TABLE)
        yield client


def test_decisions_and_closes_take_an_approval_out_of_the_index(table):
    from reviewflow.providers.approval_store import DynamoApprovalStore
    from reviewflow.providers.reminder_store import DynamoReminderStore

    approvals, reminders = DynamoApprovalStore(table, TABLE), DynamoReminderStore(table, TABLE)
    decided, closed = record(approval_id="decided-0000000000000"), record(approval_id="closed-00000000000000")
    approvals.create(decided.model_copy(update={"pending_pk": None}))  # the store sets it itself
    approvals.create(closed)
    assert {r.approval_id for r in reminders.pending_before_deadline(at(0.5))} == {
        decided.approval_id,
        closed.approval_id,
    }
    assert not list(reminders.pending_before_deadline(DEADLINE))  # the deadline is the query's bound

    audit = records.DecisionAudit(decision="APPROVED", reviewer="Sam", decided_at="2026-11-23T15:00:00Z")
    assert approvals.record_decision(decided.approval_id, audit, now_epoch=int(at(0.5).timestamp()))
    approvals.mark_not_waiting(
        closed.approval_id, reason="ExecutionDoesNotExist", closed_at="2026-11-23T15:00:00Z"
    )
    assert list(reminders.pending_before_deadline(at(0.5))) == []
    stored = approvals.get(decided.approval_id)
    assert stored is not None and stored.pending_pk is None
    # Never after a decision: the once-only write refuses an item out of the index.
    reminder = ReminderSent(step="reminder", fraction=0.5, sent_at="2026-11-23T15:00:00Z")
    assert not reminders.record_reminder(stored, "reminder@0.5000", reminder, {}, [])
    # A decision rolled back (the workflow could not be resumed) is pending again, so back in the index.
    assert approvals.release_decision(decided.approval_id, decided_at=audit.decided_at, error="X")
    assert [r.approval_id for r in reminders.pending_before_deadline(at(0.5))] == [decided.approval_id]


def test_the_once_only_write_against_the_table(table):
    from reviewflow.providers.approval_store import DynamoApprovalStore
    from reviewflow.providers.reminder_store import DynamoReminderStore

    approvals, reminders = DynamoApprovalStore(table, TABLE), DynamoReminderStore(table, TABLE)
    approvals.create(record(reviewer_links={"a" * 64: "ana", "b" * 64: "bo"}))
    (pending,) = reminders.pending_before_deadline(at(0.5))
    first = ReminderSent(step="reminder", fraction=0.5, sent_at="2026-11-23T15:00:00Z", recipients=["ana"])
    assert reminders.record_reminder(pending, "reminder@0.5000", first, {"c" * 64: "ana"}, [])
    assert not reminders.record_reminder(pending, "reminder@0.5000", first, {"d" * 64: "ana"}, [])
    escalation = ReminderSent(
        step="escalation", fraction=0.8, sent_at="2026-11-23T18:00:00Z", recipients=["lead"]
    )
    assert reminders.record_reminder(pending, "escalation@0.8000", escalation, {"e" * 64: "lead"}, ["lead"])
    stored = approvals.get(pending.approval_id)
    assert stored is not None
    assert stored.reminders == [first, escalation]
    assert stored.reviewer_ids == ["ana", "bo", "lead"]
    assert stored.reviewer_links == {"a" * 64: "ana", "b" * 64: "bo", "c" * 64: "ana", "e" * 64: "lead"}
    raw = table.get_item(TableName=TABLE, Key={"pk": {"S": "approval#" + pending.approval_id}})["Item"]
    assert set(raw["reminder_steps"]["SS"]) == {"reminder@0.5000", "escalation@0.8000"}
    assert raw["reminders"]["L"][0]["M"]["fraction"] == {"N": str(Decimal("0.5"))}


# ----------------------------------------------------------------------------- emails and SNS


def test_the_reminder_email_escapes_the_review_and_names_deadline_and_link():
    from reviewflow.presentation.reminder_emails import build_reminder_email

    link = links.approval_link(BASE_URL, "Abcdefghijklmnopqrstuv", "fresh-secret")
    message = build_reminder_email(record(), ReminderStep.REMINDER, link, at(0.5))
    assert message["Subject"] == "Reminder: review for product blender-9000 still waiting (review rev-42)"
    text = message.get_body(("plain",)).get_content()
    html_part = message.get_body(("html",)).get_content()
    assert link in text and "Deadline:    2026-11-23 20:00 UTC" in text and "5 h" in text
    assert "<script>" in text  # plain text is not markup
    assert "<script>" not in html_part and "&lt;script&gt;alert(1)&lt;/script&gt; &amp; I&#x27;m" in html_part
    assert f'href="{link}"' in html_part and "2026-11-23 20:00 UTC" in html_part
    escalation = build_reminder_email(record(), ReminderStep.ESCALATION, None, at(0.8))
    assert (
        escalation["Subject"].startswith("Escalation:")
        and escalation["X-Reviewflow-Reminder"] == "escalation"
    )
    assert "original approval email" in escalation.get_body(("plain",)).get_content()


def test_the_notifier_addresses_each_message_to_one_reviewer():
    from reviewflow.providers.notifier import SnsNotifier

    client = boto3.client("sns", region_name="us-east-1")
    topic = "arn:aws:sns:us-east-1:123456789012:reviewers"
    notifier, stub = SnsNotifier(client, topic), Stubber(client)
    message = EmailMessage()
    message["Subject"] = "Reminder: waiting"
    message.set_content("body\n")
    stub.add_response(
        "publish",
        {"MessageId": "m-1"},
        {
            "TopicArn": topic,
            "Subject": "Reminder: waiting",
            "Message": "body\n",
            "MessageAttributes": {"reviewer": {"DataType": "String", "StringValue": "ana"}},
        },
    )
    stub.add_response("publish", {"MessageId": "m-2"}, {"TopicArn": topic, "Subject": ANY, "Message": ANY})
    stub.add_client_error("publish", "AuthorizationError")
    with stub:
        assert notifier.send_to("ana", message) == "m-1"
        assert notifier.send_to("", message) == "m-2"  # no attribute: the unfiltered subscription only
        with pytest.raises(ConfigurationError):  # a missing grant is a deployment fault, not retried
            notifier.send_to("bo", message)
    stub.assert_no_pending_responses()


# ----------------------------------------------------------------------------- the handler's clock


def test_the_scheduled_events_time_is_the_runs_now():
    from reviewflow.handlers.send_reminders import run_time

    assert run_time({"time": "2026-11-23T15:00:00Z"}) == at(0.5)
    assert run_time({"time": "2026-11-23T15:00:00"}) == at(0.5)
    with pytest.raises(InvalidInputError):
        run_time({"time": "yesterday"})
    before = datetime.now(UTC)
    assert before <= run_time({}) <= datetime.now(UTC) + timedelta(seconds=1)


def test_a_run_logs_undelivered_messages_by_id_only(captured_logs):
    from reviewflow.domain.approvals.reminders import ReminderDelivery, ReminderRun
    from reviewflow.handlers.send_reminders import report

    run = ReminderRun(now="2026-11-23T15:00:00Z", examined=2, lost_races=1)
    run.deliveries += [
        ReminderDelivery("Abcdefghijklmnopqrstuv", ReminderStep.REMINDER, 0.5, "ana", True),
        ReminderDelivery("Abcdefghijklmnopqrstuv", ReminderStep.REMINDER, 0.5, "bo", False, "ApprovalError"),
    ]
    report(run)
    text = "\n".join(captured_logs)
    assert "reminder recorded but not delivered" in text and '"reviewer_id":"bo"' in text.replace(" ", "")
    assert '"delivered":1' in text.replace(" ", "") and '"lost_races":1' in text.replace(" ", "")
