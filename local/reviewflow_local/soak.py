"""``reviewflow soak``: many reviews, injected faults and duplicate deliveries, then a count.

The claim it checks is DESIGN §1's conservation law: whatever fails on the way, every distinct
review id that enters the pipeline ends in exactly one outcome event, none twice, and every
failure says why. The run is deterministic for a seed (reviews, duplicates, decisions, faults);
only the interleaving of concurrent executions varies.

What a run does:

1. generates N reviews covering every path of the flow (safe, harmful, uncertain review,
   uncertain reply, toxic reply, non-English, invalid), with texts the offline classifier puts
   in the intended band;
2. adds D duplicate deliveries of valid reviews: the same detail posted again (a storefront
   retry), the same review id with edited text, and a redelivery of the very same event (the
   rule target's ``StartExecution`` with the event id as execution name, as EventBridge's
   at-least-once retry would send it), shuffled among the originals so that some race them;
3. posts them with ``PutEvents`` in batches of 10, checking ``FailedEntryCount``, keeping at
   most ``max_in_flight`` reviews without an outcome (moto's interpreter parses the definition
   again for every execution, on a thread of its own: a thousand at once only thrash the GIL);
4. decides every pending approval through its emailed link (a seeded approve/reject mix), while
   posting and afterwards;
5. waits until every expected review has an outcome and no execution is still running, then
   counts.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import random
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from reviewflow.domain.validation import dedup_key
from reviewflow_local import reviewer
from reviewflow_local.stack import INPUT_DETAIL_TYPE, LocalStack

CREATED, HARMFUL, FAILED = (
    "NEW_REVIEW_RESPONSE_CREATED",
    "HARMFUL_CONTENT_DETECTED",
    "RESPONSE_GENERATION_FAILED",
)
SHORT = {CREATED: "created", HARMFUL: "harmful", FAILED: "failed"}

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
APPROVE_SHARE = 0.7
IDLE_GRACE_SECONDS = 10.0

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
    digest = hashlib.sha256(f"{seed}:{review_id}:{stage}".encode()).digest()
    return "APPROVED" if digest[0] / 256 < APPROVE_SHARE else "REJECTED"


@dataclass
class SoakReport:
    reviews: int
    duplicates: int
    fault_plan: str
    expected: int = 0
    outcomes: int = 0
    by_outcome: Counter[str] = field(default_factory=Counter)
    by_kind: dict[str, Counter[str]] = field(default_factory=dict)
    lost: list[str] = field(default_factory=list)
    duplicated: list[str] = field(default_factory=list)
    unexpected: list[str] = field(default_factory=list)
    without_reason: list[str] = field(default_factory=list)
    wrong_outcome: list[str] = field(default_factory=list)
    executions: Counter[str] = field(default_factory=Counter)
    redeliveries_started: int = 0
    approvals_decided: Counter[str] = field(default_factory=Counter)
    approval_errors: list[str] = field(default_factory=list)
    faults_injected: Counter[str] = field(default_factory=Counter)
    wall_seconds: float = 0.0
    timed_out: bool = False

    @property
    def violations(self) -> list[str]:
        found = []
        for name, items in (
            ("lost (no outcome)", self.lost),
            ("duplicated (more than one outcome)", self.duplicated),
            ("outcome for a review never posted", self.unexpected),
            ("failure without a reason", self.without_reason),
            ("outcome impossible for its path", self.wrong_outcome),
            ("approval link did not decide", self.approval_errors),
        ):
            if items:
                found.append(f"{name}: {len(items)} (e.g. {', '.join(items[:5])})")
        if self.redeliveries_started:
            found.append(f"redelivered events started {self.redeliveries_started} new execution(s)")
        if self.executions.get("FAILED") or self.executions.get("RUNNING"):
            found.append(f"executions not ended cleanly: {dict(self.executions)}")
        if self.timed_out:
            found.append("the run timed out before every review had an outcome")
        return found

    @property
    def ok(self) -> bool:
        return not self.violations

    def as_dict(self) -> dict[str, Any]:
        return {
            "reviews": self.reviews,
            "duplicates": self.duplicates,
            "fault_plan": self.fault_plan,
            "expected": self.expected,
            "outcome_events": self.outcomes,
            "by_outcome": dict(self.by_outcome),
            "by_path": {kind: dict(counts) for kind, counts in self.by_kind.items()},
            "lost": len(self.lost),
            "duplicated": len(self.duplicated),
            "executions": dict(self.executions),
            "approvals_decided": dict(self.approvals_decided),
            "faults_injected": dict(self.faults_injected),
            "wall_seconds": round(self.wall_seconds, 1),
            "violations": self.violations,
        }

    def table(self) -> str:
        lines = [
            f"soak: {self.reviews} reviews + {self.duplicates} duplicate deliveries",
            f"faults: {self.fault_plan}",
            "",
            f"{'outcome (reason)':<44}{'count':>7}",
            "-" * 51,
        ]
        for key, count in sorted(self.by_outcome.items()):
            lines.append(f"{key:<44}{count:>7}")
        lines.append("-" * 51)
        lines.append(f"{'distinct reviews expected':<44}{self.expected:>7}")
        lines.append(f"{'outcome events':<44}{self.outcomes:>7}")
        lines.append(f"{'lost':<44}{len(self.lost):>7}")
        lines.append(f"{'duplicated':<44}{len(self.duplicated):>7}")
        lines.append(f"{'failures without a reason':<44}{len(self.without_reason):>7}")
        lines.append("")
        lines.append(
            "by path: "
            + "; ".join(
                f"{kind} " + ", ".join(f"{k}={n}" for k, n in sorted(c.items()))
                for kind, c in sorted(self.by_kind.items())
            )
        )
        lines.append(
            "executions: "
            + ", ".join(f"{k}={n}" for k, n in sorted(self.executions.items()))
            + f"; approvals decided: {dict(self.approvals_decided)}"
        )
        if self.faults_injected:
            lines.append(
                "faults injected: " + ", ".join(f"{k}={n}" for k, n in sorted(self.faults_injected.items()))
            )
        lines.append(f"wall time: {self.wall_seconds:.1f} s")
        lines.append("result: " + ("OK" if self.ok else "VIOLATED\n  " + "\n  ".join(self.violations)))
        return "\n".join(lines)


# Which outcomes each path may end in. Any path may fail with provider_error when faults exhaust
# the retries; the others follow from the flow in DESIGN §1 and the reviewer's decisions.
_ALLOWED: dict[str, set[str]] = {
    "safe": {"created"},
    "harmful": {"harmful"},
    "uncertain_review": {"created", "harmful", "failed (response_rejected)", "failed (response_toxic)"},
    "uncertain_reply": {"created", "failed (response_rejected)"},
    "toxic_reply": {"failed (response_toxic)"},
    "non_english": {"created", "harmful", "failed (response_rejected)", "failed (response_toxic)"},
    "invalid": {"failed (invalid_review)"},
}


def outcome_label(event: dict[str, Any]) -> str:
    label = SHORT.get(event.get("detail-type", ""), str(event.get("detail-type")))
    reason = event.get("detail", {}).get("reason")
    return f"{label} ({reason})" if reason else label


class ApprovalDecider:
    """Opens each emailed approval link like a browser and approves or rejects (seeded)."""

    def __init__(self, stack: LocalStack, seed: int) -> None:
        self.stack = stack
        self.seed = seed
        self.handled: set[str] = set()
        self.decided: Counter[str] = Counter()
        self.errors: list[str] = []

    def poll(self) -> int:
        pending = {a["approval_id"]: a for a in self.stack.pending_approvals()}
        done = 0
        for message in self.stack.outbox.messages():
            approval_id = message.approval_id
            if not approval_id or approval_id in self.handled or approval_id not in pending:
                continue
            self.handled.add(approval_id)
            item = pending[approval_id]
            decision = decision_for(self.seed, str(item.get("review_id")), str(item.get("stage")))
            for link in message.approval_links[:1]:
                try:
                    _, result = reviewer.decide(
                        link, decision, reviewer="reviewflow soak", comment=f"soak {decision.lower()}"
                    )
                except Exception as exc:
                    self.errors.append(f"{approval_id}: {type(exc).__name__}")
                    continue
                if result.status != 200:
                    self.errors.append(f"{approval_id}: HTTP {result.status}")
                    continue
                self.decided[decision] += 1
                done += 1
        return done


def run_soak(
    stack: LocalStack,
    *,
    reviews: int,
    duplicates: int,
    seed: int,
    timeout: float = 1800.0,
    max_in_flight: int = 40,
    progress: Callable[[str], None] | None = None,
) -> SoakReport:
    """Drive a started stack through a soak and check the conservation law."""
    started = time.perf_counter()
    generated = generate_reviews(reviews, seed)
    deliveries, redeliveries = plan_deliveries(generated, duplicates, seed)
    report = SoakReport(reviews=reviews, duplicates=duplicates, fault_plan=stack.fault_plan.describe())

    decider = ApprovalDecider(stack, seed)
    deadline = time.monotonic() + timeout
    expected: dict[str, str] = {}  # outcome key -> path kind
    last_note = 0.0

    def note(force: bool = False) -> None:
        nonlocal last_note
        if progress is not None and (force or time.monotonic() - last_note > 5):
            last_note = time.monotonic()
            answered = len(_answered(stack, expected))
            progress(f"[{time.perf_counter() - started:6.1f}s] {answered}/{len(expected)} outcomes")

    for offset in range(0, len(deliveries), 10):
        while len(expected) - len(_answered(stack, expected)) >= max_in_flight:
            if time.monotonic() > deadline:
                break
            decider.poll()
            note()
            seen = len(stack.outcomes())
            with contextlib.suppress(TimeoutError):
                stack.wait_for(lambda current, seen=seen: len(current) > seen, timeout=0.5)  # type: ignore[misc]
        batch = deliveries[offset : offset + 10]
        ids = stack.post_reviews([d.detail for d in batch])  # raises on FailedEntryCount
        for delivery, event_id in zip(batch, ids, strict=True):
            delivery.event_id = event_id
            expected.setdefault(
                dedup_key({"id": event_id, "detail": delivery.detail}, ""), delivery.review.kind
            )
    first_event = {}
    for delivery in deliveries:
        if delivery.duplicate is None:
            first_event[delivery.review.review_id] = delivery
    report.redeliveries_started = _redeliver(stack, [first_event[r.review.review_id] for r in redeliveries])

    report.expected = len(expected)

    idle_since: float | None = None
    while True:
        decider.poll()
        events = stack.outcomes()
        if _nothing_running(stack):
            if len(_answered(stack, expected)) == len(expected):
                break
            # Every execution ended but some review has no outcome: it is lost, not late. Give
            # the outcome tap a moment, then stop waiting and report it.
            idle_since = idle_since or time.monotonic()
            if time.monotonic() - idle_since > IDLE_GRACE_SECONDS:
                break
        else:
            idle_since = None
        if time.monotonic() > deadline:
            report.timed_out = True
            break
        note()
        seen = len(events)
        with contextlib.suppress(TimeoutError):
            stack.wait_for(lambda current, seen=seen: len(current) > seen, timeout=0.5)  # type: ignore[misc]

    report.wall_seconds = time.perf_counter() - started
    report.approvals_decided = decider.decided
    report.approval_errors = decider.errors
    if stack.fault_injector is not None:
        report.faults_injected = Counter(
            {f"{p}:{k}": n for (p, k), n in stack.fault_injector.injected.items()}
        )
    for execution in stack.executions():
        report.executions[execution["status"]] += 1
    check_conservation(report, expected, stack.outcomes())
    return report


def check_conservation(report: SoakReport, expected: dict[str, str], events: list[dict[str, Any]]) -> None:
    """Fill the report's counts and violations from the outcome events."""
    per_key: dict[str, list[dict[str, Any]]] = {}
    for event in events:
        per_key.setdefault(str(event["detail"].get("review_id")), []).append(event)
    report.outcomes = len(events)
    for key, kind in sorted(expected.items()):
        found = per_key.get(key, [])
        if not found:
            report.lost.append(key)
            continue
        if len(found) > 1:
            report.duplicated.append(key)
        label = outcome_label(found[0])
        report.by_outcome[label] += 1
        report.by_kind.setdefault(kind, Counter())[label] += 1
        if label not in _ALLOWED[kind] | {"failed (provider_error)"}:
            report.wrong_outcome.append(f"{key}={label}")
    report.unexpected = sorted(set(per_key) - expected.keys())
    for event in events:
        detail = event["detail"]
        if event["detail-type"] == FAILED and not (detail.get("reason") and detail.get("message")):
            report.without_reason.append(str(detail.get("review_id")))


