"""Languages: which provider scores which, the offline word-list stand-in, replies written in the
review's language, and a draft in another language going to a person."""

from __future__ import annotations

from typing import Any

import pytest

from reviewflow.domain.publish_gate import band_of, check_draft, check_for_publish
from reviewflow.domain.reply_policy import ReplyContext, load_policy
from reviewflow.models.events import ReviewPosted, ToxicityScore
from reviewflow.models.replies import Bands
from reviewflow.models.steps import ReplyCheckRequest, SentimentResult
from reviewflow.providers.comprehend import ComprehendToxicity
from reviewflow.providers.guardrails_toxicity import GuardrailsToxicity
from reviewflow.providers.local_toxicity import MULTILINGUAL, LocalToxicity
from reviewflow.providers.template_responder import LANGUAGES, PHRASINGS, TemplateResponder
from reviewflow.providers.template_responder_languages import WORDINGS

BANDS = Bands(low=0.4, high=0.6)
POLICY = load_policy()


def never_called(texts: list[str]) -> list[float]:
    raise AssertionError("the English profanity model must not score other languages")


STAND_IN = LocalToxicity(never_called, languages=MULTILINGUAL)


def test_each_provider_declares_the_languages_it_scores() -> None:
    assert ComprehendToxicity(object()).supported_languages == {"en"}
    assert LocalToxicity().supported_languages == {"en"}
    assert STAND_IN.supported_languages == {"en", "de", "fr", "es"}
    classic = GuardrailsToxicity(object(), guardrail_id="g", guardrail_version="1", tier="CLASSIC")
    assert classic.supported_languages == {"en", "fr", "es"}
    standard = GuardrailsToxicity(object(), guardrail_id="g", guardrail_version="1")
    assert {"de", "fr", "es", "it", "pt", "pl", "ja", "zh"} <= standard.supported_languages


def test_the_default_local_provider_leaves_other_languages_to_a_person() -> None:
    score = LocalToxicity(never_called).score("Der Wasserkocher ist großartig.", "de")
    assert score.scorable is False and band_of(score, BANDS) == "unscorable"


def test_the_stand_in_cannot_be_asked_for_a_language_it_has_no_word_list_for() -> None:
    with pytest.raises(ValueError, match="it"):
        LocalToxicity(languages=frozenset({"en", "it"}))
    assert STAND_IN.score("Il bollitore è ottimo.", "it").scorable is False


@pytest.mark.parametrize(
    ("language", "text", "band"),
    [
        ("de", "Der Wasserkocher ist großartig und kocht schnell. Sehr zufrieden!", "safe"),
        ("de", "Ich weiß, wo du wohnst.", "harmful"),
        ("de", "Ich bringe dich um, wenn das Paket wieder zu spät kommt.", "harmful"),
        ("de", "Der Verkäufer ist ein Arschloch.", "harmful"),
        ("de", "Totaler Schrott, nach zwei Tagen kaputt.", "uncertain"),
        ("fr", "La bouilloire est parfaite, je la recommande.", "safe"),
        ("fr", "Je vais te tuer si tu ne me rembourses pas.", "harmful"),
        ("fr", "Espèce de connards, rendez-moi mon argent.", "harmful"),
        ("fr", "Produit nul, très déçu.", "uncertain"),
        ("es", "La tetera funciona muy bien, estoy encantada.", "safe"),
        ("es", "Sé dónde vives.", "harmful"),
        ("es", "Eres un idiota y tu tienda es una mierda.", "harmful"),
        ("es", "Una chapuza de producto.", "uncertain"),
    ],
)
def test_the_word_list_stand_in_scores_german_french_and_spanish(language: str, text: str, band: str) -> None:
    score = STAND_IN.score(text, language)
    assert score.scorable is True and score.provider == "local"
    assert band_of(score, BANDS) == band
    assert "word lists only" in (score.note or "")  # honest about what it is, on every result


def test_the_stand_in_keeps_english_on_the_model_and_rules() -> None:
    seen: list[str] = []

    def predict(texts: list[str]) -> list[float]:
        seen.extend(texts)
        return [0.01] * len(texts)

    score = LocalToxicity(predict, languages=MULTILINGUAL).score("Lovely kettle.", "en")
    assert seen and score.note is None


# --------------------------------------------------------------------------- replies


def review(language: str, **fields: Any) -> ReviewPosted:
    return ReviewPosted.model_validate(
        {
            "review_id": f"r-{language}",
            "product_id": "p-1",
            "review_text": "...",
            "language": language,
            **fields,
        }
    )


