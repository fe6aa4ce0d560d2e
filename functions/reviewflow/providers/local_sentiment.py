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

Only the text is read; the star rating is ignored so the label says what the words say (the
LLM prompt does see the rating). Like every offline method, VADER reads sarcasm as praise.
"""

from __future__ import annotations

from typing import Any

from reviewflow.models.events import ReviewPosted, Sentiment
from reviewflow.models.steps import SentimentResult

MODEL_ID = "local/vader-3.3.2"
PROMPT_VERSION = "none"
POSITIVE_AT = 0.05
NEGATIVE_AT = -0.05
MIXED_MIN_SHARE = 0.2
MIXED_MIN_BALANCE = 0.5


def label(scores: dict[str, float]) -> Sentiment:
    """The sentiment for VADER's ``polarity_scores`` output."""
    pos, neg, compound = scores["pos"], scores["neg"], scores["compound"]
    smaller, larger = min(pos, neg), max(pos, neg)
    if smaller >= MIXED_MIN_SHARE and smaller >= MIXED_MIN_BALANCE * larger:
        return "MIXED"
    if compound >= POSITIVE_AT:
        return "POSITIVE"
    if compound <= NEGATIVE_AT:
        return "NEGATIVE"
    return "NEUTRAL"


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
        return SentimentResult(
            sentiment=label(scores),
            reason=(
                f"VADER lexicon scores: compound {scores['compound']:.3f}, positive {scores['pos']:.3f}, "
                f"negative {scores['neg']:.3f}, neutral {scores['neu']:.3f}"
            ),
            model_id=MODEL_ID,
            prompt_version=PROMPT_VERSION,
        )
