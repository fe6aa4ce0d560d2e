"""The offline providers of the local runtime: VADER sentiment and the template responder."""

from __future__ import annotations

import re

import pytest

from reviewflow.models.events import ReviewPosted
from reviewflow.models.steps import SentimentResult
from reviewflow.providers.local_sentiment import VaderSentiment, label
from reviewflow.providers.template_responder import PHRASINGS, TemplateResponder

FORBIDDEN = re.compile(
    r"refund|money back|compensat|replac|voucher|discount|free of charge|reimburs|liab|our fault",
    re.IGNORECASE,
)


def _review(text: str, **extra) -> ReviewPosted:
    return ReviewPosted(
        review_id=extra.pop("review_id", "rev-1"), product_id="sku-1", review_text=text, **extra
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("I love this kettle, it boils fast and looks great.", "POSITIVE"),
        ("Good value for money, though shipping was a bit slow.", "POSITIVE"),
        ("Absolutely awful, worst purchase ever, do not buy.", "NEGATIVE"),
        ("Terrible. It broke after two days and support never answered my emails.", "NEGATIVE"),
        ("The box contains one charger and a cable.", "NEUTRAL"),
        ("It arrived on Tuesday.", "NEUTRAL"),
        ("Love the color, hate the fit.", "MIXED"),
        (
            "The screen is beautiful and bright. Sadly the speakers are terrible and the case cracked.",
            "MIXED",
        ),
    ],
)
def test_vader_labels_real_sentences(text, expected):
    result = VaderSentiment().detect(_review(text))
    assert result.sentiment == expected
    assert result.model_id == "local/vader-3.3.2"
    assert result.prompt_version == "none"
    assert result.reason.startswith("VADER lexicon scores: compound ")
    assert result.attempts == 1


def test_vader_reads_the_rating_against_the_words():
    text = "Absolutely awful, worst purchase ever, do not buy."
    assert VaderSentiment().detect(_review(text)).sentiment == "NEGATIVE"
    assert VaderSentiment().detect(_review(text, rating=1)).sentiment == "NEGATIVE"
    result = VaderSentiment().detect(_review(text, rating=5))
    assert result.sentiment == "MIXED"
    assert "5-star rating and the negative words disagree" in result.reason


@pytest.mark.parametrize(
    ("scores", "expected"),
    [
        ({"pos": 0.0, "neg": 0.0, "compound": 0.05}, "POSITIVE"),
        ({"pos": 0.0, "neg": 0.0, "compound": 0.0499}, "NEUTRAL"),
        ({"pos": 0.0, "neg": 0.0, "compound": -0.05}, "NEGATIVE"),
        ({"pos": 0.4, "neg": 0.2, "compound": 0.6}, "MIXED"),
        ({"pos": 0.41, "neg": 0.2, "compound": 0.6}, "POSITIVE"),
        ({"pos": 0.19, "neg": 0.19, "compound": 0.0}, "NEUTRAL"),
    ],
)
def test_vader_thresholds(scores, expected):
    assert label(scores) == expected


def _sentiment(value: str) -> SentimentResult:
    return SentimentResult(sentiment=value, reason="r", model_id="local/vader-3.3.2", prompt_version="none")


ABUSIVE = "This garbage is for idiots. Give me my money back or I'll sue, you scammers."


@pytest.mark.parametrize("sentiment", ["POSITIVE", "NEGATIVE", "MIXED", "NEUTRAL"])
@pytest.mark.parametrize("review_id", [f"rev-{n}" for n in range(12)])
def test_template_replies_name_people_and_product_and_promise_nothing(sentiment, review_id):
    review = _review(ABUSIVE, review_id=review_id, product_name="Aurora Kettle", reviewer_name="Sam  Lee")
    reply = TemplateResponder().write(review, _sentiment(sentiment))
    assert reply.response_text.startswith("Hi Sam Lee, ")
    assert "Aurora Kettle" in reply.response_text
    assert not FORBIDDEN.search(reply.response_text)
    for word in ("garbage", "idiots", "scammers", "sue"):
        assert word not in reply.response_text.lower().split()
    assert reply.model_id == "local/template-responder"
    assert reply.prompt_version == "template/v2"
    assert reply.usage.input_tokens == reply.usage.output_tokens == 0


def test_every_phrasing_is_free_of_promises():
    for phrasings in PHRASINGS.values():
        for phrasing in phrasings:
            assert not FORBIDDEN.search(phrasing)


def test_template_without_names_uses_neutral_words():
    reply = TemplateResponder().write(_review("fine"), _sentiment("NEUTRAL"))
    assert reply.response_text.startswith("Hello, ")
    assert "this product" in reply.response_text


def test_template_is_deterministic_and_varies_with_the_review_id():
    responder = TemplateResponder()
    first = [responder.write(_review("ok", review_id=f"r{n}"), _sentiment("NEGATIVE")) for n in range(30)]
    again = [
        TemplateResponder().write(_review("ok", review_id=f"r{n}"), _sentiment("NEGATIVE")) for n in range(30)
    ]
    assert first == again
    assert {r.response_text for r in first} == {
        p.replace("$greeting", "Hello,").replace("$product", "this product") for p in PHRASINGS["NEGATIVE"]
    }
