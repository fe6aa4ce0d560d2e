"""The committed golden set: it parses, it covers what the suite must measure (asserted from the
data, not from a count someone typed), its tags mean what the vocabulary says, its routes follow
the pipeline's contract, and every reference reply passes the reply policy and its own rules."""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest

from reviewflow.domain.evaluation.dataset import TAGS, dataset_summary, load_dataset
from reviewflow.domain.reply_policy import ReplyContext, load_policy, visible_text
from reviewflow.models.evaluation import GoldenCase

ROOT = Path(__file__).resolve().parents[3]
GOLDEN = ROOT / "evals" / "golden"
V1 = load_dataset(GOLDEN / "v1.jsonl")
WITH_REPLY = [case for case in V1 if case.reference_reply is not None]
POLICY = load_policy("v1")

# Words that show a reply apologises or thanks, and common words that show its language.
APOLOGY = {
    "en": ("sorry", "apologis", "apologiz"),
    "de": ("leid", "entschuldig", "bedauer"),
    "fr": ("désolé", "excus", "regrett"),
    "es": ("sentimos", "lamentamos", "disculp", "siento"),
    "it": ("dispiace", "scus"),
    "nl": ("spijt", "excuses"),
    "pt": ("lamentamos", "desculp"),
    "pl": ("przeprasz", "przykro"),
    "ja": ("申し訳", "お詫び"),
}
THANKS = {
    "en": ("thank",),
    "de": ("dank",),
    "fr": ("merci", "remerci"),
    "es": ("gracias", "agradec"),
    "it": ("grazie", "ringrazi"),
    "nl": ("bedankt", "dank"),
    "pt": ("obrigad", "agradec"),
    "pl": ("dziękuj",),
    "ja": ("ありがとう",),
}
COMMON_WORDS = {
    "en": {"the", "you", "your", "we", "and", "to", "for", "our", "is", "with"},
    "de": {"und", "der", "die", "das", "sie", "ihr", "ihre", "ihnen", "wir", "uns", "für", "dass", "mit"},
    "fr": {"et", "vous", "votre", "nous", "notre", "pour", "les", "des", "sur", "une", "est", "avec"},
    "es": {"y", "el", "su", "usted", "nuestro", "nuestra", "para", "con", "los", "le", "muy", "una", "nos"},
    "it": {"il", "che", "per", "siamo", "sua", "nostro", "lei", "di", "è", "molto"},
    "nl": {"de", "het", "een", "uw", "we", "ons", "onze", "voor", "dat", "u", "naar"},
    "pt": {"o", "sua", "nossa", "nosso", "pela", "do", "da", "uma", "por", "muito"},
    "pl": {"i", "że", "za", "o", "z", "naszym", "który", "prosimy"},
}


def byte_size(case: GoldenCase) -> int:
    return len(case.review.review_text.encode("utf-8"))


def tagged(tag: str) -> list[GoldenCase]:
    return [case for case in V1 if tag in case.tags]


def has_any(text: str, markers: tuple[str, ...]) -> bool:
    folded = text.casefold()
    return any(marker.casefold() in folded for marker in markers)


def written_in(text: str, language: str) -> bool:
    """Rough, but enough to catch a reply in the wrong language: the language's common words are
    there, and more of them than of any other language's."""
    if language == "ja":
        return any(unicodedata.name(ch, "").startswith(("HIRAGANA", "KATAKANA")) for ch in text)
    words = Counter(re.findall(r"\w+", text.casefold()))
    counts = {code: sum(words[word] for word in common) for code, common in COMMON_WORDS.items()}
    return counts[language] >= 3 and all(
        counts[language] > n for code, n in counts.items() if code != language
    )


# ---- the files ----------------------------------------------------------------------------------


@pytest.mark.parametrize("path", sorted(GOLDEN.glob("*.jsonl")), ids=lambda path: path.name)
def test_every_committed_version_parses(path: Path) -> None:
    assert load_dataset(path)


def test_v1_holds_at_least_120_cases_no_two_alike() -> None:
    assert len(V1) >= 120
    texts = [" ".join(case.review.review_text.casefold().split()) for case in V1]
    assert len(set(texts)) == len(texts)
    replies = [case.reference_reply for case in WITH_REPLY]
    assert len(set(replies)) == len(replies)


# ---- coverage -----------------------------------------------------------------------------------


def test_every_star_rating_many_times() -> None:
    ratings = dataset_summary(V1)["ratings"]
    assert all(ratings[str(stars)] >= 15 for stars in range(1, 6)), ratings
    assert ratings["none"] >= 3


def test_every_sentiment_and_every_route_many_times() -> None:
    summary = dataset_summary(V1)
    assert all(count >= 10 for label, count in summary["sentiments"].items() if label != "none")
    assert all(count >= 10 for count in summary["routes"].values()), summary["routes"]


def test_long_multi_segment_reviews() -> None:
    sizes = [byte_size(case) for case in V1]
    assert sum(size > 1100 for size in sizes) >= 5
    assert sum(size > 3000 for size in sizes) >= 2


def test_at_least_four_languages_with_german_french_and_spanish_several_times() -> None:
    languages = dataset_summary(V1)["languages"]
    assert len(languages) >= 4
    assert all(languages.get(code, 0) >= 5 for code in ("de", "fr", "es")), languages


