"""Rule patterns for threats and intimidation aimed at a third person (``VIOLENCE_OR_THREAT``).

A review that cannot reach the shop may aim at the people around it instead: "I know where your
manager lives", "it would be a shame if something happened to your courier", "people like him tend
to have accidents". Nothing in those sentences is profane, so without these rules they scored near
0 and were answered automatically. Doxxing and harassment of the same people are in
``local_toxicity_doxxing``; the person fragments both use are in ``local_toxicity_rules``.

Three families: harm announced against a person ("I will hurt your driver"), surveillance of a
person's home, school or routine ("I know which school your kids go to", "I'll be waiting
outside your store"), and veiled intimidation (a "shame if something happened", accidents,
regret, payback). Scores are chosen per frame: intimidation a reader cannot take two ways scores
above the default high threshold (0.6); frames with an innocent reading ("he will regret it",
"I'll be waiting outside your store", "I'd hate for your courier to get hurt") score 0.5-0.55,
inside the uncertain band, so a person decides. Each frame is written so the ordinary complaint
that shares its words stays safe: "you'll regret buying this", "I'll be waiting for my refund",
"something happened to the package", "I got hurt by the sharp edge".
"""

from __future__ import annotations

from reviewflow.providers.local_toxicity_rules import (
    CLAUSE_END,
    HARM,
    I_INTENT,
    NOT_FROM_PRODUCT,
    OBJECT,
    OBJECT_ANY,
    PERSON,
    POSSESSIVE,
    SPEAKER_INTENT,
    SPEAKER_MAYBE,
    SUBJECT,
    SUBJECT_ANY,
    VIOLENCE_OR_THREAT,
    WILL,
    Pattern,
)

# Where a person can be found outside a shop's opening hours. A store or an office is public, so
# waiting there counts only in the narrower store frame below.
_HOME = r"(?:house|home|flat|apartment|door|doorstep|front door|school|work|workplace|car|place)"
# An errand after the place ("... when the doors open", "... at 9", "... for pickup") makes waiting ordinary.
_NO_ERRAND = r"(?! (?:when|until|till|before|at|on|for|to|with)\b)"
_ROUTINE = r"(?:route|daily route|schedule|shift pattern|daily routine|routine)"
_KNOW = r"\b(?:i|we) (?:already |now |also |still |even |really |totally )?know (?:exactly )?"

_HARM_PATTERNS: tuple[Pattern, ...] = (
    (VIOLENCE_OR_THREAT, 0.9, SPEAKER_INTENT + HARM + r" " + PERSON),
    (VIOLENCE_OR_THREAT, 0.85, rf"\b(?:i'm|i am|we're|we are) coming (?:for|after) {OBJECT}\b"),
    (VIOLENCE_OR_THREAT, 0.75, I_INTENT + r"find " + OBJECT + CLAUSE_END),
    (
        VIOLENCE_OR_THREAT,
        0.8,
        r"\bwatch (?:his|her|their) backs?\b(?! (?:pain|posture))|\bsleep with one eye open\b",
    ),
    (
        VIOLENCE_OR_THREAT,
        0.65,
        SUBJECT_ANY + r"(?:'d| had)? better (?:watch out|not show (?:his|her|their) faces?)" + CLAUSE_END,
    ),
    (
        VIOLENCE_OR_THREAT,
        0.65,
        SUBJECT + r"(?: might| may| could| will| is going to)? (?:ends?|end) up (?:in (?:the )?"
        r"(?:hospital|a ditch|a wheelchair|a coffin|the morgue|intensive care)|dead)\b" + NOT_FROM_PRODUCT,
    ),
    (VIOLENCE_OR_THREAT, 0.5, SUBJECT + WILL + r" (?:get|gets) hurt\b" + NOT_FROM_PRODUCT),
    (
        VIOLENCE_OR_THREAT,
        0.65,
        SUBJECT + r"(?: isn't| aren't| is not| are not|'s not|'re not| won't be| will not be| is no longer"
        r"| are no longer) safe\b(?! (?:around|near|on|in|to|for)\b)" + NOT_FROM_PRODUCT,
    ),
    (VIOLENCE_OR_THREAT, 0.65, r"\bwhat(?:'s| is) coming to (?:him|her|them)\b"),
    (VIOLENCE_OR_THREAT, 0.7, OBJECT_ANY + r" (?:will )?never (?:feels?|be|is) safe again\b"),
)

