"""Reminders and escalation with a roster, through the local outbox: each reminded reviewer's
mailbox gets one ``.eml`` with only their own fresh link, the escalation reviewer's too, every link
opens the approval page as its own reviewer, and the local auto-decider, handed an outbox with
three emails per approval, decides it once through the original link.

The clock is driven (``run_reminders(stack, now=...)``); the escalation reviewer's address is
the one its SNS subscription delivers to, read back from moto like the roster's.
"""

from __future__ import annotations

import json
import re
from datetime import datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit

from reviewflow_local import reviewer
from reviewflow_local.decider import ApprovalDecider, always
from reviewflow_local.outbox import OutboxMessage
from reviewflow_local.reminders_local import run_reminders
from tests.workflow.conftest import wait_until

ROSTER = [
    {"id": "reviewer-1", "email": "one@example.com"},
    {"id": "reviewer-2", "email": "two@example.com"},
]
ESCALATION = {"id": "lead", "email": "lead@example.com"}
EMAILS = {entry["id"]: entry["email"] for entry in [*ROSTER, ESCALATION]}


def _moment(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _secret(link: str) -> str:
    return parse_qs(urlsplit(link).query)["s"][0]


def _emails(stack: Any, approval_id: str, reminder: str | None) -> list[OutboxMessage]:
    return [m for m in stack.outbox.messages() if m.approval_id == approval_id and m.reminder == reminder]


def _pending(stack: Any, stage: str) -> dict[str, Any]:
    found = wait_until(
        lambda: [a for a in stack.pending_approvals() if a["review_id"] == "wf-team" and a["stage"] == stage],
        60,
        f"the {stage} approval",
    )
    return dict(found[0])


def test_reminders_and_the_escalation_reach_each_reviewer_with_only_their_own_link(
    stack_factory: Any,
) -> None:
    stack = stack_factory(
        {
            "reviewers": ROSTER,
            "reminder_fractions": "[0.5]",
            "escalation_fraction": "0.8",
            "escalation_reviewers": json.dumps([ESCALATION]),
        }
    )
    assert stack.resources.reviewer_emails == EMAILS  # roster and escalation subscriptions alike
    stack.post_reviews(
        [
            {
                "review_id": "wf-team",
                "product_id": "kettle-200",
                "language": "de",
                "review_text": "Der Wasserkocher ist schnell und leise.",
            }
        ]
    )
    pending = _pending(stack, "REVIEW")
    approval_id = pending["approval_id"]
    originals = wait_until(
        lambda: len(found := _emails(stack, approval_id, None)) == 2 and found, 30, "the two approval emails"
    )
    original_links = {link for message in originals for link in message.approval_links}
    start, deadline = _moment(pending["created_at"]), _moment(pending["deadline_at"])

    def at(fraction: float) -> datetime:
        return start + (deadline - start) * fraction

    def check(messages: list[OutboxMessage], step: str, reviewer_ids: list[str]) -> list[str]:
        """One email per reviewer, To: their mailbox, one link that is theirs alone; its links."""
        assert sorted((m.reminder, m.to) for m in messages) == sorted((step, EMAILS[r]) for r in reviewer_ids)
        by_reviewer = {}
        for message in messages:
            (link,) = message.approval_links
            assert link.startswith(f"{stack.front.stage_url}/approvals/{approval_id}?s=")
            by_reviewer[next(r for r in reviewer_ids if EMAILS[r] == message.to)] = (message, link)
        for reviewer_id, (message, link) in by_reviewer.items():
            others = [other for r, (_, other) in by_reviewer.items() if r != reviewer_id]
            assert not any(_secret(other) in message.text + (message.html or "") for other in others)
            shown = reviewer.fetch(link)
            assert shown.status == 200 and reviewer.decision_forms(shown.body)
            assert f"as <strong>{reviewer_id}</strong>" in shown.body
        return [link for _, link in by_reviewer.values()]

    run = run_reminders(stack, now=at(0.5))
    assert sorted(s["reviewer_id"] for s in run["sent"] if s["delivered"]) == ["reviewer-1", "reviewer-2"]
    reminded = check(_emails(stack, approval_id, "reminder"), "reminder", ["reviewer-1", "reviewer-2"])

    run = run_reminders(stack, now=at(0.8))
    assert [(s["step"], s["reviewer_id"], s["delivered"]) for s in run["sent"]] == [
        ("escalation", "lead", True)
    ]
    escalated = check(_emails(stack, approval_id, "escalation"), "escalation", ["lead"])
    fresh = {*reminded, *escalated}
    assert len({_secret(link) for link in fresh}) == 3 and not fresh & original_links
    # The local inbox lists each reminder and escalation as such, with its recipient.
    inbox = reviewer.fetch(f"{stack.front.url}/")
    assert inbox.status == 200
    for step, reviewer_id in (("reminder", "reviewer-1"), ("reminder", "reviewer-2"), ("escalation", "lead")):
        line = (
            rf"<li><strong>{step}</strong> <a [^>]*>{step.capitalize()}: [^<]*</a> to {EMAILS[reviewer_id]} "
        )
        assert re.search(line, inbox.body), (step, reviewer_id)

    # The auto-decider sees five emails of this approval: it decides once, through an original link.
    clicks: list[str] = []

    def submit(link: str, decision: str, **fields: Any) -> tuple[reviewer.PageResult, reviewer.PageResult]:
        clicks.append(link)
        return reviewer.decide(link, decision, **fields)

    decider = ApprovalDecider(
        stack.outbox, always("APPROVED"), reviewer="t", comment_prefix="t", submit=submit
    )
    assert decider.decide([pending]) == 1 and decider.errors == []
    assert decider.decide([pending]) == 0
    assert len(clicks) == 1 and clicks[0] in original_links
    response = _pending(stack, "RESPONSE")
    wait_until(lambda: _emails(stack, response["approval_id"], None), 30, "the reply's approval emails")
    assert decider.decide([response]) == 1 and len(clicks) == 2

    event = stack.outcome_for("wf-team", timeout=120)
    decisions = {d["stage"]: d for d in event["detail"]["human_decisions"]}
    assert decisions["REVIEW"]["reviewer_id"] in {"reviewer-1", "reviewer-2"}
    assert [(r["step"], r["recipients"]) for r in decisions["REVIEW"]["reminders"]] == [
        ("reminder", ["reviewer-1", "reviewer-2"]),
        ("escalation", ["lead"]),
    ]
    # The escalation reviewer's link, opened after the decision, says who decided and offers nothing.
    late = reviewer.fetch(escalated[0])
    assert late.status == 200 and "Already decided by" in late.body and not reviewer.decision_forms(late.body)
