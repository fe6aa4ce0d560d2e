"""The rule judge criterion by criterion, the language detector, combined judges, case passing."""

from __future__ import annotations

from typing import Any

import pytest

from reviewflow.domain.evaluation.judges import CombinedJudge, build_judge, case_passes
from reviewflow.domain.evaluation.language import LANGUAGES, detect_language, language_scores
from reviewflow.domain.evaluation.rule_judge import DEFAULT_MAX_CHARS, RuleJudge, contains_phrase
from reviewflow.errors import ConfigurationError
from reviewflow.models.evaluation import CaseRules, GoldenCase, JudgedReply, Verdict
from reviewflow.models.events import ReviewPosted

REPLY_EN = (
    "Thank you for your review, Dana. We are sorry to hear that the lid of the Aurora Kettle squeaks; "
    "please contact our support team so we can look into it."
)
REPLIES = {
    "en": REPLY_EN,
    "de": (
        "Vielen Dank für Ihre Bewertung. Es tut uns leid, dass der Deckel quietscht. Bitte wenden Sie "
        "sich an unseren Kundenservice, damit wir uns das ansehen können."
    ),
    "fr": (
        "Merci pour votre avis. Nous sommes désolés que le couvercle grince. N'hésitez pas à contacter "
        "notre service client pour que nous puissions regarder cela."
    ),
    "es": (
        "Gracias por su reseña. Sentimos mucho que la tapa chirríe. Por favor, póngase en contacto con "
        "nuestro servicio de atención al cliente para que podamos revisarlo."
    ),
    "it": (
        "Grazie per la sua recensione. Ci dispiace che il coperchio cigoli. La invitiamo a contattare "
        "il nostro servizio clienti così potremo verificare."
    ),
    "nl": (
        "Bedankt voor uw beoordeling. Het spijt ons dat het deksel piept. Neem gerust contact op met "
        "onze klantenservice, zodat wij ernaar kunnen kijken."
    ),
    "pt": (
        "Obrigado pela sua avaliação. Lamentamos que a tampa esteja a ranger. Por favor, entre em "
        "contacto com o nosso apoio ao cliente para que possamos analisar o problema."
    ),
}
SWEDISH = "Tack för din recension. Vi är ledsna att höra att locket gnisslar. Kontakta gärna vår kundtjänst."


def make_case(route: str = "auto", *, review_language: str = "en", **rules: Any) -> GoldenCase:
    return GoldenCase(
        case_id="case-1",
        review=ReviewPosted(
            review_id="rev-1",
            product_id="sku-kettle-7",
            review_text="The lid squeaks, otherwise fine.",
            rating=3,
            product_name="Aurora Kettle",
            reviewer_name="Dana",
            language=review_language,
        ),
        expected_route=route,
        reference_reply=None if route == "harmful" else "Thanks, Dana. Sorry about the lid; contact support.",
        rules=CaseRules(**rules),
    )


def judged(text: str | None = REPLY_EN, route: str = "auto", violations: tuple[str, ...] = ()) -> JudgedReply:
    return JudgedReply(actual_route=route, reply_text=text, policy_violations=list(violations))


def verdicts_by_criterion(case: GoldenCase, reply: JudgedReply) -> dict[str, Verdict]:
    verdicts = RuleJudge().judge(case, reply)
    assert all(v.judge == "rule" for v in verdicts)
    assert len({v.criterion for v in verdicts}) == len(verdicts)
    return {v.criterion: v for v in verdicts}


# ------------------------------------------------------------------ language detector


@pytest.mark.parametrize("language", LANGUAGES)
def test_detects_each_known_language_in_a_typical_reply(language):
    assert detect_language(REPLIES[language]) == language


@pytest.mark.parametrize(
    "text", ["Thanks a lot!", "", "12345 !!!", SWEDISH, "Kiitos arvostelustasi, pahoittelemme."]
)
def test_is_unsure_about_short_text_and_unknown_languages(text):
    assert detect_language(text) is None


def test_shared_words_count_for_every_language_that_lists_them():
    scores = language_scores("de de")
    # "de" is listed by Spanish, Dutch and Portuguese, so each gets 2/3 for two of them.
    assert scores["es"] == scores["nl"] == scores["pt"] == pytest.approx(2 / 3)
    assert scores["en"] == 0.0
    assert detect_language("de de de de de de") is None  # never decided by shared words alone


def test_a_close_call_between_languages_is_unsure():
    # As many Spanish-only as Portuguese-only words: no lead, no answer.
    assert detect_language("gracias usted nosotros obrigado você nós") is None


# ------------------------------------------------------------------ route and harmful cases


def test_route_passes_when_taken_as_expected_and_fails_otherwise():
    case = make_case("auto")
    assert verdicts_by_criterion(case, judged())["route"].passed
    wrong = verdicts_by_criterion(case, judged(route="person"))["route"]
    assert not wrong.passed
    assert wrong.reason == "took route person, expected auto"


