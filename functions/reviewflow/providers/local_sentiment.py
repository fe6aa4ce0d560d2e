"""Offline sentiment for the local runtime: the VADER lexicon (vaderSentiment 3.3.2, MIT).

VADER scores text with a shipped lexicon and rules, in about 0.1 ms, with nothing downloaded.
Labels from its scores:

* ``compound >= 0.05`` is POSITIVE, ``compound <= -0.05`` NEGATIVE, anything between NEUTRAL
  (the cut-offs VADER's authors recommend);
* MIXED overrides those when praise and complaint both carry real weight: the positive and the
  negative proportions of the text are each at least ``MIXED_MIN_SHARE`` (0.2) and the smaller is
  at least ``MIXED_MIN_BALANCE`` (half) of the larger. Measured on short reviews, "Love the
  colour, hate the fit." (pos 0.50, neg 0.28) is MIXED while "Terrible. It broke after two days
  and support never answered." (pos 0.15, neg 0.34) stays NEGATIVE.

The star rating is then read against the words (``rated_label``):

* the words and the stars disagree when VADER says POSITIVE for a 1-2 star review, or NEGATIVE
  for a 4-5 star review. The label is then MIXED, and the ``reason`` names the rating, the side
  the words took and that the two disagree. VADER reads words only, so the usual causes are
  sarcasm ("Oh great, it broke on the second day") and praise in words its lexicon counts as
  complaints ("No complaints at all", "Killer battery life"); but a reviewer who mistook the scale
  or mis-tapped the stars gives the same picture the other way round. Offline there is no telling
  which of the two signals is wrong, so the label says that they conflict instead of backing one
  of them: siding with the stars would publish a confident POSITIVE for a complaint under a
  mis-tapped 5, siding with the words a POSITIVE for sarcasm, and MIXED misleads in neither case.
* a 3-star rating, no rating, and every other combination leave VADER's label alone: three stars
  contradict nothing, NEUTRAL words carry no feeling to disagree with, and a MIXED text already
  says both things. The reason is then VADER's scores alone.

Like every offline method VADER reads sarcasm as praise; a low rating is what catches it.
"""

from __future__ import annotations

from typing import Any

from reviewflow.errors import ConfigurationError
from reviewflow.models.evaluation import Candidate
from reviewflow.models.events import ReviewPosted, Sentiment
from reviewflow.models.steps import SentimentResult

MODEL_ID = "local/vader-3.3.2"
PROMPT_VERSION = "none"
POSITIVE_AT = 0.05
NEGATIVE_AT = -0.05
MIXED_MIN_SHARE = 0.2
MIXED_MIN_BALANCE = 0.5
LOW_RATINGS = frozenset({1, 2})
HIGH_RATINGS = frozenset({4, 5})


def label(scores: dict[str, float]) -> Sentiment:
    """The sentiment for VADER's ``polarity_scores`` output (the words alone)."""
    pos, neg, compound = scores["pos"], scores["neg"], scores["compound"]
    smaller, larger = min(pos, neg), max(pos, neg)
    if smaller >= MIXED_MIN_SHARE and smaller >= MIXED_MIN_BALANCE * larger:
        return "MIXED"
    if compound >= POSITIVE_AT:
        return "POSITIVE"
    if compound <= NEGATIVE_AT:
        return "NEGATIVE"
    return "NEUTRAL"


def disagrees(words: Sentiment, rating: int | None) -> bool:
    """Whether the words' label goes against the star rating (see the module docstring)."""
    if rating in LOW_RATINGS:
        return words == "POSITIVE"
    if rating in HIGH_RATINGS:
        return words == "NEGATIVE"
    return False


def rated_label(words: Sentiment, rating: int | None) -> Sentiment:
    """The published label: MIXED when the words and the stars disagree, else the words' label."""
    return "MIXED" if disagrees(words, rating) else words


def _reason(scores: dict[str, float], words: Sentiment, rating: int | None) -> str:
    reason = (
        f"VADER lexicon scores: compound {scores['compound']:.3f}, positive {scores['pos']:.3f}, "
        f"negative {scores['neg']:.3f}, neutral {scores['neu']:.3f}"
    )
    if disagrees(words, rating):
        reason += f"; the {rating}-star rating and the {words.lower()} words disagree, so MIXED"
    return reason


class VaderSentiment:
    """``SentimentProvider`` (``name="local"``); the analyzer loads on first use."""

    name = "local"
    model_id = MODEL_ID

    def __init__(self) -> None:
        self._analyzer: Any = None

    def _scores(self, text: str) -> dict[str, float]:
        if self._analyzer is None:
            from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

            self._analyzer = SentimentIntensityAnalyzer()
        return dict(self._analyzer.polarity_scores(text))

    def detect(self, review: ReviewPosted) -> SentimentResult:
        scores = self._scores(review.review_text)
        words = label(scores)
        return SentimentResult(
            sentiment=rated_label(words, review.rating),
            reason=_reason(scores, words, review.rating),
            model_id=MODEL_ID,
            prompt_version=PROMPT_VERSION,
        )


def vader_for(candidate: Candidate) -> VaderSentiment:
    """The sentiment model of an offline evaluation candidate: VADER is the only one there is."""
    if candidate.sentiment_model_id not in (None, MODEL_ID):
        raise ConfigurationError(
            f"candidate {candidate.name}: offline, the only sentiment model is {MODEL_ID}"
        )
    return VaderSentiment()
