"""Offline toxicity for the local runtime: a shipped profanity model plus a small rule lexicon.

Two parts, reported as labels named like Comprehend's so outcome events look the same:

``PROFANITY`` — the ``alt-profanity-check`` scikit-learn model (bag of words, ~4 ms a text). Its
raw probability is high for mild words ("crap", "sucks", "hell") as much as for slurs, so each
sentence is scored twice: as written, and with the mild words of ``MILD_WORDS`` removed. The
second probability maps onto the full 0-1 scale; the first onto a capped scale that tops out
inside the uncertain band. A sentence that is rude only through mild words therefore lands
between 0.4 and 0.6 (a person looks at it), while real profanity stays above 0.6.

``VIOLENCE_OR_THREAT``, ``HARASSMENT_OR_ABUSE``, ``INSULT`` — regular expressions for what the
model misses because no swear word is involved: threats ("I know where you live"), wishes of
harm, dehumanising and name-calling aimed at people. Each pattern carries a fixed score; severe
patterns score above the default high threshold (0.6), mild ones (people called "useless",
"clueless", "clowns") inside the uncertain band. Patterns that need a speaker ("I will ...")
skip negated forms ("I will never hurt you").

The text is segmented like Comprehend's (1 KB segments) and each segment split into sentences,
because one slur in a long segment is diluted in a bag-of-words model. The text's score is the
maximum over labels, sentences and segments. English only: other languages come back unscorable
and go to a person, as with Comprehend.
"""

from __future__ import annotations

import re
import threading
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from itertools import pairwise

from reviewflow.domain.segmentation import split_segments, split_sentences
from reviewflow.domain.toxicity import SegmentMaxima, unsupported_language
from reviewflow.models.events import ToxicityScore

SUPPORTED_LANGUAGES: frozenset[str] = frozenset({"en"})

PROFANITY = "PROFANITY"
VIOLENCE_OR_THREAT = "VIOLENCE_OR_THREAT"
HARASSMENT_OR_ABUSE = "HARASSMENT_OR_ABUSE"
INSULT = "INSULT"
LABELS = (HARASSMENT_OR_ABUSE, INSULT, PROFANITY, VIOLENCE_OR_THREAT)

# Mild rudeness: words the profanity model weighs like real profanity, but which on their own
# make a review rude rather than abusive.
MILD_WORDS = frozenset(
    """
    crap craps crappy crapped damn damned dammit darn hell heck stupid dumb suck sucks sucked sucky
    junk junky garbage trash trashy rubbish lousy freaking frigging friggin bloody
    """.split()
)
_MILD_WORD = re.compile(r"\b(?:" + "|".join(sorted(MILD_WORDS)) + r")\b", re.IGNORECASE)

# Probability -> score curves (piecewise linear through these knots).
_STRONG_CURVE = ((0.0, 0.0), (0.5, 0.35), (0.8, 0.65), (1.0, 1.0))
_MILD_CURVE = ((0.0, 0.0), (0.5, 0.35), (1.0, 0.55))

# Who a threat is aimed at: people only. Possessives ("your") are left out on purpose: a reply
# saying "we'll beat your price" is not a threat; threats to property have their own pattern.
_TARGET = (
    r"(?:you|u|ya|you guys|you people|him|her|them|the seller|this seller|that seller"
    r"|the owner|the staff|the manager|everyone)"
)
_HARM = (
    r"(?:kill|hurt|murder|shoot|stab|beat up|beat|punch|strangle|choke|burn|hunt down|come for|come after)"
)
# "I will", "we'll", "I'm going to", "I am gonna", ... followed by up to two non-negated words.
_SPEAKER_INTENT = (
    r"\b(?:i|we)(?:'ll| will| shall|'m going to| am going to|'m gonna| am gonna| gonna| want to| wanna)"
    r" (?:(?!never\b|not\b|n't\b)[a-z]+ ){0,2}?"
)
_INSULT_SUBJECT = (
    r"\b(?:you|you're|you are|u r|ur|(?:the |this |that )?(?:seller|owner|manager|staff|support team"
    r"|customer service|company|people)(?: here)?(?: is| are|'s)|(?:he|she|they)(?: is| are|'s|'re)"
    r"|these people are|those people are)"
)
_QUALIFIERS = r"(?: (?:such|a|an|total|complete|absolute|utter|bunch of|just|real|bloody|so|truly|really))*"

