"""A person's round trip in a real Chromium: email link -> page -> Approve -> outcome event.

The link is read out of the ``.eml`` the local outbox wrote, opened in Debian's Chromium, and the
form is filled and clicked like a person would. The outcome event published on the bus must carry
what the person typed; the same link afterwards shows "Already decided".
"""

from __future__ import annotations

from typing import Any

import pytest

from reviewflow_local.pipeline import LocalPipeline
from tests.browser.conftest import (
    ARTIFACTS,
    DESKTOP,
    PHONE,
    approval_item,
    outcome_of,
    pending_approval,
)

pytestmark = pytest.mark.browser

# Uncertain for the offline classifier (the workflow tier uses the same kind of text): one REVIEW
# approval, then an automatic reply.
UNCERTAIN_REVIEW = "This toaster sucks. Burns one side and leaves the other pale."
# The offline responder greets the reviewer by name: a rude name makes the *reply* uncertain.
RUDE_NAME = "Damn Hell"
INJECTION = (
    "Das Ding ist laut. <script>document.title='pwned'</script>"
    '<img src=x onerror="document.body.dataset.pwned=1"> Ende.'
)


@pytest.fixture(scope="module", autouse=True)
def reviews(stack: LocalPipeline) -> None:
    stack.post_reviews(
        [
            {
                "review_id": "br-approve",
                "product_id": "toaster-4",
                "product_name": "Toastmaster 4",
                "rating": 2,
                "review_text": UNCERTAIN_REVIEW,
            },
            {
                "review_id": "br-edit",
                "product_id": "mug-1",
                "product_name": "Classic Mug",
                "reviewer_name": RUDE_NAME,
                "rating": 5,
                "review_text": "Nice heavy mug that keeps coffee warm for a long time.",
            },
            {
                # German: the offline model cannot score it, so it goes to a person.
                "review_id": "br-inject",
                "product_id": "kettle-200",
                "language": "de",
                "reviewer_name": '"><b>Eve</b>',
                "review_text": INJECTION,
            },
            {
                "review_id": "br-layout",
                "product_id": "blender-9000",
                "product_name": "Blender 9000 with a rather long product name for small screens",
                "rating": 1,
                "review_text": UNCERTAIN_REVIEW + " " + "averyveryverylongwordwithoutanybreaks" * 4,
            },
            {
                "review_id": "br-crosssite",
                "product_id": "toaster-4",
                "rating": 2,
                "review_text": "What a load of crap, the toaster sucks.",
            },
        ]
    )


def record_requests(page: Any) -> list[Any]:
    seen: list[Any] = []
    page.on("request", lambda request: seen.append(request))
    return seen


def test_approve_from_the_emailed_link_finishes_the_workflow(stack: LocalPipeline, new_page: Any) -> None:
    from playwright.sync_api import expect

    approval = pending_approval(stack, "br-approve", "REVIEW")
    page = new_page(PHONE)
    requests = record_requests(page)

    shown = page.goto(approval.link)
    assert shown is not None and shown.status == 200
    expect(page.locator("h1")).to_have_text("Review needed")
    expect(page.locator("blockquote").first).to_have_text(UNCERTAIN_REVIEW)
    expect(page.get_by_text("Toastmaster 4 (toaster-4)")).to_be_visible()
    expect(page.get_by_text("Time left:")).to_be_visible()
    page.screenshot(path=ARTIFACTS / "review-page-phone.png", full_page=True)

    page.get_by_label("Your name").fill("Browser Tester")
    page.get_by_label("Comment").fill("Rude but fair <b>criticism</b>.")
    with page.expect_navigation():
        page.get_by_role("button", name="Approve").click()
    expect(page.locator("h1")).to_have_text("Decision recorded")
    expect(page.locator("main")).to_contain_text("approved by Browser Tester")
    page.screenshot(path=ARTIFACTS / "decided-phone.png", full_page=True)

    post = next(r for r in requests if r.method == "POST")
    headers = post.all_headers()
    assert post.url == approval.url  # the secret is not in the URL of the POST...
    assert f"secret={approval.secret}" in (post.post_data or "")  # ...but in its body
    assert headers.get("sec-fetch-site") == "same-origin"
    assert headers.get("origin") == "null"  # the page's Referrer-Policy is no-referrer

    event = outcome_of(stack, "br-approve")
    detail = event["detail"]
    assert event["detail-type"] == "NEW_REVIEW_RESPONSE_CREATED"
    assert detail["decided_by"] == "reviewer"  # a person let the review through
    [decision] = detail["human_decisions"]
    assert decision["approval_id"] == approval.approval_id
    assert (decision["stage"], decision["decision"]) == ("REVIEW", "APPROVED")
    assert decision["reviewer"] == "Browser Tester"
    assert decision["comment"] == "Rude but fair <b>criticism</b>."

    again = page.goto(approval.link)
    assert again is not None and again.status == 200
    expect(page.locator("h1")).to_have_text("Already decided")
    expect(page.locator("main")).to_contain_text("approved by Browser Tester")
    expect(page.locator("main")).to_contain_text(decision["decided_at"])
    assert page.locator("form").count() == 0
    # The escaped comment is shown as text, not as markup.
    assert page.locator("main b").count() == 0
    item = approval_item(stack, approval.approval_id)
    assert item["status"]["S"] == "APPROVED"
    assert item["user_agent"]["S"].startswith("Mozilla/5.0")
    assert item["source_ip"]["S"] == "127.0.0.1"


