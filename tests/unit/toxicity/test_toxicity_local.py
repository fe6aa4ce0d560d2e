"""LocalToxicity calibration: real sentences pinned to the workflow's three bands.

Bands follow architecture.md §1 with the default thresholds: safe < 0.4, uncertain 0.4-0.6 (a person
decides), harmful > 0.6. The model is the shipped ``alt-profanity-check`` one; nothing is faked.
"""

from __future__ import annotations

import pytest

from reviewflow.providers.local_toxicity import (
    LABELS,
    LocalToxicity,
    lexicon_scores,
    profanity_score,
    strip_mild_words,
)

LOW, HIGH = 0.4, 0.6

FRIENDLY = [
    "Great product, works perfectly, thank you!",
    "Arrived quickly and the blender is quiet. Five stars.",
    "Customer service was helpful and replaced the broken part.",
    "Terrible quality, broke after two days. Very disappointed.",
    "This vacuum picks up dog hair like a champ, killer suction!",
    "Shipping took forever and the box was damaged.",
    "Don't buy it, you'll regret it. The zipper broke in a week.",
    # Replies the pipeline itself writes must stay safe too (RESPONSE stage).
    "Thank you for your review! We're sorry the kettle arrived late and we'll look into it.",
    "We will find you a replacement and get your order shipped today.",
    "I will never hurt my back lifting boxes again thanks to this dolly.",
]
BORDERLINE = [
    "this product is crap and the seller is useless",
    "What a stupid waste of money.",
    "This thing is garbage and the seller is clueless.",
    "The support staff are incompetent and rude.",
    "Total rip-off, these people are clowns.",
    "This sucks. Don't buy it.",
]
ABUSIVE = [
    "You are a fucking idiot, this is shit",
    "Go to hell you stupid bitch",
    "shit product from a shit company",
    "The seller is an idiot who can't pack a box.",
    # Threats and harassment without a single swear word: the lexicon's job.
    "I know where you live and I will find you.",
    "The seller deserves to be beaten for this.",
    "If my package is late again I will burn your warehouse down.",
    "Watch your back, I am coming for you.",
    "Nobody wants you here, you are a waste of space.",
    "I'm going to hunt down the owner and make him pay.",
]


@pytest.fixture(scope="module")
def local() -> LocalToxicity:
    return LocalToxicity()


@pytest.mark.parametrize("text", FRIENDLY)
def test_friendly_reviews_score_below_the_low_threshold(local: LocalToxicity, text: str) -> None:
    score = local.score(text, "en")

    assert score.scorable is True
    assert score.score is not None and score.score < LOW, score.labels


@pytest.mark.parametrize("text", BORDERLINE)
def test_mildly_rude_reviews_land_in_the_uncertain_band(local: LocalToxicity, text: str) -> None:
    score = local.score(text, "en")

    assert score.score is not None and LOW <= score.score <= HIGH, score.labels


@pytest.mark.parametrize("text", ABUSIVE)
def test_abusive_reviews_score_above_the_high_threshold(local: LocalToxicity, text: str) -> None:
    score = local.score(text, "en")

    assert score.score is not None and score.score > HIGH, score.labels


def test_threats_without_swear_words_are_labelled_like_comprehend(local: LocalToxicity) -> None:
    score = local.score("I know where you live and I will find you.", "en")

    assert score.labels["VIOLENCE_OR_THREAT"] > HIGH
    assert score.labels["PROFANITY"] < LOW  # the profanity model alone would have let it through
    assert score.score == max(score.labels.values())
    assert set(score.labels) == set(LABELS)


def test_one_abusive_sentence_in_a_long_friendly_review_is_found(local: LocalToxicity) -> None:
    friendly = "The blender arrived on time and works well for smoothies. The lid fits tightly. "
    text = friendly * 90 + "You are a moron and I know where you live. " + friendly * 90

    score = local.score(text, "en")

    assert len(text.encode()) > 10_000
    assert score.segments == 15
    assert score.score is not None and score.score > HIGH
    assert score.labels["VIOLENCE_OR_THREAT"] == pytest.approx(0.92)
    assert score.labels["INSULT"] == pytest.approx(0.75)


def test_other_languages_are_unscorable(local: LocalToxicity) -> None:
    score = local.score("Der Verkäufer ist ein Idiot.", "de")

    assert (score.scorable, score.score, score.provider) == (False, None, "local")
    assert score.note == "language 'de' is not supported by local toxicity detection"


def test_the_model_loads_lazily_and_is_called_once_per_text() -> None:
    seen: list[list[str]] = []

    def fake_predict(texts: list[str]) -> list[float]:
        seen.append(texts)
        return [0.9 if "crap" in t else 0.1 for t in texts]

    score = LocalToxicity(predict_prob=fake_predict).score("Nice lid. Total crap handle.", "en")

    # Each sentence as written, then each with its mild words removed, in one call.
    assert seen == [["Nice lid.", "Total crap handle.", "Nice lid.", "Total handle."]]
    assert score.calls == 1
    assert score.labels["PROFANITY"] == pytest.approx(profanity_score(0.9, 0.1))


def test_profanity_calibration_keeps_mild_only_rudeness_in_the_uncertain_band() -> None:
    assert profanity_score(0.99, 0.99) > HIGH  # profane even without the mild words
    assert LOW <= profanity_score(0.99, 0.05) <= 0.55  # only mild words made it profane
    assert profanity_score(0.3, 0.3) < LOW
    assert LOW <= profanity_score(0.65, 0.65) <= HIGH  # the model is unsure: a person decides
    assert profanity_score(0.8, 0.8) > HIGH  # the model is fairly sure: harmful
    assert profanity_score(1.0, 1.0) == 1.0
    assert strip_mild_words("What a stupid, crappy waste") == "What a , waste"


@pytest.mark.parametrize(
    ("sentence", "label", "expected"),
    [
        ("i KNOW where you live", "VIOLENCE_OR_THREAT", 0.92),
        ("I\u2019ll hurt you", "VIOLENCE_OR_THREAT", 0.9),  # curly apostrophe
        ("I will find you, wherever you hide", "VIOLENCE_OR_THREAT", 0.9),
        ("we are going to burn your store down", "VIOLENCE_OR_THREAT", 0.85),
        ("kill yourself", "HARASSMENT_OR_ABUSE", 0.95),
        ("I hope the seller dies", "HARASSMENT_OR_ABUSE", 0.85),
        ("you people are nothing but vermin", "HARASSMENT_OR_ABUSE", 0.85),
        ("the seller is a total moron", "INSULT", 0.75),
        ("customer service is completely useless", "INSULT", 0.48),
    ],
)
def test_lexicon_patterns(sentence: str, label: str, expected: float) -> None:
    assert lexicon_scores(sentence).get(label) == expected


@pytest.mark.parametrize(
    "sentence",
    [
        "I will never hurt you",
        "We'll find you a better size",
        "This sauce will burn your tongue",
        "The price will kill you",
        "It's to die for",
        "We will beat your price",
        "We'll find you in our system and call you back",
        "I'll find you the right size",
    ],
)
def test_lexicon_leaves_ordinary_phrasing_alone(sentence: str) -> None:
    assert lexicon_scores(sentence) == {}
