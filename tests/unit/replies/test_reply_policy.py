"""The reply policy v1: each rule with replies that break it and replies that must pass, in the
languages the pipeline answers in (English, German, French, Spanish, and others it knows)."""

from __future__ import annotations

import pytest

from reviewflow.domain.reply_policy import ReplyContext, load_policy, parse_policy, visible_text
from reviewflow.errors import ConfigurationError

POLICY = load_policy("v1")


def rules_broken(text: str, context: ReplyContext | None = None) -> set[str]:
    return {violation.rule for violation in POLICY.check(text, context)}


BREAKS = [
    # promises of money or goods
    ("en", "We will refund you in full for the broken kettle, sorry again.", "promise_of_money_or_goods"),
    ("en", "Please accept a voucher for your next order as our apology.", "promise_of_money_or_goods"),
    ("en", "We will send you a new one right away, no questions asked.", "promise_of_money_or_goods"),
    ("en", "As a thank you, here is a 20% off code for your next purchase.", "promise_of_money_or_goods"),
    ("en", "We would like to offer you a discount and a small gift.", "promise_of_money_or_goods"),
    ("en", "Our team will arrange a replacement for you this week.", "promise_of_money_or_goods"),
    ("de", "Wir erstatten Ihnen selbstverständlich den vollen Kaufpreis.", "promise_of_money_or_goods"),
    ("de", "Als Entschuldigung erhalten Sie von uns einen Gutschein.", "promise_of_money_or_goods"),
    ("de", "Wir schicken Ihnen kostenlos ein neues Gerät als Ersatz.", "promise_of_money_or_goods"),
    ("de", "Gerne gewähren wir Ihnen einen Rabatt auf die nächste Bestellung.", "promise_of_money_or_goods"),
    ("fr", "Nous allons vous rembourser intégralement votre commande.", "promise_of_money_or_goods"),
    ("fr", "Nous vous offrons un bon d'achat pour votre prochaine visite.", "promise_of_money_or_goods"),
    ("fr", "Un remplacement gratuit vous sera envoyé dès demain.", "promise_of_money_or_goods"),
    ("fr", "En guise d'excuse, nous vous accordons une réduction de prix.", "promise_of_money_or_goods"),
    ("es", "Le haremos un reembolso completo de inmediato.", "promise_of_money_or_goods"),
    ("es", "Como disculpa, le enviaremos un cupón de descuento.", "promise_of_money_or_goods"),
    ("es", "Le mandaremos un regalo junto con el reemplazo del producto.", "promise_of_money_or_goods"),
    ("es", "Vamos a compensarle por las molestias ocasionadas.", "promise_of_money_or_goods"),
    ("it", "Le offriamo un rimborso completo per il disagio.", "promise_of_money_or_goods"),
    ("nl", "U krijgt van ons een waardebon en gratis verzending.", "promise_of_money_or_goods"),
    # money amounts
    ("en", "We have credited $25 to your account for the trouble.", "money_amount"),
    ("de", "Wir überweisen Ihnen 15 € für die Unannehmlichkeiten.", "money_amount"),
    ("fr", "Nous vous versons 10 euros pour le retard de livraison.", "money_amount"),
    ("es", "Le devolveremos 30 EUR por las molestias causadas.", "money_amount"),
    # links, email addresses, phone numbers
    ("en", "Please read our returns guide at https://example.com/returns today.", "link"),
    ("en", "You can find more tips on www.kettle-tips.example before using it.", "link"),
    ("de", "Alle Infos finden Sie auf unserer Seite kettle-shop.de jederzeit.", "link"),
    ("en", "Write to support@example.com and we will look into it.", "email_address"),
    ("fr", "Écrivez-nous à service.client@boutique.fr pour en parler.", "email_address"),
    ("en", "Call us on +1 555 123 4567 any weekday and we will help.", "phone_number"),
    ("de", "Rufen Sie uns unter 030 1234 5678 an, wir helfen gern.", "phone_number"),
    ("es", "Llámenos al (555) 123-4567 y le atenderemos encantados.", "phone_number"),
    # length
    ("en", "Thanks!", "length"),
    ("en", "Thank you for your review. " * 80, "length"),
]

