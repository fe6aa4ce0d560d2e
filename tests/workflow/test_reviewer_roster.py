"""A roster of three reviewers end to end: each mailbox gets only its own link; the link decides.

The stack is synthesized with a ``reviewers`` override, so the template has one SNS email
subscription per reviewer, filtered on the ``reviewer`` message attribute, and request_approval
gets the roster's ids. The local outbox writes one ``.eml`` per reviewer, To: the email of the
subscription whose filter policy names them (read back from moto, not from the CDK code).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlencode, urljoin, urlsplit

import pytest

from reviewflow.contracts import OutcomeType
from reviewflow_local import reviewer
from reviewflow_local.pipeline import LocalPipeline
from tests.workflow.conftest import wait_until

ROSTER = [
    {"id": "reviewer-1", "email": "one@example.com"},
    {"id": "reviewer-2", "email": "two@example.com"},
    {"id": "reviewer-3", "email": "three@example.com"},
]
EMAILS = {entry["id"]: entry["email"] for entry in ROSTER}
# German: the local toxicity model cannot score it, so the review itself waits for a person.
REVIEW = {
    "review_id": "wf-roster",
    "product_id": "kettle-200",
    "language": "de",
    "review_text": "Der Wasserkocher ist schnell und leise.",
}
POST_HEADERS = {
    "Content-Type": "application/x-www-form-urlencoded",
    "Origin": "null",
    "Sec-Fetch-Site": "same-origin",
}


@pytest.fixture(scope="module")
def stack(stack_factory: Any) -> LocalPipeline:
    pipeline: LocalPipeline = stack_factory({"reviewers": ROSTER})
    return pipeline


def _links_by_recipient(stack: LocalPipeline, approval_id: str) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for message in stack.outbox.messages():
        if message.approval_id == approval_id:
            found.setdefault(message.to or "", []).extend(message.approval_links)
    return found


def _post(link: str, fields: dict[str, str]) -> reviewer.PageResult:
    path = urlsplit(link).path
    return reviewer.fetch(urljoin(link, path), data=urlencode(fields).encode("utf-8"), headers=POST_HEADERS)


def _secret(link: str) -> str:
    return parse_qs(urlsplit(link).query)["s"][0]


def test_three_reviewers_each_get_only_their_link_and_the_link_decides(stack: LocalPipeline) -> None:
    assert stack.resources.reviewer_emails == EMAILS
    stack.post_reviews([REVIEW])
    pending = wait_until(
        lambda: [a for a in stack.pending_approvals() if a["review_id"] == "wf-roster"], 30, "the approval"
    )
    approval_id = pending[0]["approval_id"]
    links = wait_until(
        lambda: (found := _links_by_recipient(stack, approval_id)) and len(found) == 3 and found,
        30,
        "three emails",
    )

    # One email per mailbox, each with exactly one link, three different secrets.
    assert sorted(links) == sorted(EMAILS.values())
    assert all(len(found) == 1 for found in links.values())
    mine = {reviewer_id: links[email][0] for reviewer_id, email in EMAILS.items()}
    assert len({_secret(link) for link in mine.values()}) == 3

    # Each link greets its own reviewer and asks for no typed name.
    for reviewer_id, link in mine.items():
        shown = reviewer.fetch(link)
        assert shown.status == 200
        assert f"as <strong>{reviewer_id}</strong>" in shown.body
        assert 'name="reviewer"' not in shown.body

    # Attack: reviewer-1's secret presented at another approval's address changes nothing.
    forged = _post(
        mine["reviewer-1"].replace(approval_id, "A" * len(approval_id)),
        {"secret": _secret(mine["reviewer-1"]), "decision": "REJECTED"},
    )
    assert forged.status == 404

    # Attack: reviewer-2's link posting a typed name of reviewer-1: the link decides, not the name.
    decided = _post(
        mine["reviewer-2"],
        {
            "secret": _secret(mine["reviewer-2"]),
            "decision": "REJECTED",
            "reviewer": "reviewer-1",
            "comment": "Not for us.",
        },
    )
    assert decided.status == 200, decided.body

    event = stack.outcome_for("wf-roster", timeout=45)
    assert event["detail-type"] in set(OutcomeType)
    (decision,) = event["detail"]["human_decisions"]
    assert decision["reviewer_id"] == "reviewer-2"
    assert decision["reviewer_verified"] is True
    assert decision["reviewer"] == "reviewer-2"
    assert decision["comment"] == "Not for us."

    # Reviewer 3 clicks late: the page says who decided and when; their POST is refused (409).
    late = reviewer.fetch(mine["reviewer-3"])
    assert late.status == 200
    assert "Already decided by reviewer-2 at " in late.body
    late_post = _post(mine["reviewer-3"], {"secret": _secret(mine["reviewer-3"]), "decision": "APPROVED"})
    assert late_post.status == 409
    assert "Already decided by reviewer-2" in late_post.body
    # Nothing of another reviewer's secret on any page a reviewer sees.
    for page in (late.body, late_post.body, decided.body):
        assert not any(_secret(link) in page for link in mine.values())
