"""The publish gate as a reviewer meets it in Chromium: a toxic edit is refused with its labels
and the approval stays pending; the clean edit that follows is published with its own score; a
draft that breaks a reply rule is published only with a written reason, which the outcome carries."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from reviewflow.providers import registry
from reviewflow_local.pipeline import LocalPipeline
from tests.browser.conftest import ARTIFACTS, PHONE, approval_item, outcome_of, pending_approval
from tests.workflow.test_publish_gate import PROMISE, PromisingWriter

pytestmark = pytest.mark.browser

TOXIC_EDIT = "Shut up, you fucking idiot. Nobody cares about your shitty mug."
CLEAN_EDIT = "Thank you for the lovely review of the Classic Mug. Enjoy your coffee!"
REASON = "Support already agreed this refund with the customer by phone (ticket 4411)."


@pytest.fixture(scope="module", autouse=True)
def reviews(stack: LocalPipeline) -> Iterator[None]:
    from reviewflow.providers.template_responder import TemplateResponder

    registry.set_override("response_writer", PromisingWriter(TemplateResponder()))
    stack.post_reviews(
        [
            {  # the rude name makes the template's greeting uncertain: the reply waits for a person
                "review_id": "br-gate-edit",
                "product_id": "mug-1",
                "product_name": "Classic Mug",
                "reviewer_name": "Damn Hell",
                "rating": 5,
                "review_text": "Nice heavy mug that keeps coffee warm for a long time.",
            },
            {  # the writer promises a refund: the draft check sends it to a person
                "review_id": "gate-promise-browser",
                "product_id": "mug-1",
                "rating": 2,
                "review_text": "The handle came off on the first day.",
            },
        ]
    )
    yield
    registry.set_override("response_writer", None)


def test_a_toxic_edit_is_refused_in_the_page_then_a_clean_edit_is_published(
    stack: LocalPipeline, new_page: Any
) -> None:
    from playwright.sync_api import expect

    approval = pending_approval(stack, "br-gate-edit", "RESPONSE")
    page = new_page(PHONE)
    page.goto(approval.link)
    reply = page.get_by_label("Reply (you may edit it before approving)")
    reply.fill(TOXIC_EDIT)
    with page.expect_navigation():
        page.get_by_role("button", name="Approve").click()
    refusal = page.get_by_role("alert")
    expect(refusal).to_contain_text("Not approved yet")
    expect(refusal).to_contain_text("above the harmful threshold")
    expect(refusal).to_contain_text("PROFANITY")
    page.screenshot(path=ARTIFACTS / "edit-refused-phone.png", full_page=True)
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    assert approval_item(stack, approval.approval_id)["status"]["S"] == "PENDING"
    assert reply.input_value() == TOXIC_EDIT  # kept, so the reviewer can fix it

    reply.fill(CLEAN_EDIT)
    with page.expect_navigation():
        page.get_by_role("button", name="Approve").click()
    expect(page.locator("h1")).to_have_text("Decision recorded")
    detail = outcome_of(stack, "br-gate-edit")["detail"]
    assert detail["response_text"] == CLEAN_EDIT
    assert detail["reply_check"]["rescored"] is True
    assert detail["response_toxicity"]["score"] < detail["draft_toxicity"]["score"]
    assert TOXIC_EDIT not in str(detail)


def test_publishing_over_a_rule_needs_a_reason_that_reaches_the_outcome(
    stack: LocalPipeline, new_page: Any
) -> None:
    from playwright.sync_api import expect

    approval = pending_approval(stack, "gate-promise-browser", "RESPONSE")
    page = new_page(PHONE)
    page.goto(approval.link)
    expect(page.locator("main")).to_contain_text("Reply rules the draft breaks")
    expect(page.locator("main")).to_contain_text("promise_of_money_or_goods")
    with page.expect_navigation():
        page.get_by_role("button", name="Approve").click()
    expect(page.get_by_role("alert")).to_contain_text("give a reason")
    assert approval_item(stack, approval.approval_id)["status"]["S"] == "PENDING"

    page.get_by_label("Reason for publishing over a reply rule").fill(REASON)
    with page.expect_navigation():
        page.get_by_role("button", name="Approve").click()
    expect(page.locator("h1")).to_have_text("Decision recorded")
    expect(page.locator("main")).to_contain_text("Published over a reply rule because")
    page.screenshot(path=ARTIFACTS / "override-recorded-phone.png", full_page=True)
    detail = outcome_of(stack, "gate-promise-browser")["detail"]
    assert detail["response_text"] == PROMISE
    assert detail["reply_check"]["overridden"] == ["promise_of_money_or_goods"]
    assert detail["human_decisions"][0]["policy_override_reason"] == REASON