PASSES = [
    ("en", "Thank you for your review of the kettle. We are glad it boils quickly for you."),
    ("en", "We are sorry the zipper broke. Please contact our customer support team so they can help."),
    ("en", "Thanks for sharing your experience; feel free to reach out to our support team any time."),
    ("en", "We appreciate the feedback about the lid and have passed it on to our product team."),
    ("en", "Sorry to hear the delivery took so long. Our support team will look into what happened."),
    ("de", "Vielen Dank für Ihre Bewertung. Es freut uns, dass Ihnen der Wasserkocher gefällt."),
    (
        "de",
        "Es tut uns leid, dass der Reißverschluss kaputt ist. "
        "Bitte wenden Sie sich an unseren Kundenservice.",
    ),
    ("de", "Danke für Ihr Feedback zur Lieferung, wir geben es an das Team weiter."),
    ("fr", "Merci pour votre avis sur la bouilloire, nous sommes ravis qu'elle vous plaise."),
    ("fr", "Nous sommes désolés pour ce problème. Contactez notre service client, il vous aidera."),
    ("fr", "Merci d'avoir pris le temps de partager votre expérience avec nous."),
    ("es", "Gracias por su opinión sobre el hervidor, nos alegra que le guste."),
    ("es", "Sentimos mucho las molestias. Póngase en contacto con nuestro equipo de atención al cliente."),
    ("es", "Gracias por compartir su experiencia; la tendremos en cuenta para mejorar."),
    ("it", "Grazie per la sua recensione, siamo felici che il bollitore le piaccia."),
    ("en", "Thanks for the review! The 1.7 L size is our most popular one, and we hope it serves you well."),
    ("en", "We are sorry about the 2 broken cups in the box. Our support team would like to hear more."),
    (
        "he",
        # "Thank you for your review, glad to hear it", with a right-to-left mark (allowed)
        "\u05ea\u05d5\u05d3\u05d4 \u05e2\u05dc "
        "\u05d4\u05d1\u05d9\u05e7\u05d5\u05e8\u05ea \u05e9\u05dc\u05da, "
        "\u200f\u05e9\u05de\u05d7\u05e0\u05d5 \u05dc\u05e9\u05de\u05d5\u05e2.",
    ),
]


@pytest.mark.parametrize(
    ("language", "text", "rule"), BREAKS, ids=[f"{r}-{lang}-{i}" for i, (lang, _, r) in enumerate(BREAKS)]
)
def test_a_reply_that_breaks_a_rule_is_caught_by_that_rule(language: str, text: str, rule: str) -> None:
    assert rule in rules_broken(text)


@pytest.mark.parametrize(
    ("language", "text"), PASSES, ids=[f"{lang}-{i}" for i, (lang, _) in enumerate(PASSES)]
)
def test_an_ordinary_reply_breaks_no_rule(language: str, text: str) -> None:
    assert rules_broken(text) == set()


def test_the_corpus_is_large_enough_and_covers_four_languages() -> None:
    assert len(BREAKS) + len(PASSES) >= 40
    for language in ("en", "de", "fr", "es"):
        assert any(lang == language for lang, *_ in BREAKS)
        assert any(lang == language for lang, _ in PASSES)


@pytest.mark.parametrize("text", ["\u200b", " \u200b\u200c\u2060 ", "\ufeff\n\t", "\u00a0\u3000"])
def test_a_reply_with_nothing_visible_cannot_be_published_over(text: str) -> None:
    violations = {v.rule: v for v in POLICY.check(text)}
    assert "invisible_only" in violations and not violations["invisible_only"].overridable
    assert visible_text(text) == ""


@pytest.mark.parametrize("char", ["\u202e", "\u202d", "\u202a", "\u2066", "\u2069", "\x07", "\x1b", "\x85"])
def test_bidi_overrides_and_control_characters_are_refused(char: str) -> None:
    text = f"Thank you for your review of the kettle {char}and our support team is here."
    violations = {v.rule: v for v in POLICY.check(text)}
    assert "control_or_bidi_characters" in violations
    assert not violations["control_or_bidi_characters"].overridable


def test_full_width_letters_do_not_hide_a_promise() -> None:
    assert "promise_of_money_or_goods" in rules_broken(
        "We will \uff52\uff45\uff46\uff55\uff4e\uff44 you the full price of the kettle."
    )


def test_quoting_a_flagged_review_is_caught_only_when_the_review_was_flagged() -> None:
    review = "This kettle is garbage and the people who sold it are clowns"
    reply = "We hear you: the people who sold it are clowns is hard to read, but we want to help."
    assert "quote_from_flagged_review" in rules_broken(reply, ReplyContext(review, review_flagged=True))
    assert "quote_from_flagged_review" not in rules_broken(reply, ReplyContext(review, review_flagged=False))
    short = "We are sorry the kettle disappointed you; our support team will help."
    assert rules_broken(short, ReplyContext(review, review_flagged=True)) == set()


def test_violations_name_rules_never_the_matched_text() -> None:
    (violation,) = [
        v for v in POLICY.check("Call support@example.com for your refund") if v.rule == "email_address"
    ]
    assert "support@example.com" not in violation.description


def test_an_unknown_version_names_the_missing_file() -> None:
    with pytest.raises(ConfigurationError, match=r"v9\.json"):
        load_policy("v9")


def test_a_rule_of_an_unknown_kind_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown kind"):
        parse_policy(
            {"version": "x", "rules": [{"id": "r", "kind": "vibes", "description": "", "overridable": True}]}
        )
