"""The reviews, duplicate deliveries and approval decisions of a soak, all fixed by its seed.

Reviews cover every path of the flow (safe, harmful, uncertain review, uncertain reply, toxic
reply, non-English, invalid) with texts the offline classifier puts in the intended band, and
differ from one review to the next (fault draws are keyed by text). Duplicates are the same
detail posted again (a storefront retry), the same review id with edited text, and a redelivery
of the very same event (EventBridge's at-least-once retry), shuffled among the originals so that
some race them.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

# How often each path appears (weights; the first reviews cycle through every kind once).
KIND_WEIGHTS: dict[str, int] = {
    "safe": 35,
    "harmful": 10,
    "uncertain_review": 15,
    "uncertain_reply": 10,
    "toxic_reply": 10,
    "non_english": 10,
    "invalid": 10,
}
DUPLICATE_KINDS = ("repost", "edited", "redelivery")
#: Share of approvals a soak approves (the rest it rejects).
APPROVE_SHARE = 0.7

_SAFE = [
    "Boils quickly and the handle stays cool.",
    "Arrived on time and works as described.",
    "The battery easily lasts a full week.",
    "Comfortable to hold and easy to clean.",
    "Setup took five minutes and the manual was clear.",
    "Good value for the price, I would buy it again.",
    "The colour matches the photos exactly.",
    "Quiet, sturdy and simple to use.",
    "It fits neatly on a small kitchen counter.",
    "My daughter uses it every day without trouble.",
    "Packaging was minimal and fully recyclable.",
    "The instructions were short but enough.",
]
_HARMFUL = [
    "This is shit and the seller is a fucking idiot.",
    "Absolute fucking garbage, what a shit product.",
    "The seller is a fucking moron who sells shit.",
    "Fuck this company and their shitty support.",
]
_MILD = [
    "This toaster sucks.",
    "What a load of crap.",
    "The lid is junk and the hinge sucks.",
    "Honestly the handle is crap.",
]
_NEUTRAL_TAIL = [
    "Burns one side and leaves the other pale.",
    "The cable is too short for my desk.",
    "It took a week to arrive.",
    "The buttons are hard to press.",
    "It is louder than I expected.",
    "The box was dented on arrival.",
]
_FOREIGN = [
    ("de", "Der Wasserkocher ist schnell und leise."),
    ("de", "Die Lieferung kam pünktlich und alles funktioniert."),
    ("fr", "La bouilloire chauffe vite et reste silencieuse."),
    ("fr", "Très bon rapport qualité prix, je recommande."),
    ("es", "Llegó a tiempo y funciona muy bien."),
    ("it", "Il prodotto è arrivato presto e funziona bene."),
]
_INVALID: list[Callable[[str], dict[str, Any]]] = [
    lambda rid: {"review_id": rid, "product_id": "p-1", "review_text": "   ", "rating": 9},
    lambda rid: {"review_id": rid, "review_text": "No product id here."},
    lambda rid: {"review_id": rid, "product_id": "p-1", "review_text": "ok", "rating": 0},
    lambda rid: {"review_id": rid, "product_id": "p-1", "review_text": "x" * 20_001},
    lambda rid: {"review_id": rid, "product_id": "p-1", "review_text": "fine", "is_admin": True},
    lambda rid: {"review_id": f"../{rid}/..", "product_id": "p-1", "review_text": "Path characters."},
    lambda rid: {"review_id": rid, "product_id": "p-1", "review_text": "fine", "language": "xx"},
]


@dataclass(frozen=True)
class GeneratedReview:
    kind: str
    detail: dict[str, Any]

    @property
    def review_id(self) -> str:
        return str(self.detail.get("review_id"))


def generate_reviews(count: int, seed: int) -> list[GeneratedReview]:
    """``count`` reviews for every path; texts differ from one review to the next."""
    rng = random.Random(f"reviews:{seed}")  # noqa: S311 - test data, not crypto
    kinds = list(KIND_WEIGHTS)
    drawn = kinds[: min(count, len(kinds))] + rng.choices(
        kinds, weights=list(KIND_WEIGHTS.values()), k=max(0, count - len(kinds))
    )
    return [_review(kind, f"soak-{seed}-{index:05d}", index, rng) for index, kind in enumerate(drawn)]


def _review(kind: str, review_id: str, index: int, rng: random.Random) -> GeneratedReview:
    product = f"prod-{index % 97}"
    order = f"Order {index}."
    safe = " ".join(rng.sample(_SAFE, 2))
    detail: dict[str, Any] = {"review_id": review_id, "product_id": product, "rating": rng.randint(1, 5)}
    if kind == "safe":
        detail.update(review_text=f"{safe} {order}", reviewer_name=rng.choice(["Maria", "Sam", "Jo"]))
    elif kind == "harmful":
        detail.update(review_text=f"{rng.choice(_HARMFUL)} {order}", rating=1)
    elif kind == "uncertain_review":
        detail.update(review_text=f"{rng.choice(_MILD)} {rng.choice(_NEUTRAL_TAIL)} {order}", rating=2)
    elif kind == "uncertain_reply":
        # The offline responder greets the reviewer by name: a rude name makes the reply uncertain.
        detail.update(review_text=f"{safe} {order}", reviewer_name="Damn Hell", product_name="Classic Mug")
    elif kind == "toxic_reply":
        # ... and repeats the product name: a profane one makes the reply harmful.
        detail.update(review_text=f"{safe} {order}", product_name="Shit Happens Fucking Shirt")
    elif kind == "non_english":
        language, text = rng.choice(_FOREIGN)
        detail.update(review_text=f"{text} Bestellung {index}.", language=language)
    elif kind == "invalid":
        detail = _INVALID[index % len(_INVALID)](review_id)
    else:  # pragma: no cover - KIND_WEIGHTS and this function change together
        raise ValueError(kind)
    return GeneratedReview(kind, detail)


@dataclass
class Delivery:
    """One ``PutEvents`` entry (or a redelivery of an earlier one)."""

    review: GeneratedReview
    detail: Any
    duplicate: str | None = None  # None for the original, else one of DUPLICATE_KINDS
    event_id: str = ""


def plan_deliveries(
    reviews: list[GeneratedReview], duplicates: int, seed: int
) -> tuple[list[Delivery], list[Delivery]]:
    """Originals and duplicates, shuffled together; redeliveries come back separately (they need
    the event id the original got)."""
    rng = random.Random(f"duplicates:{seed}")  # noqa: S311 - test data, not crypto
    deliveries = [Delivery(review, review.detail) for review in reviews]
    candidates = [r for r in reviews if r.kind != "invalid"]
    redeliveries: list[Delivery] = []
    for index in range(duplicates if candidates else 0):
        review = rng.choice(candidates)
        kind = DUPLICATE_KINDS[index % len(DUPLICATE_KINDS)]
        if kind == "repost":
            deliveries.append(Delivery(review, dict(review.detail), "repost"))
        elif kind == "edited":
            edited = dict(review.detail, review_text=f"{review.detail['review_text']} Edited later.")
            deliveries.append(Delivery(review, edited, "edited"))
        else:
            redeliveries.append(Delivery(review, review.detail, "redelivery"))
    originals, rest = deliveries[: len(reviews)], deliveries[len(reviews) :]
    for duplicate in rest:  # each duplicate lands somewhere after its original
        position = next(i for i, d in enumerate(originals) if d.review is duplicate.review)
        originals.insert(rng.randint(position + 1, len(originals)), duplicate)
    return originals, redeliveries


def decision_for(seed: int, review_id: str, stage: str) -> str:
    """The soak's reviewer: approves ~70 %, the same way for the same review and stage."""
    digest = hashlib.sha256(f"{seed}:{review_id}:{stage}".encode()).digest()
    return "APPROVED" if digest[0] / 256 < APPROVE_SHARE else "REJECTED"