def _answered(stack: LocalStack, expected: dict[str, str]) -> set[str]:
    return {str(e["detail"].get("review_id")) for e in stack.outcomes()} & expected.keys()


def _nothing_running(stack: LocalStack) -> bool:
    client = stack.client("stepfunctions")
    answer = client.list_executions(
        stateMachineArn=stack.resources.state_machine_arn, statusFilter="RUNNING", maxResults=1
    )
    return not answer["executions"]


def _redeliver(stack: LocalStack, originals: list[Delivery]) -> int:
    """EventBridge's retry of an event already delivered: the rule target's ``StartExecution``
    again, named by the event id. Returns how many *new* executions that started (must be 0)."""
    client = stack.client("stepfunctions")
    started = 0
    for delivery in originals:
        event = {
            "version": "0",
            "id": delivery.event_id,
            "detail-type": INPUT_DETAIL_TYPE,
            "source": stack.resources.input_source,
            "account": "123456789012",
            "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "region": "us-east-1",
            "resources": [],
            "detail": delivery.detail,
        }
        before = _execution_arns(stack, delivery.event_id)
        try:
            answer = client.start_execution(
                stateMachineArn=stack.resources.state_machine_arn,
                name=delivery.event_id,
                input=json.dumps(event),
            )
        except client.exceptions.ExecutionAlreadyExists:
            continue
        if answer["executionArn"] not in before:
            started += 1
    return started


def _execution_arns(stack: LocalStack, name: str) -> set[str]:
    return {e["executionArn"] for e in stack.executions() if e["name"] == name}
