"""The star rating against the words: the offline sentiment label and the template replies.

The corpus below was written by hand to contradict its stars (sarcasm at 1-2 stars, praise in
words VADER counts as complaints at 4-5 stars, and complaints under 5 stars as a mis-tapped rating
would give) before VADER was run on it. Of the 38 reviews written, VADER reads 31 against their
stars: those are ``CONTRADICTIONS`` and must come out MIXED. The other 7 are in ``KEPT`` with the
label they get, next to reviews whose words and stars agree.
"""

from __future__ import annotations

import hashlib
import re

import pytest

from reviewflow.models.events import ReviewPosted
from reviewflow.models.steps import SentimentResult
from reviewflow.providers.local_sentiment import VaderSentiment, label, rated_label
from reviewflow.providers.template_responder import PHRASINGS, PROMPT_VERSION, TemplateResponder, tone

LABELS = ("POSITIVE", "NEGATIVE", "NEUTRAL", "MIXED")

# What a 1-2 star review must never be told.
HAPPY = re.compile(
    r"glad|great to hear|delighted|happy with|happy that|enjoy|working well|worked well|kind review|"
    r"pleased|love",
    re.IGNORECASE,
)
PROMISE = re.compile(
    r"refund|money back|compensat|replac|voucher|discount|free of charge|reimburs|liab|our fault",
    re.IGNORECASE,
)
CONTACT = re.compile(r"https?:|www\.|\.com\b|@|\d{3,}|\+\d", re.IGNORECASE)

CONTRADICTIONS: list[tuple[str, int]] = [
    # 1-2 stars, words VADER reads as POSITIVE
    ("Oh great, it broke on the second day. Just fantastic.", 1),
    ("Wow, what a wonderful product, it stopped working after a week. Thanks a lot.", 1),
    ("Perfect if you enjoy cold coffee: the heater died in a week.", 1),
    ("Great design and a lovely colour, shame about the battery.", 2),
    ("Amazing how fast this fell apart. Brilliant engineering.", 1),
    ("I really wanted to love this blender. The motor is strong and it looks nice.", 2),
    ("Best paperweight I have ever bought. Highly recommend if you like disappointment.", 1),
    ("Nice packaging, nice manual, nice colour.", 2),
    ("Five stars for the box it came in. Beautiful box.", 1),
    ("Fantastic customer service, they were very friendly every one of the six times I called.", 2),
    ("Sure, it is pretty. Pretty useless, but pretty.", 1),
    ("Good luck getting it to pair. Great fun.", 2),
    ("Love it! Said no one ever who owned this toaster.", 1),
    ("The colour is lovely and the fabric feels soft.", 2),
    ("Excellent, another charger that melts. Thanks for nothing.", 1),
    ("Super comfortable for the ten minutes before the seam split. Lovely.", 2),
    ("Great, just great. The handle snapped off while pouring.", 1),
    ("Beautiful screen, beautiful design, beautiful waste of money.", 2),
    ("What a joy to spend an hour on hold with support. Truly delightful.", 1),
    # 4-5 stars, words VADER reads as NEGATIVE
    ("No complaints at all, never had a single problem with it.", 5),
    ("Sick board, crazy fast, the wheels are wicked.", 5),
    ("My old kettle was awful and broke twice; this one has not failed once.", 5),
    ("Terrible instructions, missing screws, took hours to assemble.", 5),
    ("Scary good sound for the price. Dangerously addictive.", 5),
    ("I hate that I waited so long to buy this.", 5),
    ("The battery died after two hours and the strap broke.", 5),
    ("Killer battery life and the camera is ridiculously sharp.", 4),
    ("Brutally honest review: the noise is gone, the flights are bearable, I cry less.", 4),
    ("Insane battery, stupid cheap, absurdly light.", 5),
    ("The fear of losing my keys is dead thanks to this tracker.", 4),
    ("It destroys frozen fruit in seconds, this blender is a beast.", 5),
]

