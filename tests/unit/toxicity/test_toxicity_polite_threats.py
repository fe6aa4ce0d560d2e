"""Polite threats, intimidation and doxxing aimed at third parties, scored by the real LocalToxicity.

A review that threatens the shop's staff, its couriers or someone's family in polite words has no
profanity for the model to find; the third-party rules must still send it to a person (uncertain,
score >= 0.4) or stop it (harmful, score > 0.6). The near-misses are ordinary complaints that
share those words ("regret", "hurt", "waiting", "address", "manager") and must stay safe (< 0.4),
so the rules cannot buy recall by holding every angry review. Bands follow architecture.md §1 with
the default thresholds.
"""

from __future__ import annotations

import pytest

from reviewflow.providers.local_toxicity import LocalToxicity, lexicon_scores

LOW, HIGH = 0.4, 0.6
UNCERTAIN, HARMFUL = "uncertain", "harmful"

# (text, the band it must at least reach). Written for this test; none contains a swear word.
THREATS: list[tuple[str, str]] = [
    # surveillance of a person's home, school or routine
    ("If my refund is late again, just remember I know where your manager lives.", HARMFUL),
    ("I know which school your kids go to.", HARMFUL),
    ("Tell your driver I know what car he drives.", HARMFUL),
    ("I know exactly where your delivery driver parks every night.", HARMFUL),
    ("I'll be waiting outside your store tomorrow.", UNCERTAIN),
    ("I will be waiting for your manager after his shift.", HARMFUL),
    ("I've been watching your employees.", UNCERTAIN),
    ("I'm going to follow your courier home.", HARMFUL),
    ("I'll pay your boss a little visit.", UNCERTAIN),
    ("I might pay the owner a visit at his house.", HARMFUL),
    ("I'll show up at your CEO's front door.", HARMFUL),
    ("I know the route your driver takes every morning.", HARMFUL),
    ("I'm going to find out where your agent lives.", HARMFUL),
    # veiled intimidation
    ("It would be a shame if something happened to your delivery guy.", HARMFUL),
    ("It'd be a pity if your kids got hurt on the way to school.", HARMFUL),
    ("Something bad will happen to your staff if this isn't fixed.", HARMFUL),
    ("Something might happen to your manager.", UNCERTAIN),
    ("People like him tend to have accidents.", HARMFUL),
    ("I'd hate for your courier to get hurt.", UNCERTAIN),
    ("I'd hate for something to happen to your family.", UNCERTAIN),
    ("I know people who can deal with your driver.", HARMFUL),
    ("Your boss had better watch his back.", HARMFUL),
    ("Don't be surprised if your driver ends up in the hospital.", HARMFUL),
    ("Tell the owner his family isn't safe.", HARMFUL),
    ("Your employees will get what's coming to them.", HARMFUL),
    ("Your wife should be careful walking home alone.", UNCERTAIN),
    ("I have friends who will visit your warehouse manager.", HARMFUL),
    ("It'd be terrible if your store caught fire one night.", HARMFUL),
    ("Your staff won't be smiling for long.", UNCERTAIN),
    ("Your courier should think twice before coming back to my street.", UNCERTAIN),
    # regret and payback
    ("Your manager will regret it.", UNCERTAIN),
    ("He will regret the day he sold me this.", UNCERTAIN),
    ("Refund me today or you will regret it.", UNCERTAIN),
    ("You'll regret crossing me.", HARMFUL),
    ("I'll make sure he pays for this.", HARMFUL),
    ("The delivery guy will pay dearly.", UNCERTAIN),
    # harm and harassment of people around the shop
    ("I will hurt your driver if he comes back.", HARMFUL),
    ("I'll teach your delivery guy a lesson.", HARMFUL),
    ("I'm coming for your manager.", HARMFUL),
    ("I'm going to make your agent's life a living hell.", HARMFUL),
    ("I will ruin that manager's life.", HARMFUL),
    ("I'm going to call his wife and tell her everything.", UNCERTAIN),
    ("I will keep calling your technician at home.", UNCERTAIN),
    # doxxing
    ("I found the home address of your CEO.", HARMFUL),
    ("I'm going to post his phone number online.", HARMFUL),
    ("Everyone will know where she lives.", HARMFUL),
    ("I've got your courier's license plate and home address.", HARMFUL),
    ("I'll post the owner's address everywhere.", HARMFUL),
    ("I will tell everyone where your agent lives.", HARMFUL),
    ("I'm going to share her photos on social media.", UNCERTAIN),
    ("We will dox the CEO.", HARMFUL),
    # a threat inside an otherwise ordinary complaint
    ("The blender leaks from the base. I have written three times. I know where your owner lives.", HARMFUL),
]

