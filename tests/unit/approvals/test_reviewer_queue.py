"""The reviewer queue (issue 15): who may open it, what it lists, what it never shows.

The use case runs against moto's DynamoDB with the real ``PendingByDeadline`` index (Query,
FilterExpression on the reviewer id, projection); the request shape and paging are checked with
Stubber against the service model; the page and the handler's route are checked as rendered.
Every clock is explicit.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from approval_builders import BASE_URL, TASK_TOKEN, approval_request, create_approvals_table, lower_headers
from botocore.stub import Stubber
from moto import mock_aws

from reviewflow.domain.approvals import links
from reviewflow.domain.approvals.queue import MAX_QUEUE_ENTRIES, QueueOutcome, QueueRequest, show_queue
from reviewflow.domain.approvals.requests import snapshot_of
from reviewflow.errors import ConfigurationError, ProviderThrottledError
from reviewflow.models import approvals as records
from reviewflow.models.events import Stage
from reviewflow.models.steps import ApprovalRequest
from reviewflow.models.team import ReminderSent, ReminderStep
from reviewflow.presentation.queue_page import render_queue
from reviewflow.presentation.style import CONTENT_SECURITY_POLICY
from reviewflow.providers.approval_store import DynamoApprovalStore, to_item
from reviewflow.providers.reviewer_queue_store import DynamoReviewerQueue

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
TABLE = "queue-test-table"
HOSTILE = 'It broke <script>alert(1)</script> & I\'m "annoyed"'


def secret_of(reviewer_id: str, approval_id: str) -> str:
    return f"secret-{reviewer_id}-{approval_id}"


def record(
    approval_id: str, *, reviewers: tuple[str, ...] = ("ana", "bo"), hours_left: float = 6, **changes: Any
):
    request = ApprovalRequest.model_validate(approval_request(review_text=HOSTILE))
    deadline = NOW + timedelta(hours=hours_left)
    base = records.ApprovalRecord(
        approval_id=approval_id,
        status=records.ApprovalStatus.PENDING,
        stage=request.stage,
        review_id=f"rev-{approval_id[:6]}",
        product_id="blender-9000",
        execution_id="exec-1",
        created_at=(NOW - timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M:%SZ"),
        expires_at=int(deadline.timestamp()),
        secret_sha256="",
        task_token=TASK_TOKEN,
        snapshot=snapshot_of(request),
        deadline_at=deadline.strftime("%Y-%m-%dT%H:%M:%SZ"),
        reviewer_links={links.hash_secret(secret_of(rid, approval_id)): rid for rid in reviewers},
        reviewer_ids=list(reviewers),
    )
    return base.model_copy(update=changes)


ANA_1 = "AnaFirstApproval0001"
ANA_2 = "AnaSecondApproval002"
BO_ONLY = "BoOnlyApproval000003"
DECIDED = "DecidedApproval00004"


@pytest.fixture
def table() -> Any:
    with mock_aws():
        client = boto3.client("dynamodb", region_name="us-east-1")
        create_approvals_table(client, TABLE)
        for item in (
            record(ANA_1, hours_left=6),
            record(ANA_2, hours_left=1, reminders=[_reminder()]),
            record(BO_ONLY, reviewers=("bo",), hours_left=3),
            record(DECIDED, status=records.ApprovalStatus.APPROVED),
        ):
            client.put_item(TableName=TABLE, Item=to_item(item))
        # The workflow's ledger shares the table: the queue must never read it.
        client.put_item(TableName=TABLE, Item={"pk": {"S": "review#rev-1"}, "deadline_at": {"S": "z"}})
        yield client


def _reminder() -> ReminderSent:
    return ReminderSent(
        step=ReminderStep.REMINDER, fraction=0.5, sent_at="2026-11-23T11:00:00Z", recipients=["ana"]
    )


def _show(client: Any, reviewer_id: str, approval_id: str | None, secret: str | None, now: datetime = NOW):
    return show_queue(
        QueueRequest(reviewer_id, approval_id, secret),
        store=DynamoApprovalStore(client, TABLE),
        queue=DynamoReviewerQueue(client, TABLE),
        now=now,
    )


# ----------------------------------------------------------------------------- who may open it


def test_a_reviewer_s_own_link_lists_what_waits_for_them_soonest_first(table: Any) -> None:
    view = _show(table, "ana", ANA_1, secret_of("ana", ANA_1))
    assert view.outcome is QueueOutcome.LISTED and view.status == 200
    assert [entry.approval_id for entry in view.entries] == [ANA_2, ANA_1]  # 1 hour left, then 6
    bo = _show(table, "bo", ANA_1, secret_of("bo", ANA_1))
    assert [entry.approval_id for entry in bo.entries] == [ANA_2, BO_ONLY, ANA_1]


def test_the_entries_carry_no_task_token_and_no_link_hashes(table: Any) -> None:
    view = _show(table, "ana", ANA_1, secret_of("ana", ANA_1))
    for entry in view.entries:
        assert entry.task_token is None and entry.reviewer_links == {} and entry.secret_sha256 == ""
    assert view.entries[0].reminders == [_reminder()]


@pytest.mark.parametrize(
    ("reviewer_id", "approval_id", "secret", "why"),
    [
        ("bo", ANA_1, secret_of("ana", ANA_1), "ana's link with bo's id in the path"),
        ("ana", BO_ONLY, secret_of("ana", ANA_1), "ana's secret at another approval"),
        ("ana", BO_ONLY, secret_of("bo", BO_ONLY), "bo's own link with ana's id in the path"),
        ("ana", ANA_1, "", "an empty secret"),
        ("ana", ANA_1, None, "no secret"),
        ("ana", None, secret_of("ana", ANA_1), "no approval"),
        ("ana", "UnknownApproval00099", secret_of("ana", ANA_1), "an unknown approval"),
        ("ana", "not an id!", secret_of("ana", ANA_1), "a malformed approval id"),
        ("Ana/../bo", ANA_1, secret_of("ana", ANA_1), "a malformed reviewer id"),
        ("ana", ANA_1, secret_of("ana", ANA_1)[:-1], "a truncated secret"),
    ],
)
def test_every_wrong_link_gets_the_same_404(
    table: Any, reviewer_id: str, approval_id: str | None, secret: str | None, why: str
) -> None:
    view = _show(table, reviewer_id, approval_id, secret)
    assert (view.outcome, view.status, view.entries, view.secret) == (QueueOutcome.NOT_FOUND, 404, (), ""), (
        why
    )
    page = render_queue(view)
    assert page.status == 404 and "blender" not in page.body


def test_a_decided_approval_s_link_still_opens_the_queue_until_its_deadline(table: Any) -> None:
    view = _show(table, "ana", DECIDED, secret_of("ana", DECIDED))
    assert view.status == 200 and DECIDED not in [e.approval_id for e in view.entries]
    late = _show(table, "ana", DECIDED, secret_of("ana", DECIDED), now=NOW + timedelta(hours=6, seconds=1))
    assert (late.outcome, late.status, late.entries) == (QueueOutcome.LINK_EXPIRED, 410, ())
    assert render_queue(late).status == 410


def test_the_anonymous_link_opens_no_queue(table: Any) -> None:
    anonymous = record("AnonymousApproval005", reviewers=()).model_copy(
        update={"secret_sha256": links.hash_secret("anon-secret")}
    )
    table.put_item(TableName=TABLE, Item=to_item(anonymous))
    assert _show(table, "ana", anonymous.approval_id, "anon-secret").status == 404


def test_an_approval_past_its_deadline_leaves_the_queue(table: Any) -> None:
    later = NOW + timedelta(hours=1, minutes=1)  # ANA_2's window is over
    view = _show(table, "ana", ANA_1, secret_of("ana", ANA_1), now=later)
    assert [entry.approval_id for entry in view.entries] == [ANA_1]


def test_a_decision_the_index_has_not_caught_up_with_is_not_listed(table: Any) -> None:
    class StaleIndex:
        def pending_for(self, reviewer_id: str, now: datetime):
            yield record(DECIDED, status=records.ApprovalStatus.APPROVED)  # decided a moment ago
            yield record(BO_ONLY, reviewers=("bo",))  # not ana's
            yield record(ANA_1)

    view = show_queue(
        QueueRequest("ana", ANA_1, secret_of("ana", ANA_1)),
        store=DynamoApprovalStore(table, TABLE),
        queue=StaleIndex(),
        now=NOW,
    )
    assert [entry.approval_id for entry in view.entries] == [ANA_1]


def test_a_long_queue_is_cut_and_says_how_many_it_left_out(table: Any) -> None:
    class LongQueue:
        def pending_for(self, reviewer_id: str, now: datetime):
            for n in range(MAX_QUEUE_ENTRIES + 7):
                yield record(f"LongQueueApproval{n:03d}", hours_left=1 + n / 100)

    view = show_queue(
        QueueRequest("ana", ANA_1, secret_of("ana", ANA_1)), store=DynamoApprovalStore(table, TABLE),
        queue=LongQueue(), now=NOW,
    )  # fmt: skip
    assert len(view.entries) == MAX_QUEUE_ENTRIES and view.left_out == 7
    assert "7 more not shown" in render_queue(view).body


# ----------------------------------------------------------------------------- the page


def test_the_page_escapes_everything_links_only_its_own_approval_and_sends_the_strict_headers(
    table: Any,
) -> None:
    view = _show(table, "bo", BO_ONLY, secret_of("bo", BO_ONLY))
    page = render_queue(view)
    assert page.status == 200
    assert "<script>" not in page.body and "&lt;script&gt;alert(1)&lt;/script&gt; &amp; I&#x27;m" in page.body
    hrefs = re.findall(r'href="([^"]*)"', page.body)
    assert hrefs == [f"../../approvals/{BO_ONLY}?s={secret_of('bo', BO_ONLY)}"]
    # The other approvals are named by their email's subject, never linked; no other secret shows.
    assert f"Review needed: review for product blender-9000 (review rev-{ANA_1[:6]})" in page.body
    for other in (ANA_1, ANA_2):
        assert secret_of("bo", other) not in page.body and secret_of("ana", other) not in page.body
    assert "Waiting</dt><dd>2 hours" in page.body and "Time left</dt><dd>3 hours" in page.body
    assert "Reminders sent</dt><dd>1" in page.body  # ANA_2
    assert "<form" not in page.body and "<script" not in page.body
    assert page.headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
    assert page.headers["Cache-Control"] == "no-store" and page.headers["Referrer-Policy"] == "no-referrer"


def test_an_empty_queue_says_so() -> None:
    from reviewflow.domain.approvals.queue import QueueView

    page = render_queue(QueueView(QueueOutcome.LISTED, 200, reviewer_id="ana", now=NOW))
    assert "Nothing is waiting for you right now." in page.body and "<ol" not in page.body


def test_a_new_draft_in_the_queue_says_its_round() -> None:
    from reviewflow.domain.approvals.queue import QueueView

    entry = record(ANA_1)
    snapshot = entry.snapshot.model_copy(update={"round": 1, "max_rounds": 2, "response_text": "Thanks!"})
    entry = entry.model_copy(update={"stage": Stage.RESPONSE, "snapshot": snapshot})
    page = render_queue(QueueView(QueueOutcome.LISTED, 200, reviewer_id="ana", entries=(entry,), now=NOW))
    assert "Reply to approve" in page.body and "new draft 1 of at most 2" in page.body
    assert "reply (new draft 1) for product blender-9000" in page.body  # the subject to look for


# ----------------------------------------------------------------------------- the adapter


def _stubbed() -> tuple[Any, Stubber]:
    client = boto3.client("dynamodb", region_name="us-east-1")
    return client, Stubber(client)


def test_the_query_reads_the_pending_index_with_a_filter_and_a_projection_across_pages() -> None:
    client, stub = _stubbed()
    first, second = to_item(record(ANA_2, hours_left=1)), to_item(record(ANA_1))
    expected = {
        "TableName": TABLE,
        "IndexName": "PendingByDeadline",
        "KeyConditionExpression": "pending_pk = :pending AND deadline_at > :now",
        "FilterExpression": "contains(#q10, :reviewer)",
        "ProjectionExpression": ", ".join(f"#q{n}" for n in range(12)),
        "ExpressionAttributeNames": {
            "#q0": "approval_id", "#q1": "status", "#q2": "stage", "#q3": "review_id", "#q4": "product_id",
            "#q5": "execution_id", "#q6": "created_at", "#q7": "expires_at", "#q8": "deadline_at",
            "#q9": "snapshot", "#q10": "reviewer_ids", "#q11": "reminders",
        },
        "ExpressionAttributeValues": {
            ":pending": {"S": "approval#PENDING"}, ":now": {"S": "2026-11-23T12:00:00Z"},
            ":reviewer": {"S": "ana"},
        },
    }  # fmt: skip
    projected = {k: v for k, v in first.items() if k not in ("task_token", "reviewer_links", "secret_sha256")}
    stub.add_response("query", {"Items": [projected], "LastEvaluatedKey": {"pk": first["pk"]}}, expected)
    stub.add_response("query", {"Items": [second]}, {**expected, "ExclusiveStartKey": {"pk": first["pk"]}})
    with stub:
        found = list(DynamoReviewerQueue(client, TABLE).pending_for("ana", NOW))
    stub.assert_no_pending_responses()
    assert [entry.approval_id for entry in found] == [ANA_2, ANA_1]


@pytest.mark.parametrize(
    ("code", "error"),
    [
        ("ProvisionedThroughputExceededException", ProviderThrottledError),
        ("AccessDeniedException", ConfigurationError),
    ],
)
def test_a_failed_query_is_a_typed_error(code: str, error: type[Exception]) -> None:
    client, stub = _stubbed()
    stub.add_client_error("query", service_error_code=code, http_status_code=400)
    with stub, pytest.raises(error):
        list(DynamoReviewerQueue(client, TABLE).pending_for("ana", NOW))


# ----------------------------------------------------------------------------- the route


def _queue_event(reviewer_id: str, query: dict[str, str] | None) -> dict[str, Any]:
    from approval_builders import rest_event

    event = rest_event("GET", "unused")
    path = f"/reviewers/{reviewer_id}/queue"
    event.update(
        resource="/reviewers/{reviewer_id}/queue",
        path=path,
        pathParameters={"reviewer_id": reviewer_id},
        queryStringParameters=query,
        multiValueQueryStringParameters={k: [v] for k, v in query.items()} if query else None,
    )
    event["requestContext"].update(resourcePath="/reviewers/{reviewer_id}/queue", path=f"/prod{path}")
    return event


def test_the_api_serves_the_queue_and_logs_no_secret(
    env: Any, invoke: Any, captured_logs: list[str], runtime_env: pytest.MonkeyPatch, lambda_context: Any
) -> None:
    from reviewflow.config import get_settings
    from reviewflow.handlers import request_approval

    runtime_env.setenv("REVIEWFLOW_REVIEWER_IDS", "ana,bo")
    get_settings.cache_clear()
    ticket = request_approval.handler(approval_request(review_text=HOSTILE), lambda_context)
    bodies = [mail.body for mail in env.mails()]
    queue_links = [
        re.search(re.escape(BASE_URL) + r"(/reviewers/(\w+)/queue)\?a=([\w-]+)&s=([\w-]+)", b) for b in bodies
    ]
    assert sorted(match[2] for match in queue_links if match) == ["ana", "bo"]  # each email, its own queue
    ana = next(match for match in queue_links if match and match[2] == "ana")
    assert ana[3] == ticket["approval_id"]

    answer = invoke(_queue_event("ana", {"a": ana[3], "s": ana[4]}))
    assert answer["statusCode"] == 200 and "Waiting for you" in answer["body"]
    assert f"../../approvals/{ana[3]}?s={ana[4]}" in answer["body"]
    headers = lower_headers(answer)
    assert headers["cache-control"] == "no-store" and headers["content-type"].startswith("text/html")
    assert invoke(_queue_event("bo", {"a": ana[3], "s": ana[4]}))["statusCode"] == 404
    assert invoke(_queue_event("ana", None))["statusCode"] == 404
    assert all(ana[4] not in line and TASK_TOKEN not in line for line in captured_logs)
    assert env.workflow.calls == []  # a GET never decides
    assert env.item(ticket["approval_id"])["status"]["S"] == "PENDING"
