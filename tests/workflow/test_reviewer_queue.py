"""The reviewer queue over the local stack: three roster reviewers and one escalation reviewer,
each reaching only their own queue, through the links of their own emails.

Everything goes through the local HTTP front, which serves the routes read from the deployed
API (``GET /reviewers/{reviewer_id}/queue``); the escalation is driven with a chosen clock.
"""

from __future__ import annotations

import json
import re
import urllib.error
import urllib.request
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlencode, urlsplit, urlunsplit

import pytest

from reviewflow_local import reviewer
from reviewflow_local.pipeline import LocalPipeline
from reviewflow_local.reminders_local import run_reminders
from tests.workflow.conftest import wait_until

ROSTER = [
    {"id": "ana", "email": "ana@example.com"},
    {"id": "bo", "email": "bo@example.com"},
    {"id": "cy", "email": "cy@example.com"},
]
ESCALATION = [{"id": "lead", "email": "lead@example.com"}]
EMAILS = {entry["id"]: entry["email"] for entry in ROSTER + ESCALATION}
# German: the offline toxicity model cannot score it, so the review itself waits for a person.
FIRST = {
    "review_id": "wf-queue-1",
    "product_id": "kettle-200",
    "product_name": "Kettle <b>200</b>",
    "language": "de",
    "review_text": "Der Wasserkocher ist schnell und leise. <script>alert(1)</script>",
}
SECOND = {**FIRST, "review_id": "wf-queue-2", "review_text": "Der Deckel klemmt ein wenig."}
QUEUE_LINK = re.compile(r"https?://\S+?/reviewers/(?P<rid>[a-z0-9-]+)/queue\?a=(?P<a>[\w-]+)&s=(?P<s>[\w-]+)")
ANY_SECRET = re.compile(r"[?&]s=([\w-]+)")


@dataclass(frozen=True)
class Answer:
    status: int
    headers: dict[str, str]
    body: str


def _get(url: str, method: str = "GET") -> Answer:
    request = urllib.request.Request(url, method=method)
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            return Answer(
                answer.status, {k.lower(): v for k, v in answer.headers.items()}, answer.read().decode()
            )
    except urllib.error.HTTPError as error:
        return Answer(error.code, {k.lower(): v for k, v in error.headers.items()}, error.read().decode())


def _with(
    link: str, *, reviewer_id: str | None = None, approval_id: str | None = None, secret: str | None = None
) -> str:
    """The same queue link with one part swapped: what an attacker holding it would try."""
    match = QUEUE_LINK.fullmatch(link)
    assert match, link
    parts = urlsplit(link)
    path = parts.path.replace(f"/reviewers/{match['rid']}/", f"/reviewers/{reviewer_id or match['rid']}/")
    query = urlencode({"a": approval_id or match["a"], "s": secret if secret is not None else match["s"]})
    return urlunsplit((parts.scheme, parts.netloc, path, query, ""))


def _listed(answer: Answer) -> list[str]:
    """The approval ids the queue page lists, in order."""
    assert answer.status == 200, answer.body
    return re.findall(r'<section id="approval-([\w-]+)">', answer.body)


