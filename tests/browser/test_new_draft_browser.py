""" "Request a new draft" in a real Chromium: the required guidance blocks only its own button,
the guidance reaches the workflow, and the next draft's page shows it as text."""

from __future__ import annotations

from typing import Any

import pytest

from reviewflow_local.pipeline import LocalPipeline
from tests.browser.conftest import ARTIFACTS, PHONE, approval_item, outcome_of, pending_approval
from tests.workflow.conftest import approval_link, wait_until

pytestmark = pytest.mark.browser

GUIDANCE = 'Skip the greeting <img src=x onerror="document.body.dataset.pwned=1"> and keep it brief.'


@pytest.fixture(scope="module", autouse=True)
def reviews(stack: LocalPipeline) -> None:
    # The offline responder greets the reviewer by name: a rude name makes the reply uncertain.
    stack.post_reviews(
        [
            {
                "review_id": "br-new-draft",
                "product_id": "mug-1",
                "product_name": "Classic Mug",
                "reviewer_name": "Damn Hell",
                "rating": 5,
                "review_text": "Nice heavy mug, the handle stays cool.",
            }
        ]
    )


def test_a_new_draft_is_requested_with_guidance_and_shown_as_text(
    stack: LocalPipeline, new_page: Any
) -> None:
    from playwright.sync_api import expect

    approval = pending_approval(stack, "br-new-draft", "RESPONSE")
    page = new_page(PHONE)
    page.goto(approval.link)
    expect(page.locator("h1")).to_have_text("Review needed")
    page.screenshot(path=ARTIFACTS / "new-draft-page-phone.png", full_page=True)
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    button = page.get_by_role("button", name="Request a new draft")
    assert button.bounding_box()["height"] >= 44

    # Empty guidance: the browser does not send the form; nothing is decided.
    button.click()
    expect(page.locator("h1")).to_have_text("Review needed")
    assert page.locator("#guidance").evaluate("box => box.validity.valueMissing")
    assert approval_item(stack, approval.approval_id)["status"]["S"] == "PENDING"

    page.get_by_label("What should the new draft do differently?").fill(GUIDANCE)
    page.get_by_label("Requested by").fill("Browser Redrafter")
    with page.expect_navigation():
        button.click()
    expect(page.locator("h1")).to_have_text("Decision recorded")
    expect(page.locator("main")).to_contain_text("sent back for a new draft by Browser Redrafter")
    expect(page.locator("main blockquote")).to_have_text(GUIDANCE)
    assert page.evaluate("document.body.dataset.pwned") is None
    assert approval_item(stack, approval.approval_id)["status"]["S"] == "NEW_DRAFT_REQUESTED"

    # The next draft is a new approval; its page lists the guidance, as text.
    def next_approval() -> str | None:
        link = approval_link(stack, "br-new-draft", "RESPONSE", timeout=45.0)
        return link if approval.approval_id not in link else None

    link = wait_until(next_approval, 45.0, "the second draft's approval")
    page.goto(link)
    expect(page.locator("h1")).to_have_text("Review needed")
    expect(page.locator("main ol blockquote")).to_have_text(GUIDANCE)
    assert page.locator("main img").count() == 0
    assert page.evaluate("document.body.dataset.pwned") is None
    expect(page.get_by_text("1 new draft left for this review.")).to_be_visible()

    # Approve is not blocked by the new-draft form's required guidance.
    with page.expect_navigation():
        page.get_by_role("button", name="Approve").click()
    expect(page.locator("h1")).to_have_text("Decision recorded")
    detail = outcome_of(stack, "br-new-draft")["detail"]
    assert [r["guidance"] for r in detail["draft_rounds"]] == [GUIDANCE]
    assert [d["decision"] for d in detail["human_decisions"]] == ["NEW_DRAFT_REQUESTED", "APPROVED"]
