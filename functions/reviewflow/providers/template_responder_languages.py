"""The template responder's phrasings in German, French and Spanish (``template_responder``).

Each language has the same tones as the English set, written to read naturally rather than word
for word: formal address (Sie, vous, usted), the reviewer's name in the greeting when given, the
product's name or a neutral "this product". German needs the product in two cases: ``$product``
(nominative and accusative, which coincide for "dieses Produkt") and ``$product_dat`` (dative).
Like the English ones, none promises a refund, compensation, a replacement or a discount, none
carries a link, an address or a number, and none quotes the review.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover - imports for type checkers only
    from reviewflow.providers.template_responder import Tone


@dataclass(frozen=True)
class Wording:
    """How one language greets, names an unnamed product and names a star rating."""

    greeting_named: str  # with {name}
    greeting: str
    product: str
    product_dative: str
    stars: str  # with {rating}
    phrasings: dict[Tone, tuple[str, ...]]


GERMAN = Wording(
    greeting_named="Hallo {name},",
    greeting="Guten Tag,",
    product="dieses Produkt",
    product_dative="diesem Produkt",
    stars="{rating}-Sterne-Bewertung",
    phrasings={
        "POSITIVE": (
            "$greeting vielen Dank für Ihre freundliche Bewertung von $product_dat. Es freut uns, dass es "
            "Ihnen gute Dienste leistet.",
            "$greeting wir freuen uns sehr, dass Ihnen $product gefällt. Danke, dass Sie Ihre Erfahrung mit "
            "uns teilen.",
            "$greeting herzlichen Dank, dass Sie sich die Zeit für eine Bewertung von $product_dat genommen "
            "haben. Schön zu hören, dass Sie zufrieden sind.",
        ),
        "NEGATIVE": (
            "$greeting es tut uns leid, dass $product Ihre Erwartungen nicht erfüllt hat. Bitte wenden Sie "
            "sich an unseren Kundenservice, damit wir uns das gemeinsam mit Ihnen ansehen können.",
            "$greeting danke, dass Sie uns von Ihrer Erfahrung mit $product_dat berichten, und es tut uns "
            "leid, dass Sie enttäuscht wurden. Unser Kundenservice hilft Ihnen gern weiter; bitte nehmen "
            "Sie Kontakt mit ihm auf.",
            "$greeting es tut uns leid, dass Sie Ärger mit $product_dat hatten. Bitte melden Sie sich bei "
            "unserem Kundenservice, damit er klären kann, was passiert ist.",
        ),
        "MIXED": (
            "$greeting vielen Dank für Ihre ausgewogene Bewertung von $product_dat. Es freut uns, dass "
            "einiges gut funktioniert hat, und bei allem anderen hilft Ihnen unser Kundenservice gern "
            "weiter.",
            "$greeting danke, dass Sie uns schreiben, was Ihnen an $product_dat gefallen hat und was nicht. "
            "Ihr Feedback hilft uns, besser zu werden, und unser Kundenservice ist für Sie da, wenn Sie "
            "Unterstützung brauchen.",
        ),
        "NEUTRAL": (
            "$greeting vielen Dank, dass Sie sich die Zeit für eine Bewertung von $product_dat genommen "
            "haben. Wir wissen Ihr Feedback zu schätzen.",
            "$greeting danke, dass Sie Ihre Eindrücke von $product_dat mit uns teilen. Wenn Sie Fragen "
            "haben, hilft Ihnen unser Kundenservice gern weiter.",
        ),
        "LOW_RATING": (
            "$greeting vielen Dank für Ihre Bewertung von $product_dat. Es tut uns leid, dass es Sie nicht "
            "überzeugt hat; bitte wenden Sie sich an unseren Kundenservice, damit er herausfinden kann, was "
            "schiefgelaufen ist.",
            "$greeting danke, dass Sie $product bewertet haben, und es tut uns leid, dass es nicht Ihren "
            "Erwartungen entsprach. Unser Kundenservice hilft Ihnen gern weiter; bitte nehmen Sie Kontakt "
            "mit ihm auf.",
            "$greeting es tut uns leid, dass $product von Ihnen keine bessere Bewertung bekommen hat. Bitte "
            "melden Sie sich bei unserem Kundenservice, damit er sich Ihre Erfahrung ansehen kann.",
        ),
        "HIGH_RATING_CONCERN": (
            "$greeting vielen Dank für Ihre $stars für $product. Falls etwas nicht so gut funktioniert, wie "
            "Sie es sich wünschen, hilft Ihnen unser Kundenservice gern weiter.",
            "$greeting danke für Ihre $stars zu $product_dat und dafür, dass Sie uns sagen, was besser sein "
            "könnte. Unser Kundenservice hilft bei allem, was nicht so funktioniert, wie es soll.",
            "$greeting vielen Dank, dass Sie $product so gut bewertet haben. Wenn Sie noch etwas stört, "
            "wenden Sie sich bitte an unseren Kundenservice, damit er Ihnen helfen kann.",
        ),
    },
)

FRENCH = Wording(
    greeting_named="Bonjour {name},",
    greeting="Bonjour,",
    product="ce produit",
    product_dative="ce produit",
    stars="note de {rating} étoiles",
    phrasings={
        "POSITIVE": (
            "$greeting merci pour votre avis sur $product. Nous sommes ravis qu'il vous donne satisfaction.",
            "$greeting nous sommes ravis que $product vous plaise. Merci d'avoir partagé votre expérience.",
            "$greeting merci beaucoup d'avoir pris le temps de donner votre avis sur $product. C'est un "
            "plaisir d'apprendre qu'il vous convient.",
        ),
        "NEGATIVE": (
            "$greeting nous sommes désolés que $product n'ait pas répondu à vos attentes. Merci de contacter "
            "notre service client afin que nous puissions examiner la situation avec vous.",
            "$greeting merci de nous avoir fait part de votre expérience avec $product, et nous sommes "
            "désolés qu'elle ait été décevante. Notre service client souhaite vous aider ; n'hésitez pas à "
            "le contacter.",
            "$greeting nous sommes désolés des difficultés rencontrées avec $product. Merci de contacter "
            "notre service client pour qu'il puisse comprendre ce qui s'est passé.",
        ),
        "MIXED": (
            "$greeting merci pour votre avis nuancé sur $product. Nous sommes heureux que certains points "
            "vous aient plu, et notre service client se tient à votre disposition pour le reste.",
            "$greeting merci de nous avoir dit ce que vous avez aimé et moins aimé dans $product. Vos "
            "remarques nous aident à progresser, et notre service client est là si vous avez besoin d'aide.",
        ),
        "NEUTRAL": (
            "$greeting merci d'avoir pris le temps de donner votre avis sur $product. Nous apprécions vos "
            "remarques.",
            "$greeting merci de nous avoir fait part de votre avis sur $product. Si vous avez des questions, "
            "notre service client se fera un plaisir de vous aider.",
        ),
        "LOW_RATING": (
            "$greeting merci pour votre avis sur $product. Nous sommes désolés qu'il n'ait pas été à la "
            "hauteur ; merci de contacter notre service client afin qu'il puisse comprendre ce qui n'a pas "
            "fonctionné.",
            "$greeting merci d'avoir pris le temps d'évaluer $product, et nous sommes désolés qu'il "
            "n'ait pas répondu à vos espérances. Notre service client souhaite vous aider ; n'hésitez "
            "pas à le contacter.",
            "$greeting nous regrettons que $product n'ait pas obtenu une meilleure note de votre part. Merci "
            "de contacter notre service client afin qu'il puisse examiner votre expérience.",
        ),
        "HIGH_RATING_CONCERN": (
            "$greeting merci pour votre $stars attribuée à $product. Si quelque chose ne fonctionne pas "
            "aussi bien que vous le souhaiteriez, notre service client est prêt à vous aider.",
            "$greeting merci pour votre $stars sur $product et pour vos suggestions d'amélioration. Notre "
            "service client peut vous aider pour tout ce qui ne fonctionne pas comme il le devrait.",
            "$greeting merci d'avoir si bien noté $product. Si quelque chose vous gêne encore, n'hésitez pas "
            "à contacter notre service client afin qu'il puisse vous aider.",
        ),
    },
)

SPANISH = Wording(
    greeting_named="Hola {name},",
    greeting="Hola,",
    product="este producto",
    product_dative="este producto",
    stars="valoración de {rating} estrellas",
    phrasings={
        "POSITIVE": (
            "$greeting gracias por su amable reseña de $product. Nos alegra que le esté funcionando bien.",
            "$greeting nos encanta saber que está disfrutando de $product. Gracias por compartir su "
            "experiencia.",
            "$greeting muchas gracias por tomarse el tiempo de valorar $product. Es estupendo saber que le "
            "ha gustado.",
        ),
        "NEGATIVE": (
            "$greeting lamentamos que $product no haya cumplido sus expectativas. Póngase en contacto con "
            "nuestro equipo de atención al cliente para que podamos revisarlo con usted.",
            "$greeting gracias por contarnos su experiencia con $product, y sentimos que haya sido "
            "decepcionante. Nuestro equipo de atención al cliente quiere ayudarle; no dude en ponerse en "
            "contacto con él.",
            "$greeting sentimos los problemas que ha tenido con $product. Escriba a nuestro equipo de "
            "atención al cliente para que pueda averiguar qué ha ocurrido.",
        ),
        "MIXED": (
            "$greeting gracias por su reseña equilibrada de $product. Nos alegra que algunas cosas le hayan "
            "funcionado bien, y nuestro equipo de atención al cliente estará encantado de ayudarle con el "
            "resto.",
            "$greeting gracias por contarnos lo que le gustó y lo que no de $product. Sus comentarios nos "
            "ayudan a mejorar, y nuestro equipo de atención al cliente está a su disposición si necesita "
            "ayuda.",
        ),
        "NEUTRAL": (
            "$greeting gracias por tomarse el tiempo de valorar $product. Agradecemos sus comentarios.",
            "$greeting gracias por compartir su opinión sobre $product. Si tiene alguna pregunta, nuestro "
            "equipo de atención al cliente estará encantado de ayudarle.",
        ),
        "LOW_RATING": (
            "$greeting gracias por su reseña de $product. Sentimos que no haya estado a la altura; "
            "póngase en contacto con nuestro equipo de atención al cliente para que pueda averiguar qué "
            "ha fallado.",
            "$greeting gracias por tomarse el tiempo de valorar $product, y lamentamos que no haya "
            "respondido a lo que esperaba. Nuestro equipo de atención al cliente quiere ayudarle; no "
            "dude en ponerse en contacto con él.",
            "$greeting lamentamos que $product no haya merecido una mejor valoración por su parte. Escriba a "
            "nuestro equipo de atención al cliente para que pueda revisar su experiencia.",
        ),
        "HIGH_RATING_CONCERN": (
            "$greeting gracias por su $stars de $product. Si algo no funciona tan bien como le gustaría, "
            "nuestro equipo de atención al cliente está listo para ayudarle.",
            "$greeting gracias por su $stars de $product y por contarnos qué podría mejorar. Nuestro equipo "
            "de atención al cliente puede ayudarle con cualquier cosa que no funcione como debería.",
            "$greeting gracias por valorar tan bien $product. Si todavía hay algo que le molesta, póngase en "
            "contacto con nuestro equipo de atención al cliente para que pueda ayudarle.",
        ),
    },
)

WORDINGS: dict[str, Wording] = {"de": GERMAN, "fr": FRENCH, "es": SPANISH}