def test_edited_reply_is_what_gets_published(stack: LocalPipeline, new_page: Any) -> None:
    from playwright.sync_api import expect

    approval = pending_approval(stack, "br-edit", "RESPONSE")
    page = new_page(PHONE)
    page.goto(approval.link)
    expect(page.locator("h1")).to_have_text("Review needed")
    draft = page.get_by_label("Reply (you may edit it before approving)")
    assert RUDE_NAME in draft.input_value()
    page.screenshot(path=ARTIFACTS / "response-page-phone.png", full_page=True)

    edited = "Thank you for your kind words about the Classic Mug!\nEnjoy your coffee."
    draft.fill(edited)
    page.get_by_label("Your name").fill("Editor Ed")
    with page.expect_navigation():
        page.get_by_role("button", name="Approve").click()
    expect(page.locator("h1")).to_have_text("Decision recorded")
    expect(page.locator("main")).to_contain_text("Published reply (edited)")

    detail = outcome_of(stack, "br-edit")["detail"]
    assert detail["response_text"] == edited
    assert detail["decided_by"] == "reviewer"
    [decision] = detail["human_decisions"]
    assert (decision["stage"], decision["decision"], decision["reviewer"]) == (
        "RESPONSE",
        "APPROVED",
        "Editor Ed",
    )
    assert decision["response_edited"] is True


def test_markup_in_review_and_names_is_shown_as_text(stack: LocalPipeline, new_page: Any) -> None:
    from playwright.sync_api import expect

    approval = pending_approval(stack, "br-inject", "REVIEW")
    page = new_page(DESKTOP)
    console: list[str] = []
    page.on("console", lambda message: console.append(f"{message.type}: {message.text}"))
    page.goto(approval.link)
    expect(page.locator("h1")).to_have_text("Review needed")
    expect(page.locator("blockquote").first).to_have_text(INJECTION)
    assert page.title() == "Review needed - reviewflow"
    assert page.evaluate("document.body.dataset.pwned") is None
    assert page.locator("main img, main script, main b").count() == 0
    expect(page.locator("dd", has_text="<b>Eve</b>")).to_have_count(1)

    # The HTML part of the email, as the local inbox shows it, is escaped the same way.
    page.goto(f"{stack.front.url}/outbox/{approval.eml.stem}.html")
    expect(page.locator("blockquote").first).to_have_text(INJECTION)
    assert page.evaluate("document.body.dataset.pwned") is None
    assert page.locator("img, script").count() == 0

    # A reviewer name with markup ends up escaped on the "decided" page too.
    page.goto(approval.link)
    page.get_by_label("Your name").fill("<script>document.title='owned'</script>")
    with page.expect_navigation():
        page.get_by_role("button", name="Reject").click()
    expect(page.locator("h1")).to_have_text("Decision recorded")
    expect(page.locator("main")).to_contain_text("rejected by <script>document.title='owned'</script>")
    assert page.title() == "Decision recorded - reviewflow"
    assert [line for line in console if line.startswith("error")] == []
    detail = outcome_of(stack, "br-inject")["detail"]
    assert detail["human_decisions"][0]["reviewer"] == "<script>document.title='owned'</script>"


