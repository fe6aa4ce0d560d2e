"""The reviewer queue and the roster's own links in a real Chromium, on a phone-sized screen.

A roster of two: ana opens her queue from her email, follows it to the approval and approves;
bo's own link then says who decided, bo's queue no longer lists it, and ana's queue link with
bo's name in the path is the same "Queue not found" as any wrong link.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from reviewflow_local.pipeline import LocalPipeline
from tests.browser.conftest import ARTIFACTS, DEADLINE, PHONE, approval_item
from tests.workflow.conftest import start_stack, wait_until

pytestmark = pytest.mark.browser

ROSTER = [{"id": "ana", "email": "ana@example.com"}, {"id": "bo", "email": "bo@example.com"}]
REVIEW = {
    "review_id": "br-queue",
    "product_id": "kettle-200",
    "product_name": "Kettle <i>200</i> with a very long name that must wrap on a phone screen",
    "language": "de",  # the offline model cannot score German: a person checks the review
    "review_text": "Der Wasserkocher ist schnell und leise. <img src=x onerror=alert(1)>",
}
QUEUE_LINK = re.compile(r"https?://\S+?/reviewers/[a-z0-9-]+/queue\?a=[\w-]+&s=[\w-]+")


@pytest.fixture(scope="module")
def stack(project_root: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalPipeline]:
    local = start_stack(project_root, tmp_path_factory.mktemp("browser-queue"), {"reviewers": ROSTER})
    yield local
    local.stop()


def _links(stack: LocalPipeline) -> tuple[str, dict[str, tuple[str, str]]]:
    """The review's approval id, and per reviewer (approval link, queue link) from their own email."""
    pending = wait_until(
        lambda: [a for a in stack.pending_approvals() if a["review_id"] == REVIEW["review_id"]],
        DEADLINE,
        "the approval",
    )
    approval_id = pending[0]["approval_id"]
    emails = {entry["email"]: entry["id"] for entry in ROSTER}

    def find() -> dict[str, tuple[str, str]] | None:
        found = {
            emails[m.to or ""]: (m.approval_links[0], QUEUE_LINK.findall(m.text)[0])
            for m in stack.outbox.messages()
            if m.approval_id == approval_id and m.to in emails
        }
        return found if len(found) == len(ROSTER) else None

    return approval_id, wait_until(find, DEADLINE, "both reviewers' emails")


def test_a_reviewer_works_from_the_queue_and_the_other_link_says_who_decided(
    stack: LocalPipeline, new_page: Any
) -> None:
    from playwright.sync_api import expect

    stack.post_reviews([REVIEW])
    approval_id, links = _links(stack)
    ana_link, ana_queue = links["ana"]
    bo_link, bo_queue = links["bo"]

    page = new_page(PHONE)
    refused_styles: list[str] = []
    page.on(
        "console",
        lambda message: refused_styles.append(message.text) if "Content Security" in message.text else None,
    )
    page.goto(ana_queue)
    expect(page.locator("h1")).to_have_text("Waiting for you")
    expect(page.locator("main")).to_contain_text("Opened with your own link as ana")
    entry = page.locator(f"#approval-{approval_id}")
    expect(entry).to_contain_text("Review to check")
    expect(entry).to_contain_text("Kettle <i>200</i>")  # shown as text, not markup
    expect(entry).to_contain_text("<img src=x onerror=alert(1)>")
    assert page.locator("img").count() == 0
    page.screenshot(path=ARTIFACTS / "queue-phone.png", full_page=True)
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    assert refused_styles == []  # the stylesheet is allowed by its hash: nothing was blocked
    # The style applied (a blocked stylesheet would leave the default white page).
    assert page.evaluate("getComputedStyle(document.body).backgroundColor") == "rgb(245, 245, 244)"

    # From the queue to the approval, signed in as ana by her own link, and decided there.
    open_link = entry.get_by_role("link", name="Open this approval")
    assert open_link.bounding_box()["height"] > 0
    with page.expect_navigation():
        open_link.click()
    expect(page.locator("h1")).to_have_text("Review needed")
    expect(page.locator("main")).to_contain_text("Signed in by your own link as ana")
    assert page.url == ana_link
    # ... whose page links back to the same queue.
    back = page.get_by_role("link", name="Everything waiting for you")
    assert back.evaluate("a => a.href") == ana_queue
    with page.expect_navigation():
        page.get_by_role("button", name="Approve").click()
    expect(page.locator("h1")).to_have_text("Decision recorded")
    item = approval_item(stack, approval_id)
    assert (item["status"]["S"], item["reviewer_id"]["S"], item["reviewer_verified"]["BOOL"]) == (
        "APPROVED",
        "ana",
        True,
    )

    # bo, on his phone: his own link names who decided and when; his queue no longer lists it.
    other = new_page(PHONE)
    other.goto(bo_link)
    expect(other.locator("h1")).to_have_text("Already decided")
    expect(other.locator("main")).to_contain_text(f"Already decided by ana at {item['decided_at']['S']}.")
    assert other.get_by_role("button").count() == 0
    other.screenshot(path=ARTIFACTS / "roster-already-decided-phone.png", full_page=True)
    other.goto(bo_queue)
    expect(other.locator("h1")).to_have_text("Waiting for you")
    assert other.locator(f"#approval-{approval_id}").count() == 0

    # ana's queue link with bo's name in the path: not bo's queue, not a hint.
    forged = ana_queue.replace("/reviewers/ana/", "/reviewers/bo/")
    answer = other.goto(forged)
    assert answer is not None and answer.status == 404
    expect(other.locator("h1")).to_have_text("Queue not found")
