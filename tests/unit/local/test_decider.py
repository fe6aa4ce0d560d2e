"""One approval decider for ``run`` and ``soak``: pending approvals only, each once, through the
first link of its email, with the decision the caller's choice gives; failures are recorded."""

from __future__ import annotations

from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest

from reviewflow_local.decider import ApprovalDecider, always
from reviewflow_local.outbox import Outbox
from reviewflow_local.reviewer import PageResult

BASE = "http://127.0.0.1:9/prod/approvals"


class FakeBrowser:
    """Stands in for ``reviewer.decide``: records each submission, answers with ``status``."""

    def __init__(self, status: int = 200, fail_on: str | None = None) -> None:
        self.status = status
        self.fail_on = fail_on
        self.calls: list[tuple[str, str, str | None, str | None]] = []

    def __call__(
        self, link: str, decision: str, *, reviewer: str | None = None, comment: str | None = None
    ) -> tuple[PageResult, PageResult]:
        self.calls.append((link, decision, reviewer, comment))
        if self.fail_on and self.fail_on in link:
            raise ValueError("the page offers [], not 'APPROVED'")
        return PageResult(200, link, "page"), PageResult(self.status, link, "decided")


def email(outbox: Outbox, approval_id: str) -> None:
    message = EmailMessage()
    message["Subject"] = f"Review needed: {approval_id}"
    message["X-Reviewflow-Approval-Id"] = approval_id
    message.set_content(f"Decide here: {BASE}/{approval_id}?s=secret-{approval_id}\n")
    outbox.write(message, "reviewer@example.com")


def pending(*ids: str, stage: str = "REVIEW") -> list[dict[str, Any]]:
    return [{"approval_id": i, "review_id": f"rev-{i}", "stage": stage, "status": "PENDING"} for i in ids]


@pytest.fixture
def outbox(tmp_path: Path) -> Outbox:
    return Outbox(tmp_path / "outbox")


def test_each_pending_approval_is_decided_once_through_its_link(outbox: Outbox) -> None:
    browser = FakeBrowser()
    decider = ApprovalDecider(
        outbox, always("APPROVED"), reviewer="reviewflow run", comment_prefix="--decide", submit=browser
    )
    email(outbox, "a1")
    email(outbox, "a2")
    assert decider.decide(pending("a1", "a2")) == 2
    assert decider.decide(pending("a1", "a2")) == 0  # already decided: never a second click
    assert browser.calls == [
        (f"{BASE}/a1?s=secret-a1", "APPROVED", "reviewflow run", "--decide approved"),
        (f"{BASE}/a2?s=secret-a2", "APPROVED", "reviewflow run", "--decide approved"),
    ]
    assert decider.decided == {"APPROVED": 2} and decider.errors == []


def test_emails_of_approvals_no_longer_pending_are_left_alone(outbox: Outbox) -> None:
    browser = FakeBrowser()
    decider = ApprovalDecider(outbox, always("REJECTED"), reviewer="t", comment_prefix="t", submit=browser)
    email(outbox, "gone")
    email(outbox, "open")
    decider.decide(pending("open"))
    assert [call[0] for call in browser.calls] == [f"{BASE}/open?s=secret-open"]


def test_an_approval_whose_email_is_not_written_yet_is_tried_again(outbox: Outbox) -> None:
    browser = FakeBrowser()
    decider = ApprovalDecider(outbox, always("APPROVED"), reviewer="t", comment_prefix="t", submit=browser)
    assert decider.decide(pending("late")) == 0
    email(outbox, "late")
    assert decider.decide(pending("late")) == 1


def test_the_choice_decides_per_approval(outbox: Outbox) -> None:
    browser = FakeBrowser()

    def choose(item: Any) -> str:
        return "APPROVED" if item["stage"] == "REVIEW" else "REJECTED"

    decider = ApprovalDecider(
        outbox, choose, reviewer="reviewflow soak", comment_prefix="soak", submit=browser
    )
    email(outbox, "r1")
    email(outbox, "r2")
    decider.decide(pending("r1") + pending("r2", stage="RESPONSE"))
    assert [(c[1], c[3]) for c in browser.calls] == [
        ("APPROVED", "soak approved"),
        ("REJECTED", "soak rejected"),
    ]
    assert decider.decided == {"APPROVED": 1, "REJECTED": 1}


def test_refused_and_failed_decisions_are_recorded_not_counted(outbox: Outbox) -> None:
    email(outbox, "bad")
    refused = ApprovalDecider(
        outbox, always("APPROVED"), reviewer="t", comment_prefix="t", submit=FakeBrowser(status=409)
    )
    assert refused.decide(pending("bad")) == 0
    assert refused.errors == ["bad: HTTP 409"] and not refused.decided

    failing = ApprovalDecider(
        outbox, always("APPROVED"), reviewer="t", comment_prefix="t", submit=FakeBrowser(fail_on="bad")
    )
    assert failing.decide(pending("bad")) == 0
    assert failing.errors == ["bad: ValueError: the page offers [], not 'APPROVED'"]


def reminder_email(outbox: Outbox, approval_id: str, secret: str) -> None:
    message = EmailMessage()
    message["Subject"] = f"Reminder: {approval_id}"
    message["X-Reviewflow-Approval-Id"] = approval_id
    message["X-Reviewflow-Reminder"] = "reminder"
    message.set_content(f"Still waiting: {BASE}/{approval_id}?s={secret}\n")
    outbox.write(message, "reviewer@example.com")


def test_a_reminder_never_makes_a_second_decision_and_the_original_link_is_used(outbox: Outbox) -> None:
    browser = FakeBrowser()
    decider = ApprovalDecider(outbox, always("APPROVED"), reviewer="t", comment_prefix="t", submit=browser)
    email(outbox, "a1")
    reminder_email(outbox, "a1", "fresh-a1")  # a second, personal link to the same approval
    assert decider.decide(pending("a1")) == 1
    reminder_email(outbox, "a1", "later-a1")
    assert decider.decide(pending("a1")) == 0  # still listed (not yet closed): not clicked again
    assert [call[0] for call in browser.calls] == [f"{BASE}/a1?s=secret-a1"]


def test_a_reminder_link_decides_only_when_no_approval_email_was_read(outbox: Outbox) -> None:
    browser = FakeBrowser()
    decider = ApprovalDecider(outbox, always("APPROVED"), reviewer="t", comment_prefix="t", submit=browser)
    reminder_email(outbox, "r1", "fresh-r1")  # r1's approval email is not in the outbox
    reminder_email(outbox, "r2", "fresh-r2")
    email(outbox, "r2")  # read after r2's reminder, yet its link is the one used
    assert decider.decide(pending("r1", "r2")) == 2
    assert [call[0] for call in browser.calls] == [f"{BASE}/r1?s=fresh-r1", f"{BASE}/r2?s=secret-r2"]