# Ordinary reviews (and shop replies) that share the threats' words and must stay safe.
NEAR_MISSES: list[str] = [
    "Don't buy this, you'll regret buying it.",
    "Buy the bigger size or you'll regret it.",
    "My husband will regret not buying two.",
    "He will regret selling his old one once he tries this.",
    "I got hurt by the sharp edge.",
    "I'd hate for your kids to get hurt by those sharp corners, so sand them first.",
    "Something bad will happen to the battery if you leave it charging overnight.",
    "Something happened to the package in transit.",
    "I would never hurt anyone.",
    "I'll be waiting for my refund.",
    "I'll be waiting outside the store for curbside pickup.",
    "The chair arrived with a broken leg.",
    "The manager was helpful and sorted it out.",
    "I know where the reset button is now.",
    "I know which school my kids go to and this backpack fits their lockers.",
    "I know what car this roof box fits.",
    "My home address was printed wrong on the label.",
    "I found the address of your store on the website.",
    "I'll post a photo of the damage online.",
    "I'm watching him play with it every day.",
    "I have been following your brand for years.",
    "The delivery guy will be sorry to hear the box broke.",
    "The seller will pay for the return shipping.",
    "It would be a shame if this model were discontinued.",
    "It would be a shame if your store closed, the staff are lovely.",
    "I know people who can fix this for half the price.",
    "I have friends who will love this as a gift.",
    "I know the route the bus takes to the depot.",
    "The courier will get hurt lifting a 40 kg box, please split it into two parcels.",
    "Your driver had better watch out for the dog in our yard.",
    "I found the phone number of your support team on the back of the box.",
    "I have his number because he installed our dishwasher last year.",
    "I know where the manager works now, I'll send the return there.",
    "I'll be standing at your store's door at 9 when the sale opens.",
    "The courier said the parcel is safe in the depot.",
    "Your kids will love this slide.",
    "The technician will pay you a visit on Monday to fix the boiler.",
    "We will find your courier's tracking details and call you back.",
    "We will contact the courier and make sure your parcel arrives safely.",
    "Thank you for your review! We're sorry the driver left it in the rain.",
]


@pytest.fixture(scope="module")
def local() -> LocalToxicity:
    return LocalToxicity()


def _score(local: LocalToxicity, text: str) -> float:
    score = local.score(text, "en")
    assert score.scorable is True and score.score is not None
    return score.score


def _reaches(score: float, band: str) -> bool:
    return score > HIGH if band == HARMFUL else score >= LOW


@pytest.mark.parametrize(("text", "band"), THREATS)
def test_polite_third_party_threats_reach_their_band(local: LocalToxicity, text: str, band: str) -> None:
    score = local.score(text, "en")

    assert score.score is not None and _reaches(score.score, band), score.labels
    # The rules alone reach the band: the profanity model's opinion of a word ("hate", "hurt") must
    # not be what holds a threat.
    assert _reaches(max(lexicon_scores(text).values(), default=0.0), band), lexicon_scores(text)


@pytest.mark.parametrize("text", NEAR_MISSES)
def test_ordinary_complaints_sharing_the_words_stay_safe(local: LocalToxicity, text: str) -> None:
    score = local.score(text, "en")

    assert score.score is not None and score.score < LOW, score.labels


def test_corpus_figures(local: LocalToxicity, capsys: pytest.CaptureFixture[str]) -> None:
    caught = sum(_reaches(_score(local, text), band) for text, band in THREATS)
    safe = sum(_score(local, text) < LOW for text in NEAR_MISSES)
    with capsys.disabled():
        print(f"\npolite threats caught {caught}/{len(THREATS)}; near-misses safe {safe}/{len(NEAR_MISSES)}")

    assert len(THREATS) >= 30 and len(NEAR_MISSES) >= 15
    assert (caught, safe) == (len(THREATS), len(NEAR_MISSES))


def test_the_corpus_covers_both_bands_and_every_third_party_label() -> None:
    bands = {band for _, band in THREATS}
    labels = {label for text, _ in THREATS for label in lexicon_scores(text)}

    assert bands == {UNCERTAIN, HARMFUL}
    assert {"VIOLENCE_OR_THREAT", "HARASSMENT_OR_ABUSE"} <= labels


@pytest.mark.parametrize(
    ("sentence", "label", "expected"),
    [
        # clear intimidation: above the high threshold
        ("I know where your manager lives", "VIOLENCE_OR_THREAT", 0.9),
        ("I know which school your kids go to", "VIOLENCE_OR_THREAT", 0.75),
        ("it would be a shame if something happened to your delivery guy", "VIOLENCE_OR_THREAT", 0.7),
        ("people like him tend to have accidents", "VIOLENCE_OR_THREAT", 0.65),
        ("I\u2019ll make sure he pays for this", "VIOLENCE_OR_THREAT", 0.65),  # curly apostrophe
        ("I found the home address of your CEO", "HARASSMENT_OR_ABUSE", 0.7),
        ("I'm going to post his phone number online", "HARASSMENT_OR_ABUSE", 0.75),
        ("everyone will know where she lives", "HARASSMENT_OR_ABUSE", 0.75),
        # an innocent reading exists: inside the uncertain band, a person decides
        ("I'll be waiting outside your store", "VIOLENCE_OR_THREAT", 0.55),
        ("I'd hate for your courier to get hurt", "VIOLENCE_OR_THREAT", 0.55),
        ("he will regret it", "VIOLENCE_OR_THREAT", 0.5),
        ("refund me or you will regret it", "VIOLENCE_OR_THREAT", 0.5),
        ("I have his address", "HARASSMENT_OR_ABUSE", 0.55),
    ],
)
def test_third_party_scores_are_chosen_per_frame(sentence: str, label: str, expected: float) -> None:
    assert lexicon_scores(sentence).get(label) == expected


@pytest.mark.parametrize(
    "sentence",
    [
        "I would never post his address online",
        "I'm not going to hurt your driver",
        "I will never make his life hell",
        "We won't share your courier's home address",
        "I don't know where your manager lives",
        "I might never pay the owner a visit",
        "Nothing bad will happen to your driver",
        "I know which school my kids go to",
        "something bad will happen to my back if I keep lifting this",
    ],
)
def test_negated_forms_and_the_writers_own_people_match_no_rule(sentence: str) -> None:
    assert lexicon_scores(sentence) == {}