KEPT: list[tuple[str, int | None, str]] = [
    # Written as contradictions, but VADER already reads the words with the stars or as MIXED.
    ("I was worried it would be terrible, but it is not bad at all.", 5, "POSITIVE"),
    ("Don't hesitate, you won't regret it, no issues so far.", 4, "POSITIVE"),
    ("Never disappointed, zero defects after a year of hard use.", 4, "POSITIVE"),
    ("This thing is insanely loud in the best way, a killer speaker.", 4, "MIXED"),
    ("Hard to fault. Nothing wrong with it whatsoever.", 4, "MIXED"),
    ("Ridiculously good value, I am mad I did not buy two.", 5, "MIXED"),
    # The one miss: a human reads mild complaints under 4 stars, VADER no feeling at all.
    ("Cheap plastic feel and the lid is stiff, but it does the job.", 4, "NEUTRAL"),
    # Words and stars agree.
    ("Boils fast, pours cleanly and looks lovely on the counter.", 5, "POSITIVE"),
    ("Comfortable and the battery lasts all week. Very happy.", 4, "POSITIVE"),
    ("The lid cracked after two weeks and the motor smells burnt. Awful.", 1, "NEGATIVE"),
    ("Terrible fit and the zipper broke on the first day.", 2, "NEGATIVE"),
    ("It arrived on Tuesday.", 1, "NEUTRAL"),
    ("Love the colour, hate the fit.", 2, "MIXED"),
    # Three stars or no rating: VADER's label whatever the words say.
    ("Oh great, it broke on the second day. Just fantastic.", 3, "POSITIVE"),
    ("Oh great, it broke on the second day. Just fantastic.", None, "POSITIVE"),
    ("The battery died after two hours and the strap broke.", 3, "NEGATIVE"),
    ("The battery died after two hours and the strap broke.", None, "NEGATIVE"),
]


def _review(text: str, rating: int | None, review_id: str = "rev-rating") -> ReviewPosted:
    return ReviewPosted(
        review_id=review_id,
        product_id="sku-1",
        review_text=text,
        rating=rating,
        product_name="Aurora Kettle",
        reviewer_name="Sam",
    )


def _sentiment(value: str) -> SentimentResult:
    return SentimentResult(sentiment=value, reason="r", model_id="m", prompt_version="p")


def _shared_phrases(text: str, reply: str) -> set[str]:
    """Runs of three words the reply repeats from the review (a quote, however short)."""

    def triples(value: str) -> set[str]:
        words = re.findall(r"[a-z']+", value.lower())
        return {" ".join(words[i : i + 3]) for i in range(len(words) - 2)}

    return triples(text) & triples(reply)


def _assert_fits_the_stars(reply_text: str, rating: int | None) -> None:
    assert not PROMISE.search(reply_text)
    assert not CONTACT.search(reply_text)
    if rating is not None and rating <= 2:
        assert not HAPPY.search(reply_text), reply_text
        assert "customer support" in reply_text


def test_the_corpus_is_big_enough_and_really_contradicts_in_vader_s_reading():
    assert len(CONTRADICTIONS) >= 20
    assert len(CONTRADICTIONS) + 7 == 38  # the 7 written ones that VADER does not read against the stars
    analyzer = VaderSentiment()
    for text, rating in CONTRADICTIONS:
        words = label(analyzer._scores(text))
        assert words == ("POSITIVE" if rating <= 2 else "NEGATIVE"), text


@pytest.mark.parametrize(("text", "rating"), CONTRADICTIONS)
def test_words_against_the_stars_are_mixed_and_the_reply_fits_the_stars(text, rating):
    review = _review(text, rating, review_id=f"rev-{hashlib.sha256(text.encode()).hexdigest()[:8]}")
    result = VaderSentiment().detect(review)
    side = "positive" if rating <= 2 else "negative"
    assert result.sentiment == "MIXED"
    assert result.reason.startswith("VADER lexicon scores: compound ")
    assert f"the {rating}-star rating and the {side} words disagree" in result.reason
    reply = TemplateResponder().write(review, result).response_text
    _assert_fits_the_stars(reply, rating)
    if rating >= 4:
        assert "sorry" not in reply.lower()
        assert reply.lower().startswith("hi sam, thank")
    assert not _shared_phrases(text, reply)


@pytest.mark.parametrize(("text", "rating", "expected"), KEPT)
def test_agreeing_or_neutral_stars_keep_vader_s_label(text, rating, expected):
    review = _review(text, rating)
    result = VaderSentiment().detect(review)
    assert result.sentiment == expected
    assert "disagree" not in result.reason
    _assert_fits_the_stars(TemplateResponder().write(review, result).response_text, rating)


