"""Rule patterns for doxxing and harassment aimed at a third person (``HARASSMENT_OR_ABUSE``).

Publishing where someone lives, or letting them know their private details are in hand, is a
threat that needs no violent word: "I found the home address of your CEO", "I'm going to post his
phone number online", "everyone will know where she lives". Harassment here means pressure on a
person's life or family: "I'll make his life hell", "I'll call his wife".

What is private is narrow on purpose: a home address, a licence plate, a personal number. A plain
"his number" is what an installer hands out, a business's address and a support line are public,
and the writer's own details ("my home address was printed wrong") are never a target.
"""

from __future__ import annotations

from reviewflow.providers.local_toxicity_rules import (
    HARASSMENT_OR_ABUSE,
    OBJECT,
    OBJECT_ANY,
    PERSON,
    POSSESSIVE,
    SPEAKER_INTENT,
    Pattern,
)

_HOLDER = (
    r"\b(?:i|we)(?:'ve| have)? (?:already |just |finally )?(?:found|got|have|dug up|tracked down|looked up"
    r"|know) "
)
_PRIVATE = r"(?:home|personal|private|mobile|cell)"
_PUBLISH = r"(?:post|publish|share|leak|put|spread|plaster|tweet|upload|print|expose)"
_ONLINE = (
    r"(?:online|on the internet|everywhere|on (?:facebook|twitter|x|instagram|tiktok|reddit|social media"
    r"|every \w+))"
)

_HARASSMENT_PATTERNS: tuple[Pattern, ...] = (
    (
        HARASSMENT_OR_ABUSE,
        0.75,
        SPEAKER_INTENT + rf"(?:make (?:your|{POSSESSIVE}) li(?:fe|ves) (?:a )?(?:living )?(?:hell|misery"
        rf"|miserable|a nightmare|nightmare)|ruin (?:your|{POSSESSIVE}) li(?:fe|ves))\b",
    ),
    (
        HARASSMENT_OR_ABUSE,
        0.55,
        SPEAKER_INTENT + rf"(?:call|message|text|contact|visit|email|find) {POSSESSIVE} (?:wife|husband"
        r"|family|kids|children|parents|mother|mom|father|dad|partner|girlfriend|boyfriend|neighbou?rs)\b",
    ),
    (
        HARASSMENT_OR_ABUSE,
        0.6,
        rf"\b(?:keep|keeps|will keep) (?:calling|texting|messaging|emailing|visiting|following) {OBJECT}"
        r" (?:at home|at night|day and night|every night)\b",
    ),
)

_DOXXING_PATTERNS: tuple[Pattern, ...] = (
    # Holding someone's private details: a home address, a licence plate or a private number is
    # pressure; a plain "his number" is what an installer hands out, and a business's address is public.
    (
        HARASSMENT_OR_ABUSE,
        0.7,
        rf"{_HOLDER}(?:the )?(?:{_PRIVATE} (?:address|phone number|number)|home) of (?:him|her|{PERSON})\b"
        rf"|{_HOLDER}(?:{POSSESSIVE}|your) (?:(?:{_PRIVATE} )(?:address|phone number|number)|license plate"
        r"|licence plate|plate number)\b",
    ),
    (
        HARASSMENT_OR_ABUSE,
        0.55,
        rf"{_HOLDER}(?:the address of (?:him|her|{PERSON})|{POSSESSIVE} address)\b",
    ),
    (
        HARASSMENT_OR_ABUSE,
        0.75,
        SPEAKER_INTENT
        + _PUBLISH
        + rf" (?:(?:the )?(?:home )?(?:address|phone number) of (?:him|her|{PERSON})"
        rf"|(?:{POSSESSIVE} (?:{_PRIVATE} |real |full )?|your {_PRIVATE} )"
        r"(?:address|phone number|number|details))\b",
    ),
    (
        HARASSMENT_OR_ABUSE,
        0.6,
        SPEAKER_INTENT + _PUBLISH + rf" {POSSESSIVE} (?:photos?"
        rf"|pictures?|face|name|full name|identity) {_ONLINE}",
    ),
    (
        HARASSMENT_OR_ABUSE,
        0.75,
        r"\b(?:everyone|everybody|the whole (?:internet|world|town|street|neighbou?rhood)|all (?:his|her"
        r"|their) neighbou?rs)(?:'ll| will| is going to|'s going to| gonna) know where"
        rf" (?:you|he|she|they|{PERSON}) (?:lives?|live|sleeps?|works?)\b",
    ),
    (
        HARASSMENT_OR_ABUSE,
        0.75,
        SPEAKER_INTENT + r"tell (?:everyone|everybody|the internet|the world|the whole \w+) where "
        rf"(?:you|he|she|they|{PERSON}) (?:lives?|live|sleeps?)\b",
    ),
    (HARASSMENT_OR_ABUSE, 0.8, rf"\bdoxx?(?:ing|ed)? {OBJECT_ANY}\b"),
)

DOXXING_PATTERNS: tuple[Pattern, ...] = _HARASSMENT_PATTERNS + _DOXXING_PATTERNS
