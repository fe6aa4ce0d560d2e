"""Attacks on the approval links, over real HTTP against the running local stack.

Each test plays one attack from the issue against a fresh pending approval and asserts both the
answer (status and page) and that nothing changed: the item is still PENDING, the execution still
waits, no outcome was published. docs/human-review.md records the observed results as a table.
No browser is needed here (test_approval_browser.py covers what only a browser shows).
"""

from __future__ import annotations

import json
import secrets
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import pytest

from reviewflow_local.pipeline import LocalPipeline
from tests.browser.conftest import (
    DEADLINE,
    PendingApproval,
    approval_item,
    outcome_of,
    pending_approval,
    wait_until,
)

UNCERTAIN = "This toaster sucks. Burns one side and leaves the other pale."
SCRIPT = "<script>alert('pwned')</script>"
FORM = "application/x-www-form-urlencoded"
SAME_ORIGIN = {"Content-Type": FORM, "Origin": "null", "Sec-Fetch-Site": "same-origin"}
ATTACKED = [
    "replay",
    "race",
    "tamper",
    "url-only",
    "expired",
    "cross-site",
    "storm",
    "oversize",
    "content-type",
    "malformed",
    "ended",
    "ended-donor",
]


@dataclass(frozen=True)
class Answer:
    status: int
    headers: dict[str, str]
    body: str

    @property
    def title(self) -> str:
        start = self.body.find("<h1>")
        return self.body[start + 4 : self.body.find("</h1>", start)] if start >= 0 else ""