def sentiment(label: str) -> SentimentResult:
    return SentimentResult.model_validate(
        {"sentiment": label, "reason": "test", "model_id": "m", "prompt_version": "sentiment/v1"}
    )


@pytest.mark.parametrize(
    ("language", "greeting", "marker"),
    [
        ("de", "Hallo Jonas,", "Kundenservice"),
        ("fr", "Bonjour Jonas,", "service client"),
        ("es", "Hola Jonas,", "atención al cliente"),
    ],
)
def test_the_template_responder_answers_in_the_review_s_language(
    language: str, greeting: str, marker: str
) -> None:
    written = TemplateResponder().write(
        review(language, reviewer_name="Jonas", product_name="Aurora Kettle", rating=1), sentiment("NEGATIVE")
    )
    assert written.language == language
    assert written.response_text.startswith(greeting)
    assert "Aurora Kettle" in written.response_text and marker in written.response_text
    assert not any(word in written.response_text for word in ("Thank", "thank", "sorry", "support team"))


def test_every_language_has_every_tone_and_unnamed_products_read_naturally() -> None:
    assert set(LANGUAGES) == {"en", "de", "fr", "es"}
    for language, wording in WORDINGS.items():
        assert set(wording.phrasings) == set(PHRASINGS), language
        written = TemplateResponder().write(review(language, rating=5), sentiment("MIXED"))
        assert "$" not in written.response_text
        assert wording.greeting in written.response_text
    german = TemplateResponder().write(review("de", review_id="r-x"), sentiment("NEGATIVE")).response_text
    assert "dieses Produkt" in german or "diesem Produkt" in german


def test_every_phrasing_in_every_language_passes_the_reply_policy() -> None:
    for language, wording in WORDINGS.items():
        for tone, phrasings in wording.phrasings.items():
            for phrasing in phrasings:
                for named in (True, False):
                    text = (
                        phrasing.replace(
                            "$greeting",
                            wording.greeting_named.format(name="Ana") if named else wording.greeting,
                        )
                        .replace("$product_dat", "Aurora" if named else wording.product_dative)
                        .replace("$product", "Aurora" if named else wording.product)
                        .replace("$stars", wording.stars.format(rating=4))
                    )
                    violations = POLICY.check(text, ReplyContext(review_text="...", review_flagged=False))
                    assert violations == [], (language, tone, text, [v.rule for v in violations])


def test_a_language_without_templates_gets_the_english_reply_marked_as_english() -> None:
    written = TemplateResponder().write(review("it", rating=5), sentiment("POSITIVE"))
    assert written.language == "en"
    assert written.response_text.startswith("Hello,")


# ------------------------------------------------------------------ the draft check


class Clean:
    name = "clean"
    supported_languages = frozenset({"en", "it"})

    def score(self, text: str, language: str) -> ToxicityScore:
        return ToxicityScore(score=0.05, labels={"INSULT": 0.05}, provider=self.name)


def reply_request(mode: str = "draft", *, written_in: str | None, **extra: Any) -> ReplyCheckRequest:
    return ReplyCheckRequest.model_validate(
        {
            "mode": mode,
            "review": {"review_id": "r-1", "product_id": "p-1", "review_text": "Ottimo.", "language": "it"},
            "review_toxicity": {"score": 0.05, "labels": {}, "scorable": True, "provider": "clean"},
            "response": {
                "response_text": "Hello, thank you for taking the time to review this product.",
                "model_id": "local/template-responder",
                "prompt_version": "template/v2",
                "language": written_in,
            },
            "bands": BANDS.model_dump(),
            **extra,
        }
    )


def test_a_draft_not_in_the_review_s_language_goes_to_a_person() -> None:
    checked = check_draft(reply_request(written_in="en"), provider=Clean(), policy=POLICY)
    assert checked.verdict == "ask_person" and checked.band == "safe"
    assert "'en'" in (checked.note or "") and "'it'" in (checked.note or "")
    # A writer that does not say (a model asked for the review's language) is not second-guessed.
    assert check_draft(reply_request(written_in=None), provider=Clean(), policy=POLICY).verdict == "publish"


def test_the_gate_refuses_a_draft_that_needed_a_person_when_none_approved_it() -> None:
    draft = check_draft(reply_request(written_in="en"), provider=Clean(), policy=POLICY)
    gate = check_for_publish(
        reply_request("publish", written_in="en", draft_check=draft.model_dump(mode="json")),
        provider=Clean(),
        policy=POLICY,
    )
    assert gate.verdict == "refuse" and gate.reason == "response_unreviewed"
