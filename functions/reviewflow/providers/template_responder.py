"""Offline replies for the local runtime: fixed templates, clearly labelled as such.

No package that installs offline writes acceptable replies (see the local-runtime notes), so the
local runtime answers from templates. Every reply is published with model id
``local/template-responder`` and prompt version ``template/v1``, so nobody mistakes it for a
model's work. The review text is never quoted back: it is untrusted and may be abusive. Only the
product name and the reviewer name are used, on one line each. No template promises a refund,
compensation or a replacement; a complaint is sent to customer support.

The phrasing is picked from the review id with SHA-256, so a review always gets the same reply
(Python's ``hash`` is salted per process and would not be).
"""

from __future__ import annotations

import hashlib
from string import Template

from reviewflow.models.events import ReviewPosted, Sentiment
from reviewflow.models.steps import GeneratedResponse, SentimentResult

MODEL_ID = "local/template-responder"
PROMPT_VERSION = "template/v1"

# ``$greeting`` is "Hi <reviewer name>," or "Hello,"; ``$product`` the product name or "this product".
PHRASINGS: dict[Sentiment, tuple[str, ...]] = {
    "POSITIVE": (
        "$greeting thank you for your kind review of $product. We are glad it is working well for you.",
        "$greeting we are delighted that you are enjoying $product. Thank you for sharing your experience.",
        "$greeting thanks a lot for taking the time to review $product. It is great to hear you are "
        "happy with it.",
    ),
    "NEGATIVE": (
        "$greeting we are sorry to hear that $product did not meet your expectations. Please contact "
        "our customer support team so we can look into this with you.",
        "$greeting thank you for telling us about your experience with $product, and we are sorry it "
        "was disappointing. Our customer support team would like to help; please get in touch with them.",
        "$greeting we are sorry about the trouble you had with $product. Please reach out to our "
        "customer support team so they can look into what happened.",
    ),
    "MIXED": (
        "$greeting thank you for your balanced review of $product. We are glad some things worked well, "
        "and if you would like help with the rest, our customer support team is happy to look into it.",
        "$greeting thanks for sharing both what you liked and what you did not about $product. Your "
        "feedback helps us improve, and our customer support team is there if you need a hand.",
    ),
    "NEUTRAL": (
        "$greeting thank you for taking the time to review $product. We appreciate your feedback.",
        "$greeting thanks for sharing your thoughts on $product. If you have any questions, our "
        "customer support team is happy to help.",
    ),
}


def _one_line(text: str | None) -> str | None:
    if text is None:
        return None
    collapsed = " ".join(text.split())
    return collapsed or None


def _pick(review_id: str, count: int) -> int:
    digest = hashlib.sha256(review_id.encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") % count


class TemplateResponder:
    """``ResponseWriter`` (``name="template"``): deterministic, offline, no model."""

    name = "template"
    model_id = MODEL_ID

    def write(self, review: ReviewPosted, sentiment: SentimentResult) -> GeneratedResponse:
        reviewer = _one_line(review.reviewer_name)
        product = _one_line(review.product_name)
        phrasings = PHRASINGS[sentiment.sentiment]
        template = Template(phrasings[_pick(review.review_id, len(phrasings))])
        text = template.substitute(
            greeting=f"Hi {reviewer}," if reviewer else "Hello,",
            product=product or "this product",
        )
        return GeneratedResponse(response_text=text, model_id=MODEL_ID, prompt_version=PROMPT_VERSION)
