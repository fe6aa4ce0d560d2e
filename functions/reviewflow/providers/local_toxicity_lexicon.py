"""An offline stand-in for German, French and Spanish: word lists, not a classifier.

No toxicity model that installs offline reads these languages (the profanity model behind
``LocalToxicity`` is English bag-of-words). So that the local runtime can show a non-English review
travelling the automatic path, ``LocalToxicity(languages=MULTILINGUAL)`` (``toxicity_provider:
local-multilingual``) scores ``de``, ``fr`` and ``es`` with the patterns below, and says so on
every result (``note``). They catch the obvious: threats to kill or hurt, common insults and slurs
aimed at a person, strong profanity, and mild rudeness (which lands in the uncertain band, so a
person looks). They miss everything phrased otherwise: irony, polite threats, misspellings,
abuse in words not listed. In AWS, Bedrock Guardrails (standard tier) scores these languages.

Each pattern is ``(label, score, regex)`` with the English rules' labels and score levels: a
threat 0.9 and an insult or strong profanity 0.7 (above the default high threshold, 0.6), mild
rudeness 0.45 (inside the uncertain band). Matching ignores case on whitespace-collapsed text.
"""

from __future__ import annotations

import re

from reviewflow.providers.local_toxicity_rules import HARASSMENT_OR_ABUSE, INSULT, VIOLENCE_OR_THREAT, Pattern

PROFANITY = "PROFANITY"
THREAT, ABUSE, RUDE = 0.9, 0.7, 0.45

_E = r"(?!\w)"  # a word end that also holds after an accented letter

LEXICONS: dict[str, tuple[Pattern, ...]] = {
    "de": (
        (
            VIOLENCE_OR_THREAT,
            THREAT,
            r"\bich (?:bring|bringe|werde|will) (?:dich|euch|sie|ihn)\b.{0,20}\b(?:um|umbringen|töten|"
            r"abstechen|erschießen|verprügeln|fertigmachen)\b",
        ),
        (VIOLENCE_OR_THREAT, THREAT, r"\bich weiß,? wo (?:du wohnst|ihr wohnt|sie wohnen)\b"),
        (
            HARASSMENT_OR_ABUSE,
            ABUSE,
            r"\b(?:du|ihr|sie) (?:verdammte[rn]?|dumme[rn]?|blöde[rn]?) ?(?:idiot|idioten|arschloch|"
            r"arschlöcher|wichser|schwein|schweine)\b",
        ),
        (
            INSULT,
            ABUSE,
            r"\b(?:arschloch|arschlöcher|wichser|hurensohn|drecksau|missgeburt|vollidiot|vollidioten|"
            r"spast|spasti)\b",
        ),
        (PROFANITY, ABUSE, r"\b(?:scheiße|scheisse|scheiß|scheiss|verfickt\w*|fick\w*)"),
        (INSULT, RUDE, r"\b(?:idiot|idioten|trottel|depp|deppen|blödmann|dummkopf)\b"),
        (PROFANITY, RUDE, r"\b(?:mist|schrott|müll|verdammt|kacke)\b"),
    ),
    "fr": (
        (
            VIOLENCE_OR_THREAT,
            THREAT,
            r"\bje (?:vais|veux) (?:te|vous|les?|la) (?:tuer|buter|crever|frapper|égorger|défoncer)\b",
        ),
        (VIOLENCE_OR_THREAT, THREAT, r"\bje sais où (?:tu habites|vous habitez|il habite|elle habite)\b"),
        (
            HARASSMENT_OR_ABUSE,
            ABUSE,
            r"\b(?:espèce|bande) d[e'] ?(?:connards?|connasses?|crétins?|abrutis?|imbéciles?|idiots?|"
            r"salauds?|ordures?)" + _E,
        ),
        (
            INSULT,
            ABUSE,
            r"\b(?:connard|connards|connasse|salaud|salauds|salope|enculé|enculés|ordure|ordures|"
            r"fils de pute)" + _E,
        ),
        (PROFANITY, ABUSE, r"\b(?:putain|merde|bordel de merde|nique|niquer)" + _E),
        (INSULT, RUDE, r"\b(?:idiot|idiots|crétin|crétins|imbécile|imbéciles|abruti|abrutis|nul|nuls)" + _E),
        (PROFANITY, RUDE, r"\b(?:zut|bordel|camelote|arnaque)" + _E),
    ),
    "es": (
        (
            VIOLENCE_OR_THREAT,
            THREAT,
            r"\b(?:te|os|lo|la|los|las) (?:voy|vamos) a (?:matar|pegar|apuñalar|reventar|partir la cara)\b",
        ),
        (VIOLENCE_OR_THREAT, THREAT, r"\bsé dónde (?:vives|vivís|viven|vive)" + _E),
        (
            HARASSMENT_OR_ABUSE,
            ABUSE,
            r"\b(?:eres|sois|son) (?:un|una|unos|unas) (?:idiotas?|imbéciles?|estúpid[oa]s?|"
            r"gilipollas|cabr[oó]n(?:es)?|pendejos?)" + _E,
        ),
        (
            INSULT,
            ABUSE,
            r"\b(?:hijo de puta|hijos de puta|gilipollas|cabrón|cabrones|pendejo|pendejos|capullo|"
            r"imbécil|imbéciles)" + _E,
        ),
        (PROFANITY, ABUSE, r"\b(?:mierda|joder|puta|coño|carajo)" + _E),
        (INSULT, RUDE, r"\b(?:idiota|idiotas|estúpido|estúpida|tonto|tonta|inútil|inútiles)" + _E),
        (PROFANITY, RUDE, r"\b(?:basura|porquería|chapuza|timo)" + _E),
    ),
}

LABELS = (HARASSMENT_OR_ABUSE, INSULT, PROFANITY, VIOLENCE_OR_THREAT)
LANGUAGES: frozenset[str] = frozenset(LEXICONS)

_COMPILED = {
    language: tuple((label, score, re.compile(pattern, re.IGNORECASE)) for label, score, pattern in patterns)
    for language, patterns in LEXICONS.items()
}


def lexicon_scores(sentence: str, language: str) -> dict[str, float]:
    """Every label 0 unless a pattern of ``language`` matches; then the highest matching score."""
    normalized = " ".join(sentence.split())
    scores = dict.fromkeys(LABELS, 0.0)
    for label, score, pattern in _COMPILED[language]:
        if score > scores[label] and pattern.search(normalized):
            scores[label] = score
    return scores
