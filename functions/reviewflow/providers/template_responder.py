"""Offline replies for the local runtime: fixed templates, clearly labelled as such.

No package that installs offline writes acceptable replies (see the local-runtime notes), so the
local runtime answers from templates. Every reply is published with model id
``local/template-responder`` and its prompt version (``template/v2`` by default), so nobody
mistakes it for a model's work. The review text is never quoted back: it is untrusted and may be
abusive. Only the product name and the reviewer name are used, on one line each. No template
promises a refund, compensation, a replacement or a discount, and none carries a link, an email
address or a phone number; a complaint is sent to customer support.

The set of phrasings (the tone) comes from the sentiment label and the star rating together
(``tone``), because the label can contradict the stars (VADER reads sarcasm as praise) and a
reply that contradicts them reads as a form letter:

* 1-2 stars: a NEGATIVE label gets the complaint replies; any other label gets ``LOW_RATING``
  replies, which are sorry the product fell short and point to customer support. So a 1-2 star
  review is never told that we are glad, delighted or happy it works, whatever the label says.
* 4-5 stars with a NEGATIVE or MIXED label: ``HIGH_RATING_CONCERN`` replies thank the reviewer
  for the rating and offer customer support's help with whatever is not right, without an
  apology that would contradict the stars.
* 3 stars, no rating, and the other combinations: the label's own replies, as in
  ``template/v1``.

Both versions can be selected, so the evaluation suite can compare them (``docs/evaluation.md``):
``TemplateResponder("v2")`` (the default, published as ``template/v2``) reads the rating as above;
``TemplateResponder("v1")`` (``template/v1``, the previous behaviour) answers from the label only,
so a 1-star review labelled POSITIVE or MIXED is told that we are glad (some things) worked.
The phrasing is picked from the review id with SHA-256, so a review always gets the same reply
(Python's ``hash`` is salted per process and would not be).

Languages: the reply is written in the review's language for English, German, French and Spanish
(``LANGUAGES``; the other languages' phrasings are in ``template_responder_languages``). For any
other language the responder cannot write a reply in that language, and says so: it writes the
English reply and marks it ``language: "en"``, and the draft check sends a reply that is not in
the review's language to a person (who can translate it in the edit box) instead of publishing it.

New drafts (a reviewer's "request a new draft" with guidance): a template writer cannot follow free
text, and does not pretend to. It answers with another phrasing of the same tone than the first
draft (chosen from the review id and the guidance, never the same one), keeps only the first
sentence when the guidance asks for a shorter reply (``SHORTER_WORDS``), never puts any of the
guidance into the reply, and publishes the draft as ``template/guided-v1``.
"""

from __future__ import annotations

import hashlib
from string import Template
from typing import Literal

from reviewflow.errors import ConfigurationError
from reviewflow.models.evaluation import Candidate
from reviewflow.models.events import ReviewPosted, Sentiment
from reviewflow.models.steps import GeneratedResponse, SentimentResult
from reviewflow.providers.template_responder_languages import WORDINGS

MODEL_ID = "local/template-responder"
#: The versions a ``TemplateResponder`` can answer with; each is published as ``template/<version>``.
VERSIONS = ("v1", "v2")
DEFAULT_VERSION = "v2"
PROMPT_VERSION = f"template/{DEFAULT_VERSION}"
GUIDED_PROMPT_VERSION = "template/guided-v1"
#: Guidance words the template writer understands: keep only the first sentence.
SHORTER_WORDS = ("short", "brief", "concise", "one sentence")

Tone = Literal["POSITIVE", "NEGATIVE", "NEUTRAL", "MIXED", "LOW_RATING", "HIGH_RATING_CONCERN"]

# ``$greeting`` is "Hi <reviewer name>," or "Hello,"; ``$product`` the product name or "this
# product"; ``$stars`` the rating as "4-star" (only the high-rating phrasings use it).
PHRASINGS: dict[Tone, tuple[str, ...]] = {
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
    "LOW_RATING": (
        "$greeting thank you for your review of $product. We are sorry it fell short for you; please "
        "contact our customer support team so they can look into what went wrong.",
        "$greeting thanks for taking the time to rate $product, and we are sorry it did not live up to "
        "what you hoped. Our customer support team would like to help; please get in touch with them.",
        "$greeting we are sorry that $product did not earn a better rating from you. Please reach out "
        "to our customer support team so they can look into your experience.",
    ),
    "HIGH_RATING_CONCERN": (
        "$greeting thank you for the $stars rating of $product. If anything is not working as well as "
        "you would like, our customer support team is ready to help.",
        "$greeting thanks for your $stars review of $product and for telling us what could be better. "
        "Our customer support team can help with anything that is not working as it should.",
        "$greeting thank you for rating $product so well. If something still bothers you, please get "
        "in touch with our customer support team so they can help.",
    ),
}


