"""``reviewflow soak``: many reviews, injected faults and duplicate deliveries, then a count.

The claim it checks is architecture.md §1's conservation law: whatever fails on the way, every distinct
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
5. waits until no execution is still running, reads every outcome the tap holds, then counts
   (``soak_report``).

The reviews, duplicates and decisions come from ``soak_reviews``.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Callable, Mapping
from typing import Any

from reviewflow.contracts import INPUT_DETAIL_TYPE
from reviewflow_local.decider import ApprovalDecider, Choice
from reviewflow_local.deployment import ACCOUNT_ID, REGION
from reviewflow_local.pipeline import LocalPipeline, outcome_key
from reviewflow_local.soak_report import SoakReport, check_conservation
from reviewflow_local.soak_reviews import Delivery, decision_for, generate_reviews, plan_deliveries

PUT_BATCH = 10
POLL_SECONDS = 0.5
NOTE_EVERY_SECONDS = 5.0


def run_soak(
    pipeline: LocalPipeline,
    *,
    reviews: int,
    duplicates: int,
    seed: int,
    timeout: float = 1800.0,
    max_in_flight: int = 40,
    progress: Callable[[str], None] | None = None,
) -> SoakReport:
    """Drive a started pipeline through a soak and check the conservation law."""
    started = time.perf_counter()
    deliveries, redeliveries = plan_deliveries(generate_reviews(reviews, seed), duplicates, seed)
    report = SoakReport(reviews=reviews, duplicates=duplicates, fault_plan=pipeline.fault_plan.describe())
    run = _SoakRun(pipeline, seeded_choice(seed), time.monotonic() + timeout, progress)
    run.post(deliveries, max_in_flight)
    report.redeliveries_started = _redeliver(pipeline, _originals_of(deliveries, redeliveries))
    report.expected = len(run.expected)
    report.timed_out = not run.settle()
    report.wall_seconds = time.perf_counter() - started
    report.approvals_decided = run.decider.decided
    report.approval_errors = run.decider.errors
    if pipeline.fault_injector is not None:
        injected = pipeline.fault_injector.injected
        report.faults_injected = Counter({f"{p}:{k}": n for (p, k), n in injected.items()})
    report.executions = Counter(execution["status"] for execution in pipeline.executions())
    check_conservation(report, run.expected, pipeline.flush_outcomes())
    return report


def seeded_choice(seed: int) -> Choice:
    """The soak's reviewer: ``decision_for`` the approval's review and stage."""

    def choose(item: Mapping[str, Any]) -> str:
        return decision_for(seed, str(item.get("review_id")), str(item.get("stage")))

    return choose


class _SoakRun:
    """Posting and waiting, deciding every pending approval on the way."""

    def __init__(
        self,
        pipeline: LocalPipeline,
        choose: Choice,
        deadline: float,
        progress: Callable[[str], None] | None,
    ) -> None:
        self.pipeline = pipeline
        self.decider = ApprovalDecider(
            pipeline.outbox, choose, reviewer="reviewflow soak", comment_prefix="soak"
        )
        self.deadline = deadline
        self.expected: dict[str, str] = {}  # outcome key -> path kind
        self._progress = progress
        self._started = time.perf_counter()
        self._last_note = 0.0

    def post(self, deliveries: list[Delivery], max_in_flight: int) -> None:
        """``PutEvents`` in batches, never more than ``max_in_flight`` reviews unanswered."""
        for offset in range(0, len(deliveries), PUT_BATCH):
            while (
                len(self.expected) - self._answered() >= max_in_flight and time.monotonic() <= self.deadline
            ):
                self._step()
            batch = deliveries[offset : offset + PUT_BATCH]
            ids = self.pipeline.post_reviews([d.detail for d in batch])  # raises on FailedEntryCount
            for delivery, event_id in zip(batch, ids, strict=True):
                delivery.event_id = event_id
                self.expected.setdefault(outcome_key(delivery.detail, event_id), delivery.review.kind)

    def settle(self) -> bool:
        """Wait until no execution runs; False if the deadline came first.

        Once nothing runs, every outcome has reached the tap's queue (publishing is the last
        thing an execution does), and the flush reads it: what is still missing then is lost.
        """
        while self.pipeline.any_running():
            if time.monotonic() > self.deadline:
                return False
            self._step()
        self.pipeline.flush_outcomes()
        return True

    def _step(self) -> None:
        self.decider.decide(self.pipeline.pending_approvals())
        self._note()
        self.pipeline.wait_for_more(self.pipeline.tap.count(), timeout=POLL_SECONDS)

    def _answered(self) -> int:
        return len(
            {str(e["detail"].get("review_id")) for e in self.pipeline.outcomes()} & self.expected.keys()
        )

    def _note(self) -> None:
        if self._progress is not None and time.monotonic() - self._last_note > NOTE_EVERY_SECONDS:
            self._last_note = time.monotonic()
            elapsed = time.perf_counter() - self._started
            self._progress(f"[{elapsed:6.1f}s] {self._answered()}/{len(self.expected)} outcomes")


def _originals_of(deliveries: list[Delivery], redeliveries: list[Delivery]) -> list[Delivery]:
    """The posted original of each redelivery (it carries the event id to redeliver)."""
    first = {d.review.review_id: d for d in deliveries if d.duplicate is None}
    return [first[r.review.review_id] for r in redeliveries]


def _redeliver(pipeline: LocalPipeline, originals: list[Delivery]) -> int:
    """EventBridge's retry of an event already delivered: the rule target's ``StartExecution``
    again, named by the event id. Returns how many *new* executions that started (must be 0)."""
    client = pipeline.client("stepfunctions")
    known = {execution["executionArn"] for execution in pipeline.executions()}
    started = 0
    for delivery in originals:
        try:
            answer = client.start_execution(
                stateMachineArn=pipeline.resources.state_machine_arn,
                name=delivery.event_id,
                input=json.dumps(_event_of(pipeline, delivery)),
            )
        except client.exceptions.ExecutionAlreadyExists:
            continue
        if answer["executionArn"] not in known:
            known.add(answer["executionArn"])
            started += 1
    return started


def _event_of(pipeline: LocalPipeline, delivery: Delivery) -> dict[str, Any]:
    """The event EventBridge delivered for ``delivery``, as its rule target received it."""
    return {
        "version": "0",
        "id": delivery.event_id,
        "detail-type": INPUT_DETAIL_TYPE,
        "source": pipeline.resources.input_source,
        "account": ACCOUNT_ID,
        "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "region": REGION,
        "resources": [],
        "detail": delivery.detail,
    }