@pytest.mark.parametrize("rating", [1, 2, 3, 4, 5, None])
@pytest.mark.parametrize("words", LABELS)
def test_rated_label_changes_only_the_two_contradictions(words, rating):
    contradiction = (rating in (1, 2) and words == "POSITIVE") or (rating in (4, 5) and words == "NEGATIVE")
    assert rated_label(words, rating) == ("MIXED" if contradiction else words)


@pytest.mark.parametrize(
    ("sentiment", "rating", "expected"),
    [
        ("POSITIVE", 1, "LOW_RATING"),
        ("MIXED", 2, "LOW_RATING"),
        ("NEUTRAL", 1, "LOW_RATING"),
        ("NEGATIVE", 2, "NEGATIVE"),
        ("NEGATIVE", 5, "HIGH_RATING_CONCERN"),
        ("MIXED", 4, "HIGH_RATING_CONCERN"),
        ("POSITIVE", 5, "POSITIVE"),
        ("NEUTRAL", 4, "NEUTRAL"),
        ("POSITIVE", 3, "POSITIVE"),
        ("NEGATIVE", 3, "NEGATIVE"),
        ("MIXED", None, "MIXED"),
        ("NEGATIVE", None, "NEGATIVE"),
    ],
)
def test_tone_reads_the_label_and_the_rating(sentiment, rating, expected):
    assert tone(sentiment, rating) == expected


@pytest.mark.parametrize("rating", [1, 2])
@pytest.mark.parametrize("sentiment", LABELS)
@pytest.mark.parametrize("review_id", [f"rev-low-{n}" for n in range(8)])
def test_a_low_rating_is_never_told_we_are_happy_whatever_the_label(sentiment, rating, review_id):
    """An LLM label can say POSITIVE for a 1-star review too; the reply still fits the stars."""
    review = _review("UNIQUE-REVIEW-MARKER", rating, review_id=review_id)
    reply = TemplateResponder().write(review, _sentiment(sentiment))
    _assert_fits_the_stars(reply.response_text, rating)
    assert "UNIQUE-REVIEW-MARKER" not in reply.response_text
    assert (reply.model_id, reply.prompt_version) == ("local/template-responder", "template/v2")


@pytest.mark.parametrize("rating", [4, 5])
@pytest.mark.parametrize("sentiment", ["NEGATIVE", "MIXED"])
@pytest.mark.parametrize("review_id", [f"rev-high-{n}" for n in range(8)])
def test_a_high_rating_with_complaints_is_thanked_and_offered_help(sentiment, rating, review_id):
    reply = TemplateResponder().write(_review("meh", rating, review_id=review_id), _sentiment(sentiment))
    text = reply.response_text
    assert text.startswith("Hi Sam, thank")
    assert "Aurora Kettle" in text and "customer support" in text
    assert "sorry" not in text.lower()
    assert "$" not in text
    assert not PROMISE.search(text) and not CONTACT.search(text.replace(f"{rating}-star", ""))


def test_every_new_phrasing_is_free_of_happy_words_promises_and_contact_details():
    for phrasing in PHRASINGS["LOW_RATING"] + PHRASINGS["NEGATIVE"]:
        assert not HAPPY.search(phrasing), phrasing
    for phrasings in PHRASINGS.values():
        for phrasing in phrasings:
            assert not PROMISE.search(phrasing) and not CONTACT.search(phrasing), phrasing


def test_replies_stay_deterministic_per_review_id_within_a_tone():
    ids = [f"r{n}" for n in range(30)]
    first = [TemplateResponder().write(_review("x", 1, i), _sentiment("POSITIVE")).response_text for i in ids]
    again = [TemplateResponder().write(_review("x", 1, i), _sentiment("POSITIVE")).response_text for i in ids]
    assert first == again
    expected = {
        p.replace("$greeting", "Hi Sam,").replace("$product", "Aurora Kettle")
        for p in PHRASINGS["LOW_RATING"]
    }
    assert set(first) == expected
    assert PROMPT_VERSION == "template/v2"
