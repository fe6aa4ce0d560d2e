"""The local runtime's view of the outcome events: a rule on the bus that copies them to a queue.

The rule matches only what the workflow publishes: the outcome source, one of the three outcome
detail types, and an ``execution_id`` of the deployed state machine. A looser pattern (the source
alone) also took events a client posts with the outcome source, which the input rule is meant to
ignore; they then showed up as outcomes whenever the pump happened to read the queue in time.

A pump thread moves the queued events into an in-memory list that callers read and wait on.
``flush()`` reads the queue to the end on the caller's thread: every event EventBridge delivered
before the call is in ``outcomes()`` afterwards, so "nothing was published" can be asserted
without waiting and hoping.

Readers that poll (the soak, ``reviewflow run``) read only what is new: ``count()``,
``outcomes_since(n)`` and ``wait_for_count(n)`` cost the same with ten outcomes listed as with
ten thousand, where ``outcomes()`` copies the whole list.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from typing import Any

from reviewflow.contracts import OUTCOME_SOURCE, OutcomeType
from reviewflow_local.deployment import ClientFactory

TAP_RULE = "reviewflow-local-outcome-tap"
TAP_QUEUE = "reviewflow-local-outcomes"
# The pump long-polls: moto's SQS waits on a condition, so an idle pump costs nothing, and an
# outcome is taken the moment it arrives (the old 50 ms polling loop was 7 % of the runtime's time).
LONG_POLL_SECONDS = 1
#: How long ``flush`` waits between looks while the pump holds messages it has not listed yet.
FLUSH_WAIT_SECONDS = 0.01

Outcome = dict[str, Any]


def tap_pattern(execution_arn_prefix: str) -> dict[str, Any]:
    """The event pattern of exactly the events the workflow's ``PublishOutcome`` puts."""
    return {
        "source": [OUTCOME_SOURCE],
        "detail-type": [kind.value for kind in OutcomeType],
        "detail": {"execution_id": [{"prefix": execution_arn_prefix}]},
    }


class OutcomeTap:
    """Collects the outcome events of one bus, each once, in the order they were read."""

    def __init__(self, on_outcome: Callable[[Outcome], None] | None = None) -> None:
        self._sqs: Any = None
        self._on_outcome = on_outcome
        self._queue_url = ""
        self._outcomes: list[Outcome] = []
        self._ids: set[str] = set()
        self._changed = threading.Condition()
        self._stop = threading.Event()
        self._pump: threading.Thread | None = None

    def install(self, client: ClientFactory, bus_name: str, execution_arn_prefix: str) -> None:
        """Create the queue and the rule that feeds it (before any execution starts)."""
        self._sqs, events = client("sqs"), client("events")
        self._queue_url = self._sqs.create_queue(QueueName=TAP_QUEUE)["QueueUrl"]
        queue_arn = self._sqs.get_queue_attributes(QueueUrl=self._queue_url, AttributeNames=["QueueArn"])[
            "Attributes"
        ]["QueueArn"]
        events.put_rule(
            Name=TAP_RULE, EventBusName=bus_name, EventPattern=json.dumps(tap_pattern(execution_arn_prefix))
        )
        events.put_targets(Rule=TAP_RULE, EventBusName=bus_name, Targets=[{"Id": "tap", "Arn": queue_arn}])

    def start(self) -> None:
        self._pump = threading.Thread(target=self._run, name="reviewflow-outcomes", daemon=True)
        self._pump.start()

    def stop(self) -> None:
        self._stop.set()
        if self._pump is not None:
            self._pump.join(timeout=2)

    def flush(self) -> None:
        """Read the queue until it is empty; afterwards every delivered event is in ``outcomes()``.

        The pump may hold messages it received but has not listed yet; it deletes a message only
        after listing it, so once the queue has no message left, visible or in anyone's hands,
        every delivered event is listed. The pump never holds a lock while it long-polls, so a
        flush does not wait for its poll to time out.
        """
        while True:
            if self._read_once():
                continue
            attributes = self._sqs.get_queue_attributes(
                QueueUrl=self._queue_url,
                AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
            )["Attributes"]
            if not any(int(value) for value in attributes.values()):
                return
            with self._changed:  # the pump is listing what it holds: it notifies when done
                self._changed.wait(FLUSH_WAIT_SECONDS)

    def outcomes(self) -> list[Outcome]:
        with self._changed:
            return list(self._outcomes)

    def count(self) -> int:
        with self._changed:
            return len(self._outcomes)

    def outcomes_since(self, start: int) -> list[Outcome]:
        """The outcomes listed after the first ``start`` ones (what a poller has not seen yet)."""
        with self._changed:
            return self._outcomes[start:]

    def wait_for_count(self, seen: int, timeout: float) -> int:
        """Wait until more than ``seen`` outcomes are listed, or ``timeout``; return the count."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while len(self._outcomes) <= seen:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                self._changed.wait(remaining)
            return len(self._outcomes)

    def wait_for(
        self, condition: Callable[[list[Outcome]], bool], timeout: float, poll: float = 0.25
    ) -> list[Outcome]:
        """Block until ``condition(outcomes)`` holds; return the outcomes (raises on timeout)."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while not condition(list(self._outcomes)):
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError(
                        f"condition not met in {timeout:.0f} s; {len(self._outcomes)} outcome(s)"
                    )
                self._changed.wait(min(poll, remaining))
            return list(self._outcomes)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self._read_once(wait_seconds=LONG_POLL_SECONDS)
            except Exception:  # moto stopped under us at shutdown
                if self._stop.is_set():
                    return
                raise

    def _read_once(self, wait_seconds: int = 0) -> bool:
        """One receive; True when it returned messages. Each message is listed before it is
        deleted (in one batch): that order is what makes ``flush`` exact."""
        messages = self._sqs.receive_message(
            QueueUrl=self._queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=wait_seconds
        ).get("Messages", [])
        if not messages:
            return False
        added = [event for event in (json.loads(m["Body"]) for m in messages) if self._add(event)]
        self._sqs.delete_message_batch(
            QueueUrl=self._queue_url,
            Entries=[{"Id": str(n), "ReceiptHandle": m["ReceiptHandle"]} for n, m in enumerate(messages)],
        )
        with self._changed:
            self._changed.notify_all()  # a flush waiting for the pump's messages looks again
        if self._on_outcome is not None:
            for event in added:
                self._on_outcome(event)
        return True

    def _add(self, event: Outcome) -> bool:
        """List the event unless it was listed before (SQS delivers at least once)."""
        event.pop("ingestion-time", None)
        with self._changed:
            if event.get("id") in self._ids:
                return False
            self._ids.add(str(event.get("id")))
            self._outcomes.append(event)
            self._changed.notify_all()
        return True