def _moment(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


@pytest.fixture(scope="module")
def stack(stack_factory: Any) -> LocalPipeline:
    pipeline: LocalPipeline = stack_factory(
        {
            "reviewers": ROSTER,
            "reminder_fractions": "[0.5]",
            "escalation_fraction": "0.8",
            "escalation_reviewers": json.dumps(ESCALATION),
        }
    )
    return pipeline


def _escalation_queue_link(stack: LocalPipeline, approval_id: str, reviewer_id: str) -> str:
    """The queue link in ``reviewer_id``'s escalation email for ``approval_id`` (from the outbox)."""
    (link,) = [
        match[0]
        for message in stack.outbox.messages()
        if message.approval_id == approval_id and message.reminder == "escalation"
        for match in QUEUE_LINK.finditer(message.text)
        if match["rid"] == reviewer_id and message.to == EMAILS[reviewer_id]
    ]
    return link


def _pending(stack: LocalPipeline, review_id: str) -> dict[str, Any]:
    found = wait_until(
        lambda: [a for a in stack.pending_approvals() if a["review_id"] == review_id],
        60,
        f"{review_id}'s approval",
    )
    return dict(found[0])


def _queue_links(stack: LocalPipeline, approval_id: str) -> dict[str, str]:
    """reviewer id -> the queue link in their approval email (one email per mailbox)."""

    def find() -> dict[str, str] | None:
        links: dict[str, str] = {}
        for message in stack.outbox.messages():
            if message.approval_id == approval_id and message.reminder is None:
                (match,) = QUEUE_LINK.finditer(message.text)
                assert EMAILS[match["rid"]] == message.to  # the link names the mailbox's own reviewer
                links[match["rid"]] = match[0]
        return links if len(links) == len(ROSTER) else None

    found: dict[str, str] = wait_until(find, 30, "three approval emails")
    return found


def test_each_reviewer_reaches_only_their_own_queue(stack: LocalPipeline) -> None:
    stack.post_reviews([FIRST])
    first = _pending(stack, FIRST["review_id"])
    links = _queue_links(stack, first["approval_id"])
    assert sorted(links) == ["ana", "bo", "cy"]

    # ana's own link: her queue, with the security headers of the approval pages.
    mine = _get(links["ana"])
    assert _listed(mine) == [first["approval_id"]]
    assert "Waiting for you" in mine.body and "Opened with your own link as <strong>ana</strong>" in mine.body
    assert mine.headers["cache-control"] == "no-store"
    assert "default-src 'none'" in mine.headers["content-security-policy"]
    assert "<script>alert(1)" not in mine.body and "&lt;script&gt;alert(1)&lt;/script&gt;" in mine.body
    assert "Kettle &lt;b&gt;200&lt;/b&gt;" in mine.body
    # The page shows only ana's own secret (in the link to this email's approval), nobody else's.
    others = {QUEUE_LINK.fullmatch(link)["s"] for rid, link in links.items() if rid != "ana"}  # type: ignore[index]
    assert set(ANY_SECRET.findall(mine.body)) == {QUEUE_LINK.fullmatch(links["ana"])["s"]}  # type: ignore[index]
    assert not others & set(ANY_SECRET.findall(mine.body))
    # Its one link opens the approval page signed in as ana.
    (href,) = re.findall(r'href="([^"]+)"', mine.body)
    page = reviewer.fetch(urllib.parse.urljoin(links["ana"], href.replace("&amp;", "&")))
    assert page.status == 200 and "Signed in by your own link as <strong>ana</strong>" in page.body

    # A queue link used to reach another reviewer's queue, or another approval's: the same 404.
    bo_secret = QUEUE_LINK.fullmatch(links["bo"])["s"]  # type: ignore[index]
    for attempt in (
        _with(links["ana"], reviewer_id="bo"),  # ana's secret, bo's queue
        _with(links["ana"], reviewer_id="lead"),  # ana's secret, the escalation reviewer's queue
        _with(links["ana"], secret=bo_secret),  # bo's secret under ana's name
        _with(links["ana"], secret=""),
        _with(links["ana"], approval_id="A" * 22),
    ):
        refused = _get(attempt)
        assert refused.status == 404 and "Queue not found" in refused.body, attempt
        assert first["approval_id"] not in refused.body and "kettle" not in refused.body
    # The queue has no POST: API Gateway answers it, the function never sees it.
    assert _get(links["ana"], method="POST").status in (403, 405)

    # The escalation reviewer gets their own queue link with the escalation, and it lists this one.
    start, deadline = _moment(first["created_at"]), _moment(first["deadline_at"])
    run = run_reminders(stack, now=start + (deadline - start) * 0.85)
    assert [(d["step"], d["reviewer_id"]) for d in run["sent"]] == [("escalation", "lead")]
    lead_link = _escalation_queue_link(stack, first["approval_id"], "lead")
    assert _listed(_get(lead_link)) == [first["approval_id"]]

    # A second review, not escalated: the roster sees both, lead still only the first.
    stack.post_reviews([SECOND])
    second = _pending(stack, SECOND["review_id"])
    _queue_links(stack, second["approval_id"])
    assert sorted(_listed(_get(links["bo"]))) == sorted([first["approval_id"], second["approval_id"]])
    assert _listed(_get(lead_link)) == [first["approval_id"]]
    assert _get(_with(lead_link, reviewer_id="ana")).status == 404  # lead cannot open ana's queue

    # Viewing queues changed nothing.
    assert {a["approval_id"]: a["status"] for a in stack.pending_approvals()} == {
        first["approval_id"]: "PENDING",
        second["approval_id"]: "PENDING",
    }

    # ana decides the first: it leaves every queue; her old link still opens hers (its window is open).
    approval_link = next(
        link
        for message in stack.outbox.messages()
        if message.approval_id == first["approval_id"] and message.to == EMAILS["ana"]
        for link in message.approval_links
    )
    shown, decided = reviewer.decide(approval_link, "APPROVED")
    assert (shown.status, decided.status) == (200, 200)
    # The review goes on to a German reply, which a person approves too: a new approval (deadlines
    # have whole seconds, so both may share one: compared as sets); lead was never asked about either.
    reply = wait_until(
        lambda: [
            a
            for a in stack.pending_approvals()
            if a["review_id"] == FIRST["review_id"] and a["stage"] == "RESPONSE"
        ],
        60,
        "the reply's approval",
    )[0]
    for rid in ("ana", "cy"):
        assert sorted(_listed(_get(links[rid]))) == sorted([second["approval_id"], reply["approval_id"]])
    assert _listed(_get(lead_link)) == []
    assert "Nothing is waiting for you right now." in _get(lead_link).body