@pytest.mark.parametrize("actual", ["harmful", "auto"])
def test_a_harmful_case_is_judged_on_its_route_only(actual):
    case = make_case("harmful", must_thank=True, must_apologise=True, must_mention=[["kettle"]])
    verdicts = RuleJudge().judge(case, judged("Thanks! " * 30, route=actual, violations=("link",)))
    assert [v.criterion for v in verdicts] == ["route"]
    assert verdicts[0].passed is (actual == "harmful")


def test_an_auto_case_without_a_reply_fails_reply_exists():
    verdicts = verdicts_by_criterion(make_case("auto"), judged(None))
    assert set(verdicts) == {"route", "reply_exists"}
    assert not verdicts["reply_exists"].passed
    assert not case_passes(list(verdicts.values()))


def test_a_person_case_without_a_draft_is_judged_on_its_route():
    verdicts = verdicts_by_criterion(make_case("person"), judged(None, route="person"))
    assert set(verdicts) == {"route"}
    assert case_passes(list(verdicts.values()))


def test_a_draft_sent_to_a_person_is_judged_like_a_reply():
    verdicts = verdicts_by_criterion(make_case("person", must_thank=True), judged(route="person"))
    assert {"route", "reply_policy", "language", "length", "thanks", "no_promise"} == set(verdicts)


# ------------------------------------------------------------------ the default criteria


def test_default_rules_judge_gate_language_length_and_promise():
    verdicts = verdicts_by_criterion(make_case(), judged())
    assert list(verdicts) == ["route", "reply_policy", "language", "length", "no_promise"]
    assert all(v.passed for v in verdicts.values())
    assert verdicts["length"].reason == f"{len(REPLY_EN)} characters, within {DEFAULT_MAX_CHARS}"


def test_reply_policy_fails_on_violations_the_gate_recorded():
    verdict = verdicts_by_criterion(make_case(), judged(violations=("link", "phone_number")))["reply_policy"]
    assert not verdict.passed
    assert verdict.reason == "the gate found: link, phone_number"


@pytest.mark.parametrize("language", LANGUAGES)
def test_language_passes_in_the_review_language(language):
    case = make_case(review_language=language)
    verdict = verdicts_by_criterion(case, judged(REPLIES[language]))["language"]
    assert verdict.passed, verdict.reason
    assert verdict.reason == f"written in {language}"


def test_language_fails_in_another_language():
    verdict = verdicts_by_criterion(make_case(review_language="de"), judged(REPLY_EN))["language"]
    assert not verdict.passed
    assert verdict.reason == "written in en, expected de"


def test_the_rules_language_wins_over_the_review_language():
    case = make_case(review_language="de", language="en")
    assert verdicts_by_criterion(case, judged(REPLY_EN))["language"].passed
    case = make_case(review_language="en", language="fr")
    assert not verdicts_by_criterion(case, judged(REPLY_EN))["language"].passed


def test_an_undetectable_long_reply_fails_and_a_short_one_passes_as_too_short():
    long_text = "Kettle lid squeak noted, support contact recommended, investigation pending, regards."
    assert len(long_text) > 40 and detect_language(long_text) is None
    verdict = verdicts_by_criterion(make_case(), judged(long_text))["language"]
    assert not verdict.passed
    assert verdict.reason == "could not detect the language (expected en)"
    short = verdicts_by_criterion(make_case(), judged("Noted, kettle lid squeak."))["language"]
    assert short.passed
    assert short.reason == "too short to tell"


def test_a_language_the_detector_does_not_know_is_not_checked_and_says_so():
    verdict = verdicts_by_criterion(make_case(review_language="sv"), judged(SWEDISH))["language"]
    assert verdict.passed
    assert verdict.reason == "not checked: the detector does not know 'sv'"


def test_length_uses_max_chars_or_the_default():
    text = "Thank you for your review, we are glad you like it. " * 40
    assert not verdicts_by_criterion(make_case(), judged(text))["length"].passed
    assert verdicts_by_criterion(make_case(), judged("x" * DEFAULT_MAX_CHARS))["length"].passed
    tight = verdicts_by_criterion(make_case(max_chars=100), judged(REPLY_EN))["length"]
    assert not tight.passed
    assert tight.reason == f"{len(REPLY_EN)} characters, over 100"


# ------------------------------------------------------------------ the rules a case sets


@pytest.mark.parametrize(
    "text",
    [
        REPLY_EN,
        "We apologise for the trouble with the lid.",
        REPLIES["de"],
        REPLIES["fr"],
        REPLIES["es"],
        REPLIES["it"],
        REPLIES["nl"],
        REPLIES["pt"],
        "Entschuldigung für die Unannehmlichkeiten.",
        "Lo sentimos, de verdad.",
        "Pedimos desculpa pelo incómodo.",
        "Ci scusiamo per il disagio.",
    ],
)
def test_apologises_in_each_language(text):
    assert verdicts_by_criterion(make_case(must_apologise=True), judged(text))["apologises"].passed


def test_apologises_fails_without_an_apology():
    verdict = verdicts_by_criterion(make_case(must_apologise=True), judged("Thank you for your review!"))
    assert not verdict["apologises"].passed
    assert verdict["apologises"].reason == "an apology missing"


