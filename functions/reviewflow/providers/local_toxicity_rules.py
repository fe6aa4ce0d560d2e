"""The rule labels and the rule patterns of the offline toxicity classifier.

The profanity model scores words, so it cannot see a threat or an insult written in polite
words. The patterns here carry what it misses: "I know where you live", "kill yourself", "the
seller is a moron". They live apart from the provider so the lexicon can grow without pushing
the provider's own code past a readable size.

Each pattern is ``(label, score, regex)`` and carries a fixed score rather than a learned one, so
a reviewer can read why a text was held: severe patterns score above the default high threshold
(0.6), mild ones inside the uncertain band. Sentences reach the patterns with whitespace collapsed
and curly apostrophes straightened; matching ignores case.
"""

from __future__ import annotations

VIOLENCE_OR_THREAT = "VIOLENCE_OR_THREAT"
HARASSMENT_OR_ABUSE = "HARASSMENT_OR_ABUSE"
INSULT = "INSULT"

Pattern = tuple[str, float, str]

# Who a threat is aimed at: people only. Possessives ("your") are left out on purpose: a reply
# saying "we'll beat your price" is not a threat; threats to property have their own pattern.
TARGET = (
    r"(?:you|u|ya|you guys|you people|him|her|them|the seller|this seller|that seller"
    r"|the owner|the staff|the manager|everyone)"
)
HARM = r"(?:kill|hurt|murder|shoot|stab|beat up|beat|punch|strangle|choke|burn|hunt down|come for|come after)"
# "I will", "we'll", "I'm going to", "I am gonna", ... followed by up to two non-negated words.
INTENT_VERBS = r"(?:'ll| will| shall|'m going to| am going to|'m gonna| am gonna| gonna| want to| wanna)"
NOT_NEGATED = r" (?:(?!never\b|not\b|n't\b)[a-z]+ ){0,2}?"
SPEAKER_INTENT = r"\b(?:i|we)" + INTENT_VERBS + NOT_NEGATED

_INSULT_SUBJECT = (
    r"\b(?:you|you're|you are|u r|ur|(?:the |this |that )?(?:seller|owner|manager|staff|support team"
    r"|customer service|company|people)(?: here)?(?: is| are|'s)|(?:he|she|they)(?: is| are|'s|'re)"
    r"|these people are|those people are)"
)
_QUALIFIERS = r"(?: (?:such|a|an|total|complete|absolute|utter|bunch of|just|real|bloody|so|truly|really))*"

DIRECT_PATTERNS: tuple[Pattern, ...] = (
    # --- threats
    (VIOLENCE_OR_THREAT, 0.92, r"\bi know where you (?:live|work|sleep)\b"),
    (VIOLENCE_OR_THREAT, 0.9, SPEAKER_INTENT + HARM + r" " + TARGET + r"\b"),
    (
        VIOLENCE_OR_THREAT,
        0.9,
        SPEAKER_INTENT + r"find (?:you|u|ya)(?=\s*(?:$|[.!,;]|and\b|wherever\b|anywhere\b))",
    ),
    (VIOLENCE_OR_THREAT, 0.85, r"\b(?:better )?watch your back\b"),
    (VIOLENCE_OR_THREAT, 0.85, r"\b(?:i'm|i am|we're|we are) coming (?:for|after) you\b"),
    (
        VIOLENCE_OR_THREAT,
        0.85,
        r"\b(?:burn|torch|blow up|smash up) (?:down )?(?:your|the seller's|their|his|her) "
        r"(?:house|home|store|shop|warehouse|office|car|place|business)\b",
    ),
    (
        VIOLENCE_OR_THREAT,
        0.85,
        r"\b(?:deserves?|should|ought) (?:to )?(?:die|be (?:beaten|shot|stabbed|hurt|killed|hanged|hung"
        r"|burned|punched|strangled))\b",
    ),
    # --- harassment and abuse
    (HARASSMENT_OR_ABUSE, 0.95, r"\b(?:kill|hang|hurt) (?:yourself|yourselves|urself)\b|\bkys\b"),
    (HARASSMENT_OR_ABUSE, 0.9, r"\bgo (?:and )?die\b|\bdrop dead\b"),
    (
        HARASSMENT_OR_ABUSE,
        0.85,
        r"\bi hope (?:you|u|he|she|they|the seller|the owner|your \w+)"
        r" (?:\w+ )?(?:die|dies|suffer|suffers|rot|rots|burn|burns|get hurt|gets hurt|get cancer)\b",
    ),
    (
        HARASSMENT_OR_ABUSE,
        0.85,
        r"\b(?:you|you people|they|these people|those people|the staff|the seller|the owner)"
        r"(?: are| is|'re)(?: \w+){0,2} (?:subhuman|vermin|animals|parasites|cockroaches|rats|scum)\b",
    ),
    (HARASSMENT_OR_ABUSE, 0.8, r"\b(?:a )?waste of (?:space|oxygen|air|skin)\b"),
    (HARASSMENT_OR_ABUSE, 0.8, r"\bnobody (?:wants|likes|loves|cares about|would miss) (?:you|u)\b"),
    (HARASSMENT_OR_ABUSE, 0.75, r"\bworthless (?:human|person|people|loser|piece of)\b"),
    (HARASSMENT_OR_ABUSE, 0.45, r"\bshut up\b"),
    # --- insults aimed at people
    (
        INSULT,
        0.75,
        _INSULT_SUBJECT + _QUALIFIERS + r" (?:idiots?|morons?|imbeciles?|cretins?|halfwits?|dimwits?"
        r"|degenerates?|lowlifes?|scumbags?|dumbasses?)\b",
    ),
    (
        INSULT,
        0.5,
        _INSULT_SUBJECT + _QUALIFIERS + r" (?:clowns?|fools?|amateurs?|jokers?|losers?|crooks?|liars?"
        r"|thieves|thief|scammers?|frauds?|con artists?|a joke|a disgrace|a bunch of \w+)\b",
    ),
    (
        INSULT,
        0.48,
        _INSULT_SUBJECT + r"(?: \w+)? (?:useless|incompetent|clueless|rude|lazy|hopeless|pathetic"
        r"|shameless|brainless|spineless)\b",
    ),
)