_PATTERNS: tuple[tuple[str, float, str], ...] = (
    # --- threats
    (VIOLENCE_OR_THREAT, 0.92, r"\bi know where you (?:live|work|sleep)\b"),
    (VIOLENCE_OR_THREAT, 0.9, _SPEAKER_INTENT + _HARM + r" " + _TARGET + r"\b"),
    (
        VIOLENCE_OR_THREAT,
        0.9,
        _SPEAKER_INTENT + r"find (?:you|u|ya)(?=\s*(?:$|[.!,;]|and\b|wherever\b|anywhere\b))",
    ),
    (VIOLENCE_OR_THREAT, 0.85, r"\b(?:better )?watch your back\b"),
    (VIOLENCE_OR_THREAT, 0.85, r"\b(?:i'm|i am|we're|we are) coming (?:for|after) you\b"),
    (
        VIOLENCE_OR_THREAT,
        0.85,
        r"\b(?:burn|torch|blow up|smash up) (?:down )?(?:your|the seller's|their|his|her) "
        r"(?:house|home|store|shop|warehouse|office|car|place|business)\b",
    ),
    (
        VIOLENCE_OR_THREAT,
        0.85,
        r"\b(?:deserves?|should|ought) (?:to )?(?:die|be (?:beaten|shot|stabbed|hurt|killed|hanged|hung"
        r"|burned|punched|strangled))\b",
    ),
    # --- harassment and abuse
    (HARASSMENT_OR_ABUSE, 0.95, r"\b(?:kill|hang|hurt) (?:yourself|yourselves|urself)\b|\bkys\b"),
    (HARASSMENT_OR_ABUSE, 0.9, r"\bgo (?:and )?die\b|\bdrop dead\b"),
    (
        HARASSMENT_OR_ABUSE,
        0.85,
        r"\bi hope (?:you|u|he|she|they|the seller|the owner|your \w+)"
        r" (?:\w+ )?(?:die|dies|suffer|suffers|rot|rots|burn|burns|get hurt|gets hurt|get cancer)\b",
    ),
    (
        HARASSMENT_OR_ABUSE,
        0.85,
        r"\b(?:you|you people|they|these people|those people|the staff|the seller|the owner)"
        r"(?: are| is|'re)(?: \w+){0,2} (?:subhuman|vermin|animals|parasites|cockroaches|rats|scum)\b",
    ),
    (HARASSMENT_OR_ABUSE, 0.8, r"\b(?:a )?waste of (?:space|oxygen|air|skin)\b"),
    (HARASSMENT_OR_ABUSE, 0.8, r"\bnobody (?:wants|likes|loves|cares about|would miss) (?:you|u)\b"),
    (HARASSMENT_OR_ABUSE, 0.75, r"\bworthless (?:human|person|people|loser|piece of)\b"),
    (HARASSMENT_OR_ABUSE, 0.45, r"\bshut up\b"),
    # --- insults aimed at people
    (
        INSULT,
        0.75,
        _INSULT_SUBJECT + _QUALIFIERS + r" (?:idiots?|morons?|imbeciles?|cretins?|halfwits?|dimwits?"
        r"|degenerates?|lowlifes?|scumbags?|dumbasses?)\b",
    ),
    (
        INSULT,
        0.5,
        _INSULT_SUBJECT + _QUALIFIERS + r" (?:clowns?|fools?|amateurs?|jokers?|losers?|crooks?|liars?"
        r"|thieves|thief|scammers?|frauds?|con artists?|a joke|a disgrace|a bunch of \w+)\b",
    ),
    (
        INSULT,
        0.48,
        _INSULT_SUBJECT + r"(?: \w+)? (?:useless|incompetent|clueless|rude|lazy|hopeless|pathetic"
        r"|shameless|brainless|spineless)\b",
    ),
)
_COMPILED = tuple((label, score, re.compile(pattern, re.IGNORECASE)) for label, score, pattern in _PATTERNS)
_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u02bc": "'"})


def _interp(value: float, knots: Sequence[tuple[float, float]]) -> float:
    for (x0, y0), (x1, y1) in pairwise(knots):
        if value <= x1:
            return y0 + (y1 - y0) * (max(value, x0) - x0) / (x1 - x0)
    return knots[-1][1]


def lexicon_scores(sentence: str) -> dict[str, float]:
    """The highest score of each rule label whose patterns match the sentence."""
    normalized = " ".join(sentence.translate(_APOSTROPHES).split())
    scores: dict[str, float] = {}
    for label, score, pattern in _COMPILED:
        if score > scores.get(label, 0.0) and pattern.search(normalized):
            scores[label] = score
    return scores


def profanity_score(probability_as_written: float, probability_without_mild_words: float) -> float:
    """Calibrated PROFANITY score of one sentence from the model's two probabilities."""
    return max(
        _interp(probability_without_mild_words, _STRONG_CURVE),
        _interp(probability_as_written, _MILD_CURVE),
    )


def strip_mild_words(sentence: str) -> str:
    return " ".join(_MILD_WORD.sub(" ", sentence).split())


@dataclass(frozen=True)
class _Sentence:
    segment: int
    text: str


class LocalToxicity:
    """``ToxicityProvider`` that runs offline; the profanity model loads on first use."""

    name = "local"

    def __init__(self, predict_prob: Callable[[list[str]], Sequence[float]] | None = None) -> None:
        self._predict_prob = predict_prob
        self._lock = threading.Lock()

    def _model(self) -> Callable[[list[str]], Sequence[float]]:
        with self._lock:
            if self._predict_prob is None:
                with warnings.catch_warnings():
                    # The pickled model was saved by an older scikit-learn; it loads and predicts
                    # correctly with the pinned version, but warns about the version difference.
                    warnings.simplefilter("ignore", UserWarning)
                    from profanity_check import predict_prob

                self._predict_prob = predict_prob
            return self._predict_prob

    def score(self, text: str, language: str) -> ToxicityScore:
        if language not in SUPPORTED_LANGUAGES:
            return unsupported_language(self.name, language, "local")
        segments = split_segments(text)
        sentences = [
            _Sentence(index, sentence)
            for index, segment in enumerate(segments)
            for sentence in split_sentences(segment)
        ]
        probabilities: Sequence[float] = []
        calls = 0
        if sentences:
            written = [s.text for s in sentences]
            predict = self._model()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", UserWarning)
                probabilities = [float(p) for p in predict(written + [strip_mild_words(t) for t in written])]
            calls = 1

        per_segment: list[dict[str, float]] = [dict.fromkeys(LABELS, 0.0) for _ in segments]
        count = len(sentences)
        for position, sentence in enumerate(sentences):
            labels = lexicon_scores(sentence.text)
            labels[PROFANITY] = profanity_score(probabilities[position], probabilities[count + position])
            target = per_segment[sentence.segment]
            for label, value in labels.items():
                target[label] = max(target[label], value)

        maxima = SegmentMaxima()
        for labels in per_segment:
            rounded = {label: round(value, 4) for label, value in labels.items()}
            maxima.add(max(rounded.values()), rounded)
        return maxima.result(self.name, calls)
