"""The soak's way into the decider: start from the emails written since the last call, look each
approval up by id, decide it once. Nothing already read is read again, so a poll costs the same
after ten reviews as after ten thousand."""

from __future__ import annotations

from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest

from reviewflow_local.decider import ApprovalDecider, always
from reviewflow_local.outbox import Outbox
from tests.unit.local.test_decider import BASE, FakeBrowser


class Table:
    """Stands in for ``LocalPipeline.pending_approval``: pending items by id, and who asked."""

    def __init__(self, *pending: str) -> None:
        self.pending = {i: {"approval_id": i, "review_id": f"rev-{i}", "stage": "REVIEW"} for i in pending}
        self.asked: list[str] = []

    def __call__(self, approval_id: str) -> dict[str, Any] | None:
        self.asked.append(approval_id)
        return self.pending.get(approval_id)


def write(outbox: Outbox, sent: list[Path], approval_id: str | None, link: bool = True) -> None:
    message = EmailMessage()
    message["Subject"] = f"Review needed: {approval_id}"
    if approval_id:
        message["X-Reviewflow-Approval-Id"] = approval_id
    body = f"Decide here: {BASE}/{approval_id}?s=secret-{approval_id}\n" if link else "No link.\n"
    message.set_content(body)
    sent.append(outbox.write(message, "reviewer@example.com"))


@pytest.fixture
def outbox(tmp_path: Path) -> Outbox:
    return Outbox(tmp_path / "outbox")


def test_each_new_email_is_read_once_and_its_approval_decided_once(outbox: Outbox) -> None:
    browser, table, sent = FakeBrowser(), Table("a1", "a2", "a3"), []
    decider = ApprovalDecider(
        outbox, always("APPROVED"), reviewer="soak", comment_prefix="soak", submit=browser
    )
    write(outbox, sent, "a1")
    write(outbox, sent, "a2")
    assert decider.decide_sent(sent, table) == 2
    assert decider.decide_sent(sent, table) == 0  # nothing new: nothing read, nothing asked
    assert table.asked == ["a1", "a2"]
    write(outbox, sent, "a3")
    assert decider.decide_sent(sent, table) == 1
    assert table.asked == ["a1", "a2", "a3"]
    assert [call[0] for call in browser.calls] == [f"{BASE}/{i}?s=secret-{i}" for i in ("a1", "a2", "a3")]
    assert decider.decided == {"APPROVED": 3}


def test_approvals_no_longer_pending_and_emails_without_a_link_are_skipped(outbox: Outbox) -> None:
    browser, table, sent = FakeBrowser(), Table("open"), []
    decider = ApprovalDecider(outbox, always("REJECTED"), reviewer="t", comment_prefix="t", submit=browser)
    write(outbox, sent, "gone")  # decided or expired before the decider looked
    write(outbox, sent, None)  # not an approval email
    write(outbox, sent, "nolink", link=False)
    write(outbox, sent, "open")
    assert decider.decide_sent(sent, table) == 1
    assert table.asked == ["gone", "open"]
    assert [call[:2] for call in browser.calls] == [(f"{BASE}/open?s=secret-open", "REJECTED")]


def test_an_approval_decided_by_either_way_in_is_never_decided_again(outbox: Outbox) -> None:
    browser, table, sent = FakeBrowser(), Table("both"), []
    decider = ApprovalDecider(outbox, always("APPROVED"), reviewer="t", comment_prefix="t", submit=browser)
    write(outbox, sent, "both")
    assert decider.decide([dict(table.pending["both"], status="PENDING")]) == 1
    write(outbox, sent, "both")  # the same approval's email again (a resend)
    assert decider.decide_sent(sent, table) == 0
    assert len(browser.calls) == 1


def test_reminders_of_an_approval_are_never_a_second_decision(outbox: Outbox) -> None:
    browser, table, sent = FakeBrowser(), Table("ap"), []
    decider = ApprovalDecider(outbox, always("APPROVED"), reviewer="t", comment_prefix="t", submit=browser)
    write(outbox, sent, "ap")
    reminder = EmailMessage()
    reminder["Subject"] = "Reminder: ap"
    reminder["X-Reviewflow-Approval-Id"] = "ap"
    reminder["X-Reviewflow-Reminder"] = "reminder"
    reminder.set_content(f"Still waiting: {BASE}/ap?s=fresh-ap\n")
    sent.append(outbox.write(reminder, "reviewer@example.com"))
    assert decider.decide_sent(sent, table) == 1  # both emails in one poll: one decision
    sent.append(outbox.write(reminder, "reviewer@example.com"))
    assert decider.decide_sent(sent, table) == 0
    assert [call[0] for call in browser.calls] == [f"{BASE}/ap?s=secret-ap"]