_SURVEILLANCE_PATTERNS: tuple[Pattern, ...] = (
    (VIOLENCE_OR_THREAT, 0.9, _KNOW + rf"where (?:he|she|they|{PERSON}) (?:lives?|sleeps?)\b"),
    (
        VIOLENCE_OR_THREAT,
        0.75,
        _KNOW + rf"(?:where|when|what time|which \w+|what \w+) (?:he|she|they|{PERSON}) (?:parks?|drives?"
        r"|goes? to|go to|walks? home|gets? off work|finish(?:es)? work"
        r"|picks? up (?:his|her|their) kids)\b",
    ),
    (
        VIOLENCE_OR_THREAT,
        0.55,
        SPEAKER_INTENT + rf"be (?:waiting|standing|parked)(?: for {OBJECT_ANY})? (?:outside|at|by|near"
        rf"|in front of|behind|round|around) (?:your|{POSSESSIVE}) (?:[a-z]+ )?{_HOME}\b" + _NO_ERRAND,
    ),
    (
        VIOLENCE_OR_THREAT,
        0.55,
        SPEAKER_INTENT + rf"be waiting(?: for {OBJECT_ANY})? (?:outside|in front of) (?:your|{POSSESSIVE})"
        r" (?:[a-z]+ )?(?:store|shop|office|warehouse)\b" + _NO_ERRAND,
    ),
    (
        VIOLENCE_OR_THREAT,
        0.65,
        SPEAKER_INTENT + rf"be waiting for {OBJECT_ANY} after (?:his|her|their|your) (?:shift|work)\b",
    ),
    (
        VIOLENCE_OR_THREAT,
        0.55,
        r"\b(?:i'm|i am|we're|we are|i'll be|i will be|i've been|i have been) (?:\w+ )?"
        rf"(?:watching|following) {OBJECT_ANY}(?: (?:closely|very closely|day and night))?" + CLAUSE_END,
    ),
    (VIOLENCE_OR_THREAT, 0.75, SPEAKER_INTENT + r"follow " + OBJECT + r" home\b"),
    (
        VIOLENCE_OR_THREAT,
        0.55,
        SPEAKER_MAYBE + rf"pay {OBJECT} a (?:little |personal |friendly |surprise |quick )?visit\b",
    ),
    (
        VIOLENCE_OR_THREAT,
        0.7,
        SPEAKER_MAYBE + rf"(?:pay {OBJECT} a (?:\w+ )?visit|visit {OBJECT}) at (?:home|(?:his|her|their) "
        rf"{_HOME})\b",
    ),
    (VIOLENCE_OR_THREAT, 0.65, I_INTENT + rf"show up at (?:your|{POSSESSIVE}) (?:kids' )?{_HOME}\b"),
)

_INTIMIDATION_PATTERNS: tuple[Pattern, ...] = (
    (
        VIOLENCE_OR_THREAT,
        0.7,
        r"\b(?:would|'d|will|'ll) be a (?:shame|pity) if (?:something|anything) (?:bad |terrible |nasty "
        r"|unfortunate )?(?:happened|were to happen|was to happen|happens) to (?:you|him|her|them|your|his"
        rf"|their|{PERSON})\b",
    ),
    (
        VIOLENCE_OR_THREAT,
        0.7,
        rf"\b(?:would|'d|will|'ll) be a (?:shame|pity) if (?:he|she|they|you|{PERSON}) (?:got|were|was|get)"
        r" (?:hurt|injured|harmed|attacked|beaten up)\b" + NOT_FROM_PRODUCT,
    ),
    (
        VIOLENCE_OR_THREAT,
        0.7,
        r"\bsomething (?:bad|terrible|awful|nasty|unfortunate|horrible) (?:will|is going to|might|may|could"
        rf"|is gonna) happen to {OBJECT_ANY}\b" + NOT_FROM_PRODUCT,
    ),
    (
        VIOLENCE_OR_THREAT,
        0.55,
        rf"\bsomething (?:will|is going to|might|may|could|is gonna) happen to {OBJECT}\b" + NOT_FROM_PRODUCT,
    ),
    (
        VIOLENCE_OR_THREAT,
        0.55,
        rf"\b(?:i'd|i would) hate for (?:(?:something|anything) (?:bad )?to happen to {OBJECT_ANY}|{OBJECT}"
        r" to (?:get|be) (?:hurt|injured|harmed)|" + OBJECT + r" to have an accident)\b" + NOT_FROM_PRODUCT,
    ),
    (
        VIOLENCE_OR_THREAT,
        0.65,
        rf"\bpeople like (?:that|{OBJECT_ANY}) (?:\w+ )?(?:\w+ )?(?:have|get|meet with|end up in"
        r"|end up having) (?:accidents?|an accident|hurt)\b"
        r"|\baccidents happen to (?:people|couriers|drivers|sellers|managers|those|anyone) (?:who|like)\b",
    ),
    (
        VIOLENCE_OR_THREAT,
        0.7,
        rf"\bi know people who (?:can|could|will|would|'ll) (?:deal with|take care of"
        rf"|handle|visit|find|sort out|hurt|teach) {OBJECT_ANY}\b",
    ),
    (
        VIOLENCE_OR_THREAT,
        0.6,
        SUBJECT_ANY + r"(?:'d| had| should)? better be (?:very )?(?:afraid|scared)" + CLAUSE_END,
    ),
    (
        VIOLENCE_OR_THREAT,
        0.55,
        SUBJECT + r"(?:(?:'d| had)? better| should) be careful (?:walking home|alone|at night"
        r"|out there|from now on)\b" + NOT_FROM_PRODUCT,
    ),
    # Regret and payback: "you'll regret buying this" is advice, so "you" counts only with a demand
    # ("refund me or you'll regret it") or aimed at the writer ("you'll regret crossing me").
    (VIOLENCE_OR_THREAT, 0.5, SUBJECT + WILL + r" regret (?:it|this|that|the day|ever|crossing|messing)\b"),
    (VIOLENCE_OR_THREAT, 0.5, SUBJECT + WILL + r" be sorry" + CLAUSE_END),
    (
        VIOLENCE_OR_THREAT,
        0.5,
        r"\b(?:refund|fix|replace|answer|respond to|reply to|call)(?: \w+){0,4} or (?:else )?(?:you|he|she)"
        r"(?:'ll| will|'re going to| are going to|'s going to) regret (?:it|this)\b",
    ),
    (
        VIOLENCE_OR_THREAT,
        0.65,
        r"\byou(?:'ll| will|'re going to| are going to) regret (?:crossing|messing with"
        r"|ever crossing|ever messing with|the day you (?:crossed|messed with|ignored)) (?:me|us)\b",
    ),
    (VIOLENCE_OR_THREAT, 0.7, SPEAKER_INTENT + rf"make (?:sure )?{OBJECT_ANY} (?:will )?regrets?\b"),
    (
        VIOLENCE_OR_THREAT,
        0.65,
        SPEAKER_INTENT + rf"make (?:sure )?(?:that )?(?:he|she|they|{OBJECT_ANY}) (?:pays?|will pay)"
        r"(?: for (?:this|that|it|what (?:he|she|they|you) did)| dearly)?" + CLAUSE_END,
    ),
    (VIOLENCE_OR_THREAT, 0.55, SUBJECT + WILL + r" pay (?:dearly|for what (?:he|she|they) did)\b"),
)