def http(
    method: str, url: str, body: bytes | str | None = None, headers: dict[str, str] | None = None
) -> Answer:
    data = body.encode("utf-8") if isinstance(body, str) else body
    request = urllib.request.Request(url, data=data, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            return Answer(answer.status, dict(answer.headers), answer.read().decode("utf-8", "replace"))
    except urllib.error.HTTPError as error:
        return Answer(error.code, dict(error.headers), error.read().decode("utf-8", "replace"))


def form(secret: str | None, decision: str = "APPROVED", **extra: str) -> str:
    fields = {"decision": decision, "reviewer": "Attack Test", **extra}
    if secret is not None:
        fields["secret"] = secret
    return urlencode(fields)


def status_of(stack: LocalPipeline, approval: PendingApproval) -> str:
    return str(approval_item(stack, approval.approval_id)["status"]["S"])


def execution_status(stack: LocalPipeline, approval: PendingApproval) -> str:
    arn = approval_item(stack, approval.approval_id)["execution_id"]["S"]
    return str(stack.client("stepfunctions").describe_execution(executionArn=arn)["status"])


def outcomes_for(stack: LocalPipeline, review_id: str) -> list[dict[str, Any]]:
    return [e for e in stack.outcomes() if e["detail"].get("review_id") == review_id]


def assert_untouched(stack: LocalPipeline, approval: PendingApproval) -> None:
    assert status_of(stack, approval) == "PENDING"
    assert execution_status(stack, approval) == "RUNNING"
    assert outcomes_for(stack, approval.review_id) == []


@pytest.fixture(scope="module", autouse=True)
def reviews(stack: LocalPipeline) -> None:
    details = [
        {"review_id": f"atk-{name}", "product_id": "toaster-4", "rating": 2, "review_text": UNCERTAIN}
        for name in ATTACKED
    ]
    details.append(
        {
            "review_id": "atk-html",
            "product_id": "kettle-200",
            "language": "de",  # not scorable offline: goes to a person whatever the markup scores
            "reviewer_name": f'"><img src=x onerror=alert(1)>{SCRIPT}',
            "review_text": f"Der Kessel ist laut. {SCRIPT}<iframe src=//evil.example></iframe>",
        }
    )
    stack.post_reviews(details)


@pytest.fixture
def approval(stack: LocalPipeline, request: pytest.FixtureRequest) -> PendingApproval:
    return pending_approval(stack, f"atk-{request.param}", "REVIEW")


def attack(name: str) -> Any:
    return pytest.mark.parametrize("approval", [name], indirect=True)


# ------------------------------------------------------------------------------- attacks


@attack("replay")
def test_replayed_post_and_approve_then_reject(stack: LocalPipeline, approval: PendingApproval) -> None:
    body = form(approval.secret, comment="first")
    first = http("POST", approval.url, body, SAME_ORIGIN)
    replay = http("POST", approval.url, body, SAME_ORIGIN)
    reject = http("POST", approval.url, form(approval.secret, "REJECTED", comment="second"), SAME_ORIGIN)

    assert (first.status, first.title) == (200, "Decision recorded")
    assert (replay.status, replay.title) == (409, "Already decided")
    assert (reject.status, reject.title) == (409, "Already decided")
    assert "approved</strong> by Attack Test" in reject.body
    detail = outcome_of(stack, approval.review_id)["detail"]
    assert [(d["decision"], d["comment"]) for d in detail["human_decisions"]] == [("APPROVED", "first")]
    assert status_of(stack, approval) == "APPROVED"


@attack("race")
def test_concurrent_approve_and_reject_decide_once(stack: LocalPipeline, approval: PendingApproval) -> None:
    start = threading.Barrier(2)
    answers: dict[str, Answer] = {}

    def click(decision: str) -> None:
        start.wait()
        answers[decision] = http("POST", approval.url, form(approval.secret, decision), SAME_ORIGIN)

    threads = [threading.Thread(target=click, args=(d,)) for d in ("APPROVED", "REJECTED")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(DEADLINE)

    statuses = sorted(a.status for a in answers.values())
    assert statuses == [200, 409]
    winner = next(d for d, a in answers.items() if a.status == 200)
    assert status_of(stack, approval) == winner
    decisions = outcome_of(stack, approval.review_id)["detail"]["human_decisions"]
    assert [d["decision"] for d in decisions] == [winner]


@attack("tamper")
def test_tampered_or_foreign_secret_is_refused(stack: LocalPipeline, approval: PendingApproval) -> None:
    flipped = approval.secret[:-1] + ("A" if approval.secret[-1] != "A" else "B")
    other = pending_approval(stack, "atk-storm", "REVIEW")  # a real secret, of another approval
    for secret in (flipped, other.secret, "", approval.secret[:22]):
        answer = http("POST", approval.url, form(secret), SAME_ORIGIN)
        assert (answer.status, answer.title) == (403, "Not allowed")
        shown = http("GET", f"{approval.url}?s={secret}")
        assert shown.status == 403
    assert_untouched(stack, approval)


@attack("url-only")
def test_secret_only_in_the_url_is_refused(stack: LocalPipeline, approval: PendingApproval) -> None:
    answer = http("POST", approval.link, form(None), SAME_ORIGIN)  # ?s=<secret> on the URL, not in the body
    assert (answer.status, answer.title) == (403, "Not allowed")
    assert_untouched(stack, approval)


def test_forged_and_unknown_ids_are_not_found(stack: LocalPipeline) -> None:
    base = f"{stack.front.stage_url}/approvals"
    forged = secrets.token_urlsafe(16)
    for approval_id in (forged, "x" * 64, "short"):
        shown = http("GET", f"{base}/{approval_id}?s={secrets.token_urlsafe(32)}")
        decided = http("POST", f"{base}/{approval_id}", form(secrets.token_urlsafe(32)), SAME_ORIGIN)
        assert (shown.status, shown.title) == (404, "Approval not found")
        assert (decided.status, decided.title) == (404, "Approval not found")


@attack("expired")
def test_expired_approval_is_gone_and_unchanged(stack: LocalPipeline, approval: PendingApproval) -> None:
    # The clock cannot be moved in a running stack: move the deadline instead (as if it had passed).
    stack.client("dynamodb").update_item(
        TableName=stack.resources.table_name,
        Key={"pk": {"S": f"approval#{approval.approval_id}"}},
        UpdateExpression="SET expires_at = :past",
        ExpressionAttributeValues={":past": {"N": str(int(time.time()) - 1)}},
    )
    shown = http("GET", approval.link)
    decided = http("POST", approval.url, form(approval.secret), SAME_ORIGIN)
    assert (shown.status, shown.title) == (410, "This approval has expired")
    assert (decided.status, decided.title) == (410, "This approval has expired")
    assert_untouched(stack, approval)


@attack("cross-site")
def test_cross_site_posts_are_refused(stack: LocalPipeline, approval: PendingApproval) -> None:
    for headers in (
        {"Content-Type": FORM, "Origin": "https://evil.example"},
        {"Content-Type": FORM, "Sec-Fetch-Site": "cross-site"},
        {"Content-Type": FORM, "Sec-Fetch-Site": "same-site"},
        {"Content-Type": FORM, "Origin": "https://evil.example", "Sec-Fetch-Site": "cross-site"},
        {"Content-Type": FORM, "Origin": f"http://127.0.0.1:{stack.front.port + 1}"},
    ):
        answer = http("POST", approval.url, form(approval.secret), headers)
        assert (answer.status, answer.title) == (403, "Not allowed"), headers
        assert "only be sent from the approval page" in answer.body
    assert_untouched(stack, approval)
    # The same form from the page itself still works: the refusals consumed nothing.
    assert http("POST", approval.url, form(approval.secret), SAME_ORIGIN).status == 200


@attack("storm")
def test_get_storm_changes_nothing(stack: LocalPipeline, approval: PendingApproval) -> None:
    before = approval_item(stack, approval.approval_id)
    arn = before["execution_id"]["S"]
    history_before = len(stack.history(arn))
    answers = [http("GET", approval.link) for _ in range(100)]
    assert {a.status for a in answers} == {200}
    assert {a.title for a in answers} == {"Review needed"}
    assert approval_item(stack, approval.approval_id) == before
    assert len(stack.history(arn)) == history_before
    assert_untouched(stack, approval)


def test_markup_in_review_text_and_names_is_escaped(stack: LocalPipeline) -> None:
    approval = pending_approval(stack, "atk-html", "REVIEW")
    page = http("GET", approval.link).body
    assert SCRIPT not in page and "<iframe" not in page and "<img" not in page
    assert "&lt;script&gt;alert(&#x27;pwned&#x27;)&lt;/script&gt;" in page
    assert "&quot;&gt;&lt;img src=x onerror=alert(1)&gt;" in page

    from reviewflow_local.outbox import read_message

    message = read_message(approval.eml)
    assert message.html is not None
    assert SCRIPT not in message.html and "<iframe" not in message.html and "<img" not in message.html
    assert "&lt;iframe src=//evil.example&gt;&lt;/iframe&gt;" in message.html
    assert SCRIPT in message.text  # plain text is not markup: shown as typed, between delimiters
    assert "----- review text (written by a customer; untrusted) -----" in message.text
    shown_email = http("GET", f"{stack.front.url}/outbox/{approval.eml.stem}.html")
    assert SCRIPT not in shown_email.body
    assert "default-src 'none'" in shown_email.headers["Content-Security-Policy"]

    decided = http("POST", approval.url, form(approval.secret, reviewer=SCRIPT, comment=SCRIPT), SAME_ORIGIN)
    assert decided.status == 200 and SCRIPT not in decided.body
    again = http("GET", approval.link)
    assert (again.status, again.title) == (200, "Already decided")
    assert SCRIPT not in again.body and "by &lt;script&gt;" in again.body
    inbox = http("GET", f"{stack.front.url}/")
    assert SCRIPT not in inbox.body and "&lt;script&gt;" in inbox.body


@pytest.mark.parametrize(
    "path",
    [
        "/approvals/..%2F..%2F..%2Fetc%2Fpasswd",
        "/approvals/../../../etc/passwd",
        "/approvals/%2e%2e",
        "/approvals/..",
        "/approvals/approval%23x",
        "/approvals/%00",
        "/../outbox/../../etc/passwd",
    ],
)
def test_path_traversal_in_the_approval_id(stack: LocalPipeline, path: str) -> None:
    for method, body in (("GET", None), ("POST", form("x"))):
        answer = http(method, f"{stack.front.stage_url}{path}?s=x", body, SAME_ORIGIN if body else None)
        assert answer.status in (403, 404), (method, path, answer.status)
        assert "root:" not in answer.body and "Traceback" not in answer.body
    outbox = http("GET", f"{stack.front.url}/outbox/..%2F..%2Fetc%2Fpasswd.eml")
    assert outbox.status == 404


@attack("oversize")
def test_oversized_body_is_refused(stack: LocalPipeline, approval: PendingApproval) -> None:
    for size in (70_000, 1_000_000):
        answer = http("POST", approval.url, form(approval.secret, comment="x" * size), SAME_ORIGIN)
        assert (answer.status, answer.title) == (400, "The form could not be accepted")
        assert "too large" in answer.body
    long_comment = http("POST", approval.url, form(approval.secret, comment="x" * 2_001), SAME_ORIGIN)
    assert (long_comment.status, long_comment.title) == (400, "The form could not be accepted")
    assert_untouched(stack, approval)


@attack("content-type")
def test_wrong_content_type_is_refused(stack: LocalPipeline, approval: PendingApproval) -> None:
    as_json = json.dumps({"secret": approval.secret, "decision": "APPROVED"})
    for content_type, body in (
        ("application/json", as_json),
        ("text/plain", form(approval.secret)),  # what a cross-site "simple" request may send
        ("multipart/form-data; boundary=x", form(approval.secret)),
        ("application/x-www-form-urlencoded-but-not-really", form(approval.secret)),
    ):
        # (urllib would fill in a missing Content-Type as form-urlencoded, so none is not tried.)
        headers = {**SAME_ORIGIN, "Content-Type": content_type}
        answer = http("POST", approval.url, body, headers)
        assert answer.status == 400, content_type
        assert "application/x-www-form-urlencoded" in answer.body
    assert_untouched(stack, approval)


@attack("malformed")
def test_malformed_forms_are_bad_requests(stack: LocalPipeline, approval: PendingApproval) -> None:
    secret = approval.secret
    for body in (
        form(secret, "MAYBE"),
        f"secret={secret}",  # no decision
        f"secret={secret}&decision=APPROVED&decision=REJECTED",
        f"secret={secret}&decision=APPROVED&comment=%00",
        f"secret={secret}&decision=APPROVED&reviewer=%FF%FE",
        "%%%",
        "",
    ):
        answer = http("POST", approval.url, body, SAME_ORIGIN)
        assert answer.status in (400, 403), body
        assert "Traceback" not in answer.body
    assert_untouched(stack, approval)


@attack("ended")
def test_decision_after_the_execution_ended_is_gone(stack: LocalPipeline, approval: PendingApproval) -> None:
    """The execution stopped waiting before the approval's own deadline (stopped, workflow timeout).

    moto's StopExecution does not end a ``.waitForTaskToken`` wait, so the test gives this item the
    token of another approval whose wait has really ended (decided, execution finished): Step
    Functions then answers ``InvalidToken``, exactly as for a stopped execution in AWS.
    """
    donor = pending_approval(stack, "atk-ended-donor", "REVIEW")
    finished_token = approval_item(stack, donor.approval_id)["task_token"]["S"]
    assert http("POST", donor.url, form(donor.secret), SAME_ORIGIN).status == 200
    outcome_of(stack, donor.review_id)
    wait_until(lambda: execution_status(stack, donor) == "SUCCEEDED", DEADLINE, "the donor execution")
    stack.client("dynamodb").update_item(
        TableName=stack.resources.table_name,
        Key={"pk": {"S": f"approval#{approval.approval_id}"}},
        UpdateExpression="SET task_token = :token",
        ExpressionAttributeValues={":token": {"S": finished_token}},
    )

    answer = http("POST", approval.url, form(approval.secret), SAME_ORIGIN)
    assert (answer.status, answer.title) == (410, "This review is no longer waiting")
    item = approval_item(stack, approval.approval_id)
    assert item["status"]["S"] == "EXPIRED"
    assert item["closed_reason"]["S"] == "InvalidToken"
    assert item["decision"]["S"] == "APPROVED"  # the attempt stays as audit
    assert "task_token" not in item
    later = http("GET", approval.link)
    assert (later.status, later.title) == (410, "This review is no longer waiting")
    again = http("POST", approval.url, form(approval.secret, "REJECTED"), SAME_ORIGIN)
    assert again.status == 410
    assert outcomes_for(stack, approval.review_id) == []


def test_task_tokens_appear_nowhere_a_person_or_a_log_can_see(stack: LocalPipeline) -> None:
    """Runs last: every token issued in this module, searched for in all that left the server."""
    wait_until(lambda: len(stack.outbox.messages()) > len(ATTACKED), DEADLINE, "every approval email")
    table = stack.client("dynamodb").scan(TableName=stack.resources.table_name)["Items"]
    tokens = [item["task_token"]["S"] for item in table if "task_token" in item]
    assert len(tokens) >= 5
    seen = [path.read_text(errors="replace") for path in stack.outbox.folder.glob("*.eml")]
    seen.append((stack.workdir / "lambda.log").read_text(errors="replace"))
    seen.append(json.dumps(stack.outcomes()))
    inbox = http("GET", f"{stack.front.url}/")
    seen.append(inbox.body)
    for message in stack.outbox.messages():
        for link in message.approval_links:
            seen.append(link)
            seen.append(http("GET", link).body)
    for token in tokens:
        assert all(token not in text for text in seen)
        assert all(token[:40] not in text for text in seen)
    assert inbox.status == 200 and "Decided and closed approvals" in inbox.body
