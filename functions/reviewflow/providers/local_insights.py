"""Offline product insights: an aspect lexicon and the sentiment of the sentence that names it.

Deterministic and labelled ``extractor = LOCAL_EXTRACTOR_ID`` (``prompt_version`` None), so a
stored item says it came from the lexicon, not a model. The review is split into sentences; each
lexicon aspect whose cue words occur in a sentence becomes one insight, at its first mention,
with that sentence (trimmed to the field limit) as verbatim evidence. Polarity is the local
sentiment provider's label of the sentence alone (VADER; MIXED and NEUTRAL read as neutral).
Severity: praise and neutral remarks are 1; a complaint is 2, 3 when VADER is sure (|compound|
>= 0.5), 4 when the sentence says the product stopped working, 5 when it names a safety hazard.
It finds only the aspects its lexicon lists, and like VADER it reads sarcasm as praise.
"""

from __future__ import annotations

import re

from reviewflow.domain.insights import ExtractedInsights
from reviewflow.models.events import ReviewPosted
from reviewflow.models.insights import LOCAL_EXTRACTOR_ID, MAX_INSIGHTS, Insight, Polarity
from reviewflow.providers.local_sentiment import VaderSentiment

#: aspect -> cue words (matched as whole words, case-insensitive), and the suggestion for a complaint.
ASPECTS: dict[str, tuple[tuple[str, ...], str]] = {
    "battery life": (
        ("battery", "batteries", "charge", "charging", "recharge"),
        "Improve battery life or state the real runtime on the listing.",
    ),
    "build quality": (
        ("broke", "broken", "flimsy", "sturdy", "cheaply", "solid", "cracked", "quality"),
        "Strengthen the build: customers report it breaking or feeling flimsy.",
    ),
    "size and fit": (
        ("size", "fit", "fits", "small", "large", "tight", "loose"),
        "Check the size chart against the product and describe the fit more precisely.",
    ),
    "delivery": (
        ("delivery", "delivered", "shipping", "shipped", "arrived", "late", "courier"),
        "Look into delivery times and the carrier's handling.",
    ),
    "packaging": (
        ("packaging", "package", "packed", "box", "wrapping"),
        "Protect the product better in its packaging.",
    ),
    "price": (
        ("price", "expensive", "cheap", "value", "cost", "overpriced"),
        "Review the price against what customers expect for it.",
    ),
    "customer support": (
        ("support", "service", "refund", "return", "helpdesk", "replacement"),
        "Make support easier to reach and faster to answer.",
    ),
    "instructions": (
        ("instructions", "manual", "setup", "assembly", "install", "installation"),
        "Rewrite the instructions so setup needs no guesswork.",
    ),
    "sound": (
        ("sound", "noise", "noisy", "loud", "audio", "speaker"),
        "Reduce the noise or improve the sound.",
    ),
    "screen": (("screen", "display", "brightness"), "Improve the screen's readability."),
    "comfort": (("comfortable", "uncomfortable", "comfort", "soft", "itchy"), "Improve comfort in use."),
    "colour and look": (
        ("colour", "color", "looks", "design", "style"),
        "Make the photos match the product's real colour and look.",
    ),
    "ease of use": (
        ("easy", "difficult", "intuitive", "confusing", "complicated"),
        "Simplify the everyday use of the product.",
    ),
    "smell": (("smell", "smells", "odour", "odor"), "Find and remove the source of the smell."),
}
_CUES = {
    aspect: re.compile(r"\b(?:" + "|".join(map(re.escape, cues)) + r")\b", re.IGNORECASE)
    for aspect, (cues, _) in ASPECTS.items()
}
_SENTENCE = re.compile(r"[^.!?\n]+[.!?]*")
_STOPPED_WORKING = re.compile(
    r"\b(?:broke|broken|stopped working|dead|died|useless|unusable|doesn'?t work|does not work)\b", re.I
)
_HAZARD = re.compile(
    r"\b(?:fire|caught fire|burn(?:t|ed|s)?|smoke|shock(?:ed)?|unsafe|dangerous|injur(?:y|ed)|sparks?)\b",
    re.I,
)
SURE_COMPLAINT = 0.5
MAX_EVIDENCE = 240
_POLARITY: dict[str, Polarity] = {"POSITIVE": "positive", "NEGATIVE": "negative"}


def _evidence(sentence: str) -> str:
    """The sentence itself, cut at a word boundary to the field limit (still a verbatim substring)."""
    if len(sentence) <= MAX_EVIDENCE:
        return sentence
    cut = sentence[:MAX_EVIDENCE]
    return cut[: cut.rfind(" ")] if " " in cut else cut


def _severity(polarity: Polarity, sentence: str, confident: bool) -> int:
    if polarity != "negative":
        return 1
    if _HAZARD.search(sentence):
        return 5
    if _STOPPED_WORKING.search(sentence):
        return 4
    return 3 if confident else 2


class LexiconInsights:
    """``InsightExtractor`` for the local runtime (no model, no network)."""

    extractor = LOCAL_EXTRACTOR_ID

    def __init__(self, sentiment: VaderSentiment | None = None) -> None:
        self._sentiment = sentiment or VaderSentiment()

    def _sentence_polarity(self, review: ReviewPosted, sentence: str) -> tuple[Polarity, bool]:
        # The rating speaks for the whole review, not for one sentence: it is left out.
        result = self._sentiment.detect(review.model_copy(update={"review_text": sentence, "rating": None}))
        polarity = _POLARITY.get(result.sentiment, "neutral")
        compound = re.search(r"compound (-?[0-9.]+)", result.reason)
        confident = compound is not None and abs(float(compound.group(1))) >= SURE_COMPLAINT
        return polarity, confident

    def extract(self, review: ReviewPosted) -> ExtractedInsights:
        insights: list[Insight] = []
        seen: set[str] = set()
        for match in _SENTENCE.finditer(review.review_text):
            sentence = match.group(0).strip()
            aspects = [a for a, cue in _CUES.items() if a not in seen and cue.search(sentence)]
            if not aspects:
                continue
            polarity, confident = self._sentence_polarity(review, sentence)
            for aspect in aspects:
                if len(insights) == MAX_INSIGHTS:
                    break
                seen.add(aspect)
                insights.append(
                    Insight(
                        aspect=aspect,
                        polarity=polarity,
                        severity=_severity(polarity, sentence, confident),
                        suggestion=ASPECTS[aspect][1] if polarity == "negative" else "",
                        evidence=_evidence(sentence),
                    )
                )
        return ExtractedInsights(
            insights=insights, dropped=0, extractor=LOCAL_EXTRACTOR_ID, prompt_version=None
        )