MINIMUM_PER_TAG = {
    "sarcasm": 5,
    "contradiction": 5,
    "long": 5,
    "very_long": 2,
    "injection": 6,
    "promise_bait": 8,
    "polite_threat": 3,
    "doxxing": 3,
    "threat": 3,
    "abuse": 2,
    "rude": 6,
    "question": 8,
    "short": 10,
    "non_english": 20,
    "safety": 3,
    "personal_data": 2,
}


@pytest.mark.parametrize(("tag", "minimum"), MINIMUM_PER_TAG.items())
def test_each_hard_kind_of_review_is_covered(tag: str, minimum: int) -> None:
    assert len(tagged(tag)) >= minimum


# ---- tags mean what the vocabulary says ------------------------------------------------------------


def test_every_tag_is_in_the_vocabulary_and_the_readme_documents_exactly_the_vocabulary() -> None:
    assert {tag for case in V1 for tag in case.tags} <= set(TAGS)
    readme = (ROOT / "evals" / "README.md").read_text(encoding="utf-8")
    documented = set(re.findall(r"^\| `([a-z_]+)` \|", readme, flags=re.MULTILINE)) & set(TAGS)
    assert documented == set(TAGS)


@pytest.mark.parametrize(
    ("tag", "holds"),
    [
        ("short", lambda case: len(case.review.review_text) <= 80),
        ("long", lambda case: byte_size(case) > 1100),
        ("very_long", lambda case: byte_size(case) > 3000),
        ("non_english", lambda case: case.review.language != "en"),
        ("no_rating", lambda case: case.review.rating is None),
        ("no_product_name", lambda case: case.review.product_name is None),
    ],
)
def test_measurable_tags_match_the_data(tag: str, holds: Callable[[GoldenCase], bool]) -> None:
    mismatched = [case.case_id for case in V1 if (tag in case.tags) != bool(holds(case))]
    assert not mismatched


def test_contradictions_have_words_that_disagree_with_the_stars() -> None:
    for case in tagged("contradiction"):
        stars, sentiment = case.review.rating or 3, case.expected_sentiment
        if sentiment is not None:
            praised_low = stars <= 2 and sentiment == "POSITIVE"
            panned_high = stars >= 4 and sentiment == "NEGATIVE"
            assert praised_low or panned_high, case.case_id


# ---- routes follow the contract -------------------------------------------------------------------


def test_non_english_reviews_go_to_a_person_with_the_reply_language_set() -> None:
    for case in V1:
        if case.review.language != "en":
            assert case.expected_route == "person", case.case_id
            assert case.rules.language == case.review.language, case.case_id
        else:
            assert case.rules.language in (None, "en"), case.case_id


def test_abuse_and_threats_in_english_are_harmful_and_rudeness_goes_to_a_person() -> None:
    for case in V1:
        english = case.review.language == "en"
        if english and {"abuse", "threat", "doxxing"} & set(case.tags):
            assert case.expected_route == "harmful", case.case_id
        if "rude" in case.tags:
            assert case.expected_route == "person", case.case_id
        if "polite_threat" in case.tags:
            assert case.expected_route in ("person", "harmful"), case.case_id
        if case.expected_route == "harmful":
            assert english and case.expected_sentiment is None, case.case_id


def test_only_threatening_reviews_a_person_sees_lack_a_reference_reply() -> None:
    missing = [case for case in V1 if case.expected_route == "person" and case.reference_reply is None]
    assert all({"threat", "abuse", "doxxing"} & set(case.tags) for case in missing)


def test_bait_and_injection_cases_say_what_must_not_happen() -> None:
    assert all(case.rules.must_not_promise for case in V1)
    for case in tagged("promise_bait"):
        if case.expected_sentiment in ("NEGATIVE", "MIXED"):
            assert case.rules.must_apologise, case.case_id
    for case in tagged("injection"):
        assert case.rules.must_not_mention or "promise_bait" in case.tags, case.case_id


# ---- reference replies ----------------------------------------------------------------------------


@pytest.mark.parametrize("case", WITH_REPLY, ids=lambda case: case.case_id)
def test_reference_reply_passes_the_reply_policy(case: GoldenCase) -> None:
    assert case.reference_reply is not None
    flagged = case.expected_route != "auto"  # a review a person sees was not in the safe band
    context = ReplyContext(review_text=case.review.review_text, review_flagged=flagged)
    assert [violation.rule for violation in POLICY.check(case.reference_reply, context)] == []
    assert 20 <= len(visible_text(case.reference_reply)) <= 1500


@pytest.mark.parametrize("case", WITH_REPLY, ids=lambda case: case.case_id)
def test_reference_reply_keeps_the_case_rules(case: GoldenCase) -> None:
    reply, rules = case.reference_reply or "", case.rules
    language = rules.language or case.review.language
    assert written_in(reply, language)
    if rules.must_mention_product:
        assert case.review.product_name and case.review.product_name.casefold() in reply.casefold()
    if rules.must_apologise:
        assert has_any(reply, APOLOGY[language])
    if rules.must_thank:
        assert has_any(reply, THANKS[language])
    for group in rules.must_mention:
        assert has_any(reply, tuple(group)), group
    for phrase in rules.must_not_mention:
        assert phrase.casefold() not in reply.casefold(), phrase
    if rules.max_chars is not None:
        assert len(reply) <= rules.max_chars