# Locating a person, knowing their routine, hired help, property damage wished aloud, warnings.
_LOCATING_PATTERNS: tuple[Pattern, ...] = (
    (
        VIOLENCE_OR_THREAT,
        0.75,
        rf"(?:{SPEAKER_INTENT}|\b(?:i|we)(?:'ve| have)? )(?:find|found|figure|figured|work|worked) out"
        rf" (?:exactly )?where (?:he|she|they|{PERSON}) (?:lives?|sleeps?)\b",
    ),
    (
        VIOLENCE_OR_THREAT,
        0.7,
        # Someone's routine, named either way: "his schedule", "the route your driver takes".
        _KNOW + rf"(?:{POSSESSIVE} {_ROUTINE}|the {_ROUTINE} (?:that )?(?:he|she|they|{PERSON})"
        r" (?:takes?|drives?|walks?|keeps?))\b",
    ),
    (
        VIOLENCE_OR_THREAT,
        0.7,
        r"\b(?:i know|i have|i've got|i got) (?:some )?(?:people|friends|guys|a guy|someone) who (?:can|could"
        rf"|will|would|'ll) (?:deal with|take care of|handle|visit|find|sort out|hurt|teach) {OBJECT_ANY}\b",
    ),
    (VIOLENCE_OR_THREAT, 0.65, SPEAKER_INTENT + rf"teach {OBJECT_ANY} a lesson\b"),
    (
        VIOLENCE_OR_THREAT,
        0.7,
        rf"\b(?:shame|pity|terrible|awful|tragic) if (?:your|{POSSESSIVE}) (?:[a-z]+ )?(?:house|home|store"
        r"|shop|warehouse|car|office|place|van|truck) (?:caught fire|burned down|burnt down|got burned"
        r"|got smashed|got vandali[sz]ed|were vandali[sz]ed|had a fire)\b",
    ),
    (
        VIOLENCE_OR_THREAT,
        0.55,
        SUBJECT_ANY + r"(?:'d| had)? (?:better|should) think twice before (?:coming back|showing (?:his|her"
        r"|their) faces?|setting foot)\b",
    ),
    (
        VIOLENCE_OR_THREAT,
        0.55,
        SUBJECT_ANY + r" (?:won't|will not) be (?:smiling|laughing|so smug|so cocky) (?:for long|much longer"
        r"|for much longer)\b",
    ),
)

THREAT_PATTERNS: tuple[Pattern, ...] = (
    _HARM_PATTERNS + _SURVEILLANCE_PATTERNS + _INTIMIDATION_PATTERNS + _LOCATING_PATTERNS
)