@pytest.mark.parametrize(
    "text",
    [
        REPLY_EN,
        "Many thanks for the kind words.",
        "We appreciate your feedback.",
        REPLIES["de"],
        REPLIES["fr"],
        REPLIES["es"],
        REPLIES["it"],
        REPLIES["nl"],
        REPLIES["pt"],
        "Hartelijk dank voor uw review.",
    ],
)
def test_thanks_in_each_language(text):
    assert verdicts_by_criterion(make_case(must_thank=True), judged(text))["thanks"].passed


def test_thanks_fails_without_thanks():
    verdict = verdicts_by_criterion(make_case(must_thank=True), judged("We are sorry about the lid."))[
        "thanks"
    ]
    assert not verdict.passed


def test_mentions_product_by_name_or_id_whole_words_any_case():
    case = make_case(must_mention_product=True)
    assert verdicts_by_criterion(case, judged("We hope the AURORA   kettle serves you well."))[
        "mentions_product"
    ].passed
    assert verdicts_by_criterion(case, judged("Order sku-kettle-7 again anytime."))["mentions_product"].passed
    missing = verdicts_by_criterion(case, judged("We hope the kettle serves you well."))["mentions_product"]
    assert not missing.passed
    assert missing.reason == "'Aurora Kettle' or 'sku-kettle-7' not mentioned"


def test_mentions_one_verdict_per_group_named_after_its_first_alternative():
    case = make_case(must_mention=[["customer support", "support team"], ["lid"], ["warranty"]])
    verdicts = verdicts_by_criterion(case, judged(REPLY_EN))
    assert verdicts["mentions:customer support"].passed
    assert verdicts["mentions:customer support"].reason == "mentions 'support team'"
    assert verdicts["mentions:lid"].passed
    assert not verdicts["mentions:warranty"].passed
    assert verdicts["mentions:warranty"].reason == "mentions none of 'warranty'"


def test_avoids_one_verdict_per_phrase():
    case = make_case(must_not_mention=["squeaks", "defective"])
    verdicts = verdicts_by_criterion(case, judged(REPLY_EN))
    assert not verdicts["avoids:squeaks"].passed
    assert verdicts["avoids:defective"].passed


def test_phrases_match_whole_words_only():
    assert contains_phrase("Contact our Support Team.", "support team")
    assert not contains_phrase("We are supportive.", "support")
    assert not contains_phrase("anything", "")


@pytest.mark.parametrize(
    "text",
    [
        "Sorry about the lid. We will send you a full refund today.",
        "Es tut uns leid. Wir schicken Ihnen einen Gutschein.",
        "Désolés ! Nous vous offrons un remboursement.",
    ],
)
def test_no_promise_fails_on_the_policy_promise_rule(text):
    verdict = verdicts_by_criterion(make_case(), judged(text))["no_promise"]
    assert not verdict.passed
    assert verdict.reason == "breaks reply/v1 rule promise_of_money_or_goods"


def test_no_promise_judges_the_text_not_the_gate_record_and_can_be_switched_off():
    verdicts = verdicts_by_criterion(make_case(), judged(violations=("promise_of_money_or_goods",)))
    assert verdicts["no_promise"].passed  # the text promises nothing ...
    assert not verdicts["reply_policy"].passed  # ... the gate's record is judged here
    off = verdicts_by_criterion(make_case(must_not_promise=False), judged("Here is a refund."))
    assert "no_promise" not in off


def test_a_policy_without_the_promise_rule_is_refused(monkeypatch):
    import reviewflow.domain.evaluation.rule_judge as rule_judge

    monkeypatch.setattr(rule_judge, "PROMISE_RULE", "no_such_rule")
    with pytest.raises(ConfigurationError, match="no_such_rule"):
        RuleJudge()


def test_a_case_passes_when_every_verdict_passes():
    case = make_case(
        must_apologise=True, must_thank=True, must_mention_product=True, must_mention=[["support"]]
    )
    verdicts = RuleJudge().judge(case, judged())
    assert case_passes(verdicts)
    assert not case_passes([*verdicts, Verdict(criterion="x", passed=False, judge="rule", reason="no")])
    assert not case_passes([])


# ------------------------------------------------------------------ combining and choosing judges


class FixedJudge:
    def __init__(self, name: str, verdicts: list[Verdict]):
        self.name, self._verdicts = name, verdicts

    def judge(self, case, reply):
        return list(self._verdicts)


def test_combined_judge_concatenates_verdicts_in_order_and_names_itself():
    extra = Verdict(criterion="tone", passed=False, judge="llm:m", reason="curt")
    combined = CombinedJudge(RuleJudge(), FixedJudge("llm", [extra]))
    verdicts = combined.judge(make_case(), judged())
    assert combined.name == "rule+llm"
    assert verdicts[0].criterion == "route" and verdicts[-1] == extra
    assert not case_passes(verdicts)
    with pytest.raises(ValueError, match="at least one"):
        CombinedJudge()


def test_build_judge_rule_and_llm():
    assert isinstance(build_judge("rule"), RuleJudge)
    with pytest.raises(ConfigurationError, match="chat model"):
        build_judge("llm")
