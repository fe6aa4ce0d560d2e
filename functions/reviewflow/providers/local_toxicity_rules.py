"""The rule labels, the shared regex fragments and the direct-address patterns.

The profanity model scores words, so it cannot see a threat or an insult written in polite
words. The patterns here carry what it misses when the writer speaks *to* someone: "I know where
you live", "kill yourself", "the seller is a moron". Threats, intimidation and doxxing aimed at a
third person (staff, couriers, family) are in ``local_toxicity_threats`` and
``local_toxicity_doxxing``; the fragments they share (who counts as a person, who is speaking,
what makes harm the product's fault) are defined here once, so the families cannot drift apart.

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
# The same, for acts a shop's reply could describe harmlessly in the first person plural
# ("we'll find your courier", "we'll show up at your door"): only a customer's "I" counts.
I_INTENT = r"\bi" + INTENT_VERBS + NOT_NEGATED
# The end of a clause: what a short threat ("I will find you.") is followed by.
CLAUSE_END = r"(?=\s*(?:$|[.!,;:]))"

# --- aimed at a third person (used by local_toxicity_threats and local_toxicity_doxxing)

# People a threat can reach through the shop: its staff, the people who deliver for it, and
# anyone's family. Objects ("the package", "the battery") are deliberately absent.
ROLE = (
    r"(?:manager|managers|staff|staffer|staff members?|driver|drivers|courier|couriers|delivery (?:guy|guys"
    r"|man|men|boy|girl|woman|driver|drivers|person|people)|postman|mailman|owner|owners|ceo|boss|bosses"
    r"|founder|employees?|workers?|agents?|reps?|representatives?|cashiers?|clerks?|technicians?"
    r"|installers?|seller|family|families|kids|children|child|sons?|daughters?|wife|husband|partner"
    r"|girlfriend|boyfriend|mother|mom|mum|father|dad|parents|brother|sister|people)"
)
# "your manager", "the delivery guy", "his wife", "your warehouse manager", "the store's owner",
# "your manager's kids". Never "my"/"our": a reviewer's own family is not a target.
PERSON = rf"(?:your|his|her|their|the|that|this|those|these) (?:[a-z']+ )??(?:{ROLE}'s )?{ROLE}\b"
SUBJECT = rf"\b(?:he|she|{PERSON})"
SUBJECT_ANY = rf"\b(?:he|she|they|{PERSON})"
OBJECT = rf"(?:him|her|them|{PERSON})"
OBJECT_ANY = rf"(?:you|him|her|them|{PERSON})"
POSSESSIVE = rf"(?:his|her|their|{PERSON}'s)"
# A visit or an appearance is as menacing announced as a possibility ("I might pay him a visit").
SPEAKER_MAYBE = rf"\b(?:i|we)(?:{INTENT_VERBS}| might| may| could)" + NOT_NEGATED
WILL = (
    r"(?:'ll| will| is going to| are going to|'s going to|'re going to|'s gonna|'re gonna| is gonna"
    r"| are gonna| gonna)"
)
# What follows harm that comes from the product or the job rather than the writer: "... get hurt
# by the sharp corners", "... lifting a 40 kg box", "... if they use it", "... with this heater".
NOT_FROM_PRODUCT = (
    r"(?! (?:by|using|with|from|because|[a-z]+ing)\b"
    r"| (?:if|when|while) (?:you|they|he|she|it|kids|children) (?:use|uses|touch|touches|play|plays"
    r"|ride|rides|leave|leaves|plug|plugs|sit|sits|eat|eats|open|opens)\b)"
)
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
