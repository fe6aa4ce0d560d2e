"""What a reviewer reads on a phone: the reviewer email's HTML part and the local inbox fit a
390-px-wide screen (a viewport, no sideways scrolling), checked in Chromium with screenshots."""

from __future__ import annotations

from typing import Any

import pytest

from reviewflow_local.outbox import read_message
from reviewflow_local.pipeline import LocalPipeline
from tests.browser.conftest import ARTIFACTS, PHONE, pending_approval

pytestmark = pytest.mark.browser

LONG_WORD = "unbelievablyoverpricedandflimsyplasticcontraption" * 3


@pytest.fixture(scope="module", autouse=True)
def reviews(stack: LocalPipeline) -> None:
    stack.post_reviews(
        [
            {
                "review_id": "br-phone",
                "product_id": "toaster-4",
                "product_name": "Toastmaster 4 with an unusually long product name for small screens",
                "rating": 2,
                # Rude enough to be uncertain for the offline classifier: a reviewer email is sent.
                "review_text": f"This toaster sucks. Burns one side and leaves the other pale. {LONG_WORD}",
            }
        ]
    )


def fits_the_phone(page: Any) -> bool:
    """No sideways scrolling, and nothing drawn past the right edge (not even in a scrolled box)."""
    widest = page.evaluate(
        "Math.max(...[...document.body.querySelectorAll('*')].map(e => e.getBoundingClientRect().right))"
    )
    return bool(
        page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"] and widest <= PHONE["width"]
    )


def test_the_reviewer_email_fits_a_phone(stack: LocalPipeline, new_page: Any) -> None:
    approval = pending_approval(stack, "br-phone", "REVIEW")
    message = read_message(approval.eml)
    assert message.html is not None and 'name="viewport"' in message.html
    page = new_page(PHONE)
    page.set_content(message.html)
    page.screenshot(path=ARTIFACTS / "email-phone.png", full_page=True)
    assert fits_the_phone(page)


def test_the_inbox_fits_a_phone(stack: LocalPipeline, new_page: Any) -> None:
    pending_approval(stack, "br-phone", "REVIEW")
    page = new_page(PHONE)
    page.goto(stack.front.url + "/")
    assert page.locator('meta[name="viewport"]').count() == 1
    page.screenshot(path=ARTIFACTS / "inbox-phone.png", full_page=True)
    assert fits_the_phone(page)
