"""Offline toxicity for the local runtime: a shipped profanity model plus a small rule lexicon.

Two parts, reported as labels named like Comprehend's so outcome events look the same:

``PROFANITY`` — the ``alt-profanity-check`` scikit-learn model (bag of words, ~4 ms a text). Its
raw probability is high for mild words ("crap", "sucks", "hell") as much as for slurs, so each
sentence is scored twice: as written, and with the mild words of ``MILD_WORDS`` removed. The
second probability maps onto the full 0-1 scale; the first onto a capped scale that tops out
inside the uncertain band. A sentence that is rude only through mild words therefore lands
between 0.4 and 0.6 (a person looks at it), while real profanity stays above 0.6.

``VIOLENCE_OR_THREAT``, ``HARASSMENT_OR_ABUSE``, ``INSULT`` — regular expressions for what the
model misses because no swear word is involved. Two families, each in its own module:

- aimed at the reader (``local_toxicity_rules``): threats ("I know where you live"), wishes of
  harm, dehumanising and name-calling;
- aimed at a third person (``local_toxicity_threats``, ``local_toxicity_doxxing``): staff,
  couriers, owners, anyone's family, reached as "your manager", "his wife", "he/she". Harm
  ("I'll hurt your driver"), surveillance ("I know which school your kids go to", "I'll be
  waiting outside your store"), veiled intimidation ("it would be a shame if something
  happened to...", "people like him tend to have accidents", "he will regret it"), harassment
  ("I'll make his life hell") and doxxing ("I found the home address of your CEO", "everyone
  will know where she lives").

Each pattern carries a fixed score: severe threats and clear intimidation score above the default
high threshold (0.6); mild insults and intimidation with an innocent reading inside the uncertain
band, so a person looks. Patterns that need a speaker ("I will ...") skip negated forms ("I will
never hurt you"), and third-party rules never target the writer's own people ("my kids") nor
harm that comes from the product ("got hurt by the sharp edge").

The text is segmented like Comprehend's (1 KB segments) and each segment split into sentences,
because one slur in a long segment is diluted in a bag-of-words model. The text's score is the
maximum over labels, sentences and segments.

Languages: English by default (``toxicity_provider: local``); other languages come back
unscorable and go to a person, as with Comprehend. ``LocalToxicity(languages=MULTILINGUAL)``
(``toxicity_provider: local-multilingual``) also scores German, French and Spanish, with word lists
only (``local_toxicity_lexicon``), and says so in each result's ``note``.
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
from reviewflow.providers import local_toxicity_lexicon
from reviewflow.providers.local_toxicity_doxxing import DOXXING_PATTERNS
from reviewflow.providers.local_toxicity_rules import (
    DIRECT_PATTERNS,
    HARASSMENT_OR_ABUSE,
    INSULT,
    VIOLENCE_OR_THREAT,
)
from reviewflow.providers.local_toxicity_threats import THREAT_PATTERNS

SUPPORTED_LANGUAGES: frozenset[str] = frozenset({"en"})
#: English with the model and rules, plus the word-list stand-in's languages.
MULTILINGUAL: frozenset[str] = SUPPORTED_LANGUAGES | local_toxicity_lexicon.LANGUAGES

PROFANITY = "PROFANITY"
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

_COMPILED = tuple(
    (label, score, re.compile(pattern, re.IGNORECASE))
    for label, score, pattern in DIRECT_PATTERNS + THREAT_PATTERNS + DOXXING_PATTERNS
)
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

    def __init__(
        self,
        predict_prob: Callable[[list[str]], Sequence[float]] | None = None,
        *,
        languages: frozenset[str] = SUPPORTED_LANGUAGES,
    ) -> None:
        unknown = languages - MULTILINGUAL
        if unknown:
            raise ValueError(f"the local toxicity provider cannot score {sorted(unknown)}")
        self._predict_prob = predict_prob
        self._lock = threading.Lock()
        self.supported_languages = languages

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
        if language not in self.supported_languages:
            return unsupported_language(self.name, language, "local")
        if language != "en":
            return self._score_with_word_lists(text, language)
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

    def _score_with_word_lists(self, text: str, language: str) -> ToxicityScore:
        maxima = SegmentMaxima()
        for segment in split_segments(text):
            labels = dict.fromkeys(local_toxicity_lexicon.LABELS, 0.0)
            for sentence in split_sentences(segment):
                for label, value in local_toxicity_lexicon.lexicon_scores(sentence, language).items():
                    labels[label] = max(labels[label], value)
            maxima.add(max(labels.values()), labels)
        result = maxima.result(self.name, calls=1 if maxima.segments else 0)
        if not result.scorable:
            return result
        return result.model_copy(
            update={"note": f"offline stand-in: {language!r} scored with word lists only, not a classifier"}
        )
