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

The driver's work per poll does not grow with the run: it reads only the outcomes and emails
that arrived since the last poll (each approval then looked up by id, never the table scanned),
keeps a running count of answered reviews, and asks whether executions still run only when
nothing has arrived for a while or every review is answered. It wakes as soon as an outcome or
an email arrives rather than on a timer.

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
#: Longest wait for an outcome or an email before the driver looks at the executions.
POLL_SECONDS = 0.5
#: Wait between looks once every review is answered (only duplicates can still be running).
TAIL_POLL_SECONDS = 0.02
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
    """Drive a started pipeline through a soak and check the conservation law.

    Only this run's outcomes and executions are counted, so a pipeline may serve several soaks
    one after the other (a benchmark warms up with one); nothing else may post meanwhile.
    """
    started = time.perf_counter()
    outcomes_before = len(pipeline.flush_outcomes())
    executions_before = Counter(execution["status"] for execution in pipeline.executions())
    faults_before = _faults_injected(pipeline)
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
    report.faults_injected = _faults_injected(pipeline)
    report.faults_injected.subtract(faults_before)
    report.faults_injected = +report.faults_injected
    report.executions = Counter(execution["status"] for execution in pipeline.executions())
    report.executions.subtract(executions_before)
    report.executions = +report.executions  # drop the statuses this run added nothing to
    check_conservation(report, run.expected, pipeline.flush_outcomes()[outcomes_before:])
    return report


def _faults_injected(pipeline: LocalPipeline) -> Counter[str]:
    if pipeline.fault_injector is None:
        return Counter()
    return Counter({f"{p}:{k}": n for (p, k), n in pipeline.fault_injector.injected.items()})


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
        self._answered: set[str] = set()  # outcome keys seen (a subset of ``expected``'s)
        self._outcomes_read = pipeline.tap.count()
        self._activity = pipeline.activity()
        self._progress = progress
        self._started = time.perf_counter()
        self._last_note = 0.0

    def post(self, deliveries: list[Delivery], max_in_flight: int) -> None:
        """``PutEvents`` in batches, never more than ``max_in_flight`` reviews unanswered."""
        for offset in range(0, len(deliveries), PUT_BATCH):
            while self._in_flight() >= max_in_flight and time.monotonic() <= self.deadline:
                self._step(POLL_SECONDS)
            batch = deliveries[offset : offset + PUT_BATCH]
            ids = self.pipeline.post_reviews([d.detail for d in batch])  # raises on FailedEntryCount
            for delivery, event_id in zip(batch, ids, strict=True):
                delivery.event_id = event_id
                self.expected.setdefault(outcome_key(delivery.detail, event_id), delivery.review.kind)

    def settle(self) -> bool:
        """Wait until no execution runs; False if the deadline came first.

        Once nothing runs, every outcome has reached the tap's queue (publishing is the last
        thing an execution does), and the flush reads it: what is still missing then is lost.
        Whether anything runs is asked only when every review is answered (then only duplicate
        deliveries may still be finishing) or when a whole poll brought nothing new.
        """
        while True:
            if time.monotonic() > self.deadline:
                return False
            self._take_outcomes()
            everything_answered = len(self._answered) >= len(self.expected)
            if everything_answered and not self.pipeline.any_running():
                break
            arrived = self._step(TAIL_POLL_SECONDS if everything_answered else POLL_SECONDS)
            if not arrived and not self.pipeline.any_running():
                break
        self.pipeline.flush_outcomes()
        self._take_outcomes()
        return True

    def _step(self, wait_seconds: float) -> bool:
        """Decide new approvals, then wait for the next outcome or email (True if one came)."""
        self.decider.decide_sent(self.pipeline.emails_sent(), self.pipeline.pending_approval)
        self._note()
        seen, self._activity = self._activity, self.pipeline.wait_for_activity(self._activity, wait_seconds)
        return self._activity != seen

    def _in_flight(self) -> int:
        self._take_outcomes()
        return len(self.expected) - len(self._answered)

    def _take_outcomes(self) -> None:
        new = self.pipeline.outcomes_since(self._outcomes_read)
        self._outcomes_read += len(new)
        for event in new:
            key = str(event["detail"].get("review_id"))
            if key in self.expected:
                self._answered.add(key)

    def _note(self) -> None:
        if self._progress is not None and time.monotonic() - self._last_note > NOTE_EVERY_SECONDS:
            self._last_note = time.monotonic()
            elapsed = time.perf_counter() - self._started
            self._progress(f"[{elapsed:6.1f}s] {len(self._answered)}/{len(self.expected)} outcomes")


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