#: Languages the templates are written in: English (``PHRASINGS``) and ``WORDINGS``'s.
LANGUAGES: frozenset[str] = frozenset({"en", *WORDINGS})


def tone(sentiment: Sentiment, rating: int | None, version: str = DEFAULT_VERSION) -> Tone:
    """Which phrasings answer a review with this label and star rating (see the module docstring).

    ``template/v1`` read the label only: its tone is the label, whatever the stars say.
    """
    if version == "v1":
        return sentiment
    if rating is not None and rating <= 2 and sentiment != "NEGATIVE":
        return "LOW_RATING"
    if rating is not None and rating >= 4 and sentiment in ("NEGATIVE", "MIXED"):
        return "HIGH_RATING_CONCERN"
    return sentiment


def _one_line(text: str | None) -> str | None:
    if text is None:
        return None
    collapsed = " ".join(text.split())
    return collapsed or None


def _pick(review_id: str, count: int) -> int:
    digest = hashlib.sha256(review_id.encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") % count


def _first_sentence(text: str) -> str:
    end = text.find(". ")
    return text if end < 0 else text[: end + 1]


class TemplateResponder:
    """``ResponseWriter`` (``name="template"``): deterministic, offline, no model."""

    name = "template"
    model_id = MODEL_ID

    def __init__(self, version: str = DEFAULT_VERSION) -> None:
        if version not in VERSIONS:
            raise ValueError(f"no template version {version!r}; known: {', '.join(VERSIONS)}")
        self.version = version
        self.prompt_version = f"template/{version}"

    def write(
        self, review: ReviewPosted, sentiment: SentimentResult, *, guidance: str | None = None
    ) -> GeneratedResponse:
        reviewer = _one_line(review.reviewer_name)
        product = _one_line(review.product_name)
        chosen = tone(sentiment.sentiment, review.rating, self.version)
        wording = WORDINGS.get(review.language)
        if wording is None:  # English, and every language the templates are not written in
            language = "en"
            phrasings = PHRASINGS[chosen]
            values = {
                "greeting": f"Hi {reviewer}," if reviewer else "Hello,",
                "product": product or "this product",
                "stars": f"{review.rating}-star",
            }
        else:
            language = review.language
            phrasings = wording.phrasings[chosen]
            values = {
                "greeting": wording.greeting_named.format(name=reviewer) if reviewer else wording.greeting,
                "product": product or wording.product,
                "product_dat": product or wording.product_dative,
                "stars": wording.stars.format(rating=review.rating),
            }
        first = _pick(review.review_id, len(phrasings))
        if guidance is None:
            text = Template(phrasings[first]).substitute(values)
            return GeneratedResponse(
                response_text=text, model_id=MODEL_ID, prompt_version=self.prompt_version, language=language
            )
        # Another phrasing than the first draft's (every tone has at least two).
        other = (first + 1 + _pick(f"{review.review_id}\n{guidance}", len(phrasings) - 1)) % len(phrasings)
        text = Template(phrasings[other]).substitute(values)
        if any(word in guidance.lower() for word in SHORTER_WORDS):
            text = _first_sentence(text)
        return GeneratedResponse(
            response_text=text, model_id=MODEL_ID, prompt_version=GUIDED_PROMPT_VERSION, language=language
        )


def responder_for(candidate: Candidate) -> TemplateResponder:
    """The responder an evaluation candidate names (``local/template-responder`` at ``v1``/``v2``).

    Another model id is refused rather than answered from templates: a report would otherwise
    credit that model with the templates' replies.
    """
    if candidate.model_id != MODEL_ID:
        raise ConfigurationError(f"candidate {candidate.name}: offline, the only reply model is {MODEL_ID}")
    if candidate.prompt_version not in VERSIONS:
        raise ConfigurationError(
            f"candidate {candidate.name}: the template responder has versions {', '.join(VERSIONS)}, "
            f"not {candidate.prompt_version!r}"
        )
    return TemplateResponder(candidate.prompt_version)