@pytest.mark.parametrize(("viewport", "name"), [(PHONE, "phone"), (DESKTOP, "desktop")])
def test_review_page_is_readable_on_phone_and_desktop(
    stack: LocalPipeline, new_page: Any, viewport: dict[str, int], name: str
) -> None:
    approval = pending_approval(stack, "br-layout", "REVIEW")
    page = new_page(viewport)
    page.goto(approval.link)
    page.screenshot(path=ARTIFACTS / f"layout-{name}.png", full_page=True)
    page.screenshot(path=ARTIFACTS / f"layout-{name}-first-screen.png")

    # No sideways scrolling, even with a long unbroken word in the review.
    assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
    body_font = page.evaluate("parseFloat(getComputedStyle(document.body).fontSize)")
    assert body_font >= 16
    for button in ("Approve", "Reject"):
        box = page.get_by_role("button", name=button).bounding_box()
        assert box is not None
        assert box["height"] >= 44  # a comfortable tap target
        assert box["x"] >= 0 and box["x"] + box["width"] <= viewport["width"]
    textarea = page.get_by_label("Comment").bounding_box()
    assert textarea is not None and textarea["x"] + textarea["width"] <= viewport["width"]
    assert approval_item(stack, approval.approval_id)["status"]["S"] == "PENDING"  # looking changed nothing


def test_cross_site_form_post_from_a_browser_is_refused(stack: LocalPipeline, new_page: Any) -> None:
    """Even an attacker who knows the whole link cannot make a visitor's browser decide."""
    from playwright.sync_api import expect

    approval = pending_approval(stack, "br-crosssite", "REVIEW")
    page = new_page(DESKTOP)
    requests = record_requests(page)
    evil = (
        "<!doctype html><title>win a prize</title>"
        f'<form method="post" action="{approval.url}">'
        f'<input type="hidden" name="secret" value="{approval.secret}">'
        '<button name="decision" value="APPROVED">Claim prize</button></form>'
    )
    page.route(
        "http://evil.example/**",
        lambda route: route.fulfill(status=200, content_type="text/html", body=evil),
    )
    page.goto("http://evil.example/prize")
    with page.expect_navigation() as navigation:
        page.get_by_role("button", name="Claim prize").click()
    response = navigation.value
    assert response is not None and response.status == 403
    expect(page.locator("h1")).to_have_text("Not allowed")

    post = next(r for r in requests if r.method == "POST")
    headers = post.all_headers()
    assert headers.get("origin") == "http://evil.example"  # what the refusal keyed on
    # With request interception on, Playwright reports the headers before the network layer adds
    # the Sec-Fetch-* ones, so only Origin is asserted here (test_attacks covers Sec-Fetch-Site).
    assert approval_item(stack, approval.approval_id)["status"]["S"] == "PENDING"


def test_inbox_lists_pending_and_decided_approvals(stack: LocalPipeline, new_page: Any) -> None:
    from playwright.sync_api import expect

    outcome_of(stack, "br-approve")  # decided by the first test of this module
    waiting = pending_approval(stack, "br-layout", "REVIEW")
    page = new_page(DESKTOP)
    console: list[str] = []
    page.on("console", lambda message: console.append(f"{message.type}: {message.text}"))
    shown = page.goto(stack.front.url + "/")
    assert shown is not None and shown.status == 200
    assert "default-src 'none'" in shown.headers["content-security-policy"]
    expect(page.locator("h1")).to_have_text("reviewflow — local inbox")
    page.screenshot(path=ARTIFACTS / "inbox-desktop.png", full_page=True)

    pending_row = page.locator("table").nth(0).locator("tr", has_text="br-layout")
    expect(pending_row).to_have_count(1)
    expect(pending_row.get_by_role("link", name="approval page")).to_have_attribute("href", waiting.link)
    decided_row = page.locator("table").nth(1).locator("tr", has_text="br-approve")
    expect(decided_row).to_contain_text("APPROVED")
    expect(decided_row).to_contain_text("Browser Tester")
    expect(decided_row.get_by_role("link", name="approval page")).to_have_count(0)
    eml_href = decided_row.get_by_role("link", name=".eml").get_attribute("href")
    assert eml_href is not None and eml_href.endswith(".eml")
    expect(page.locator("body")).to_contain_text("the local reviewer's own inbox")
    assert [line for line in console if line.startswith("error")] == []
