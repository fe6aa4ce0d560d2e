"""The reviewflow pipeline, deployed into an embedded moto and running in this process.

``LocalPipeline(assembly).start()`` turns moto on (Step Functions execution on, Lambda without
Docker), applies ``moto_patches`` and deploys the unmodified template (``deployment``).
Everything that runs afterwards (bus, rule, state machine, functions and their environment,
table, topic, REST API routes) is what the template describes; the local runtime adds only
plumbing to observe and reach it:

- the outcome tap (``outcome_tap``): a rule copying the workflow's outcome events to a queue;
- the ``notifier`` and ``reviewer_notifier`` providers replaced by one ``OutboxNotifier`` (writes
  ``.eml`` files, then SNS), so approval, reminder and escalation emails all reach the outbox;
- with a fault plan (``faults=`` or ``REVIEWFLOW_FAULTS`` / ``REVIEWFLOW_FAULT_SEED``), the
  toxicity, sentiment and response providers wrapped by ``reviewflow_local.faults``;
- the HTTP front on 127.0.0.1 (approval routes, inbox, optionally the AWS endpoint), and two
  environment values on every function: ``REVIEWFLOW_APPROVAL_BASE_URL`` points at that front
  instead of the API Gateway stage URL, and X-Ray tracing is off.

The methods after ``start``/``stop`` are what the CLI, the soak, the benchmarks and the tests
drive it with: post reviews, wait for outcomes, read pending approvals, executions and history.
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path
from typing import IO, Any

from reviewflow.contracts import INPUT_DETAIL_TYPE, EnvVar
from reviewflow.providers.approval_store import KEY_PREFIX
from reviewflow_local import moto_patches
from reviewflow_local.deployment import REGION, LocalPipelineError, StackResources, code_paths, deploy
from reviewflow_local.faults import FaultInjector, FaultPlan, fault_plan_from_env, install_faults
from reviewflow_local.http_front import HttpFront, read_routes, wait_until_listening
from reviewflow_local.lambda_runner import InProcessLambdaRunner
from reviewflow_local.outbox import Outbox, OutboxNotifier
from reviewflow_local.outcome_tap import Outcome, OutcomeTap
from reviewflow_local.synth import CloudAssembly

PUT_EVENTS_BATCH = 10
#: Attributes of an approval item a reader of ``pending_approvals`` must never see.
_SECRET_ATTRIBUTES = ("task_token", "secret_sha256", "snapshot")


@dataclass
class Timings:
    mock_seconds: float = 0.0
    deploy_seconds: float = 0.0
    total_seconds: float = 0.0


def outcome_key(detail: Any, event_id: str) -> str:
    """The review id the outcome of a posted event will carry: the workflow's de-duplication key."""
    from reviewflow.domain.validation import dedup_key

    return dedup_key({"id": event_id, "detail": detail}, execution_id="")


class LocalPipeline:
    def __init__(
        self,
        assembly: CloudAssembly,
        *,
        workdir: Path,
        port: int = 0,
        aws_endpoint: bool = False,
        log_stream: IO[str] | None = None,
        stack_name: str | None = None,
        on_outcome: Callable[[Outcome], None] | None = None,
        faults: FaultPlan | None = None,
    ) -> None:
        self.assembly = assembly
        self.workdir = workdir
        self.port = port
        self.aws_endpoint = aws_endpoint
        self.log_stream = log_stream
        self.stack_name = stack_name or assembly.stack_name
        self.fault_plan = faults if faults is not None else fault_plan_from_env()
        self.fault_injector: FaultInjector | None = None
        self.outbox = Outbox(workdir / "outbox")
        self.tap = OutcomeTap(self._outcome_arrived)
        self._on_outcome = on_outcome
        self._activity = threading.Condition()
        self._activity_count = 0
        self._notifier: _SignallingOutboxNotifier | None = None
        self.timings = Timings()
        self.resources: StackResources
        self.front: HttpFront
        self.runner: InProcessLambdaRunner
        self._mock: Any = None
        self._clients: dict[str, Any] = {}
        # Called with every outcome the tap lists (``reviewflow_local.storefront.attach`` adds one).
        self.outcome_listeners: list[Callable[[Outcome], None]] = []
        self.storefront: Any = None  # the StorefrontDelivery, once attached

    # ---------------------------------------------------------------------------- lifecycle

    def start(self) -> LocalPipeline:
        started = time.perf_counter()
        self._start_moto()
        self.timings.mock_seconds = time.perf_counter() - started
        try:
            deploying = time.perf_counter()
            self.resources = deploy(self.assembly, self.stack_name, self.client)
            self.timings.deploy_seconds = time.perf_counter() - deploying
            self.tap.install(self.client, self.resources.bus_name, self.resources.execution_arn_prefix)
            self._serve_front()
            self._run_functions_in_process()
            self.tap.start()
        except BaseException:
            self.stop()
            raise
        self.timings.total_seconds = time.perf_counter() - started
        return self

    def stop(self) -> None:
        self.tap.stop()
        if self.storefront is not None:
            self.storefront.stop()
        if getattr(self, "front", None) is not None:
            self.front.stop()
        if getattr(self, "runner", None) is not None:
            self.runner.close()
        moto_patches.set_lambda_runner(None)
        _registry().reset()
        if self._mock is not None:
            self._mock.stop()
            self._mock = None

    def __enter__(self) -> LocalPipeline:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def client(self, service: str) -> Any:
        """A boto3 client for ``service`` against the embedded moto (one per service)."""
        if service not in self._clients:
            import boto3

            self._clients[service] = boto3.client(service, region_name=REGION)
        return self._clients[service]

    def _start_moto(self) -> None:
        from moto import mock_aws

        os.environ["AWS_REGION"] = os.environ["AWS_DEFAULT_REGION"] = REGION
        moto_patches.apply()
        self._mock = mock_aws(
            config={"stepfunctions": {"execute_state_machine": True}, "lambda": {"use_docker": False}}
        )
        self._mock.start()

    def _serve_front(self) -> None:
        res = self.resources
        routes = read_routes(self.client("apigateway"), res.rest_api_id) if res.rest_api_id else []
        self.front = HttpFront(
            lambda_client=self.client("lambda"),
            routes=routes,
            stage=res.stage,
            outbox=self.outbox,
            pending_approvals=self.pending_approvals,
            outcome_count=self.tap.count,
            aws_app=_moto_server_app() if self.aws_endpoint else None,
            port=self.port,
        ).start()
        wait_until_listening(self.front)

    def _run_functions_in_process(self) -> None:
        """Route moto's Lambda invocations to the handlers, with the local providers in place."""
        self.runner = InProcessLambdaRunner(
            code_paths(self.assembly),
            overrides={
                EnvVar.APPROVAL_BASE_URL: self.front.stage_url,
                "POWERTOOLS_TRACE_DISABLED": "true",
                "AWS_REGION": REGION,
                "AWS_DEFAULT_REGION": REGION,
            },
            log_stream=self.log_stream,
        )
        self.runner.reserve(self.resources.function_environments.values())
        registry = _registry()
        registry.reset()
        self._notifier = _SignallingOutboxNotifier(
            self.outbox,
            self.resources.reviewer_email,
            then=_sns_notifier,
            on_sent=self._signal,
            roster=self.resources.reviewer_emails,
        )
        registry.set_override("notifier", self._notifier)
        registry.set_override("reviewer_notifier", self._notifier)  # reminders and escalations
        self.fault_injector = install_faults(self.fault_plan)
        moto_patches.set_lambda_runner(self.runner)

    # ----------------------------------------------------------------------------- driving

    def post_reviews(self, details: Iterable[Any], source: str | None = None) -> list[str]:
        """``put_events`` in batches of 10; returns the event ids, failing on any rejected entry."""
        entries = [
            {
                "EventBusName": self.resources.bus_name,
                "Source": source or self.resources.input_source,
                "DetailType": INPUT_DETAIL_TYPE,
                "Detail": json.dumps(detail),
            }
            for detail in details
        ]
        ids: list[str] = []
        for offset in range(0, len(entries), PUT_EVENTS_BATCH):
            ids += self._put(entries[offset : offset + PUT_EVENTS_BATCH])
        return ids

    def _put(self, entries: list[dict[str, Any]]) -> list[str]:
        answer = self.client("events").put_events(Entries=entries)
        if answer.get("FailedEntryCount"):
            failed = [e for e in answer["Entries"] if "ErrorCode" in e]
            raise LocalPipelineError(f"put_events rejected {len(failed)} entries: {failed[:3]}")
        return [entry["EventId"] for entry in answer["Entries"]]

    def outcomes(self) -> list[Outcome]:
        """The outcome events read so far, oldest first."""
        return self.tap.outcomes()

    def flush_outcomes(self) -> list[Outcome]:
        """The outcomes including every one already delivered to the tap (read on this thread)."""
        self.tap.flush()
        return self.tap.outcomes()

    def wait_for(
        self, condition: Callable[[list[Outcome]], bool], timeout: float, poll: float = 0.25
    ) -> list[Outcome]:
        """Block until ``condition(outcomes)`` holds; return the outcomes (raises on timeout)."""
        return self.tap.wait_for(condition, timeout, poll)

    def wait_for_more(self, seen: int, timeout: float) -> None:
        """Return when there are more than ``seen`` outcomes, or after ``timeout`` seconds."""
        self.tap.wait_for_count(seen, timeout)

    def outcomes_since(self, start: int) -> list[Outcome]:
        """The outcome events after the first ``start`` read (a poller's new ones, oldest first)."""
        return self.tap.outcomes_since(start)

    def emails_sent(self) -> Sequence[Path]:
        """Every reviewer email the functions wrote, oldest first (each file complete)."""
        return self._notifier.sent if self._notifier is not None else ()

    def activity(self) -> int:
        """How many outcomes and emails have arrived so far (see ``wait_for_activity``)."""
        with self._activity:
            return self._activity_count

    def wait_for_activity(self, seen: int, timeout: float) -> int:
        """Wait until an outcome or an email arrives after ``activity()`` returned ``seen``."""
        deadline = time.monotonic() + timeout
        with self._activity:
            while self._activity_count == seen:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                self._activity.wait(remaining)
            return self._activity_count

    def _outcome_arrived(self, event: Outcome) -> None:
        if self._on_outcome is not None:
            self._on_outcome(event)
        for listener in self.outcome_listeners:
            listener(event)
        self._signal()

    def _signal(self) -> None:
        with self._activity:
            self._activity_count += 1
            self._activity.notify_all()

    def outcome_for(self, review_id: str, timeout: float = 30.0) -> Outcome:
        def found(events: list[Outcome]) -> bool:
            return any(e["detail"].get("review_id") == review_id for e in events)

        events = self.wait_for(found, timeout)
        return next(e for e in events if e["detail"].get("review_id") == review_id)

    def pending_approval(self, approval_id: str) -> dict[str, Any] | None:
        """The approval item if it is still waiting for a person (secrets left out), else None.

        One ``GetItem``: what a poller that learns of approvals from their emails asks, instead
        of scanning the whole table (``pending_approvals``) each time.
        """
        item = (
            self.client("dynamodb")
            .get_item(
                TableName=self.resources.table_name,
                Key={"pk": {"S": KEY_PREFIX + approval_id}},
                ConsistentRead=True,
            )
            .get("Item")
        )
        if item is None or item.get("status", {}).get("S") != "PENDING":
            return None
        return _visible(item)

    def pending_approvals(self) -> list[dict[str, Any]]:
        """Approval items still waiting for a person (read from the table, secrets left out)."""
        pages = (
            self.client("dynamodb")
            .get_paginator("scan")
            .paginate(
                TableName=self.resources.table_name,
                FilterExpression="begins_with(pk, :p) AND #s = :pending",
                ExpressionAttributeNames={"#s": "status"},
                ExpressionAttributeValues={":p": {"S": KEY_PREFIX}, ":pending": {"S": "PENDING"}},
            )
        )
        items = [_visible(item) for page in pages for item in page["Items"]]
        return sorted(items, key=lambda item: str(item.get("created_at", "")))

    def executions(self) -> Iterator[dict[str, Any]]:
        paginator = self.client("stepfunctions").get_paginator("list_executions")
        for page in paginator.paginate(stateMachineArn=self.resources.state_machine_arn):
            yield from page["executions"]

    def any_running(self) -> bool:
        """Whether some execution of the state machine has not ended yet."""
        answer = self.client("stepfunctions").list_executions(
            stateMachineArn=self.resources.state_machine_arn, statusFilter="RUNNING", maxResults=1
        )
        return bool(answer["executions"])

    def history(self, execution_arn: str) -> list[dict[str, Any]]:
        pages = (
            self.client("stepfunctions")
            .get_paginator("get_execution_history")
            .paginate(executionArn=execution_arn)
        )
        return [event for page in pages for event in page["events"]]


def _visible(item: dict[str, Any]) -> dict[str, Any]:
    """A DynamoDB approval item as plain values, without the attributes no reader may see."""
    return {
        key: value.get("S", value.get("N")) for key, value in item.items() if key not in _SECRET_ATTRIBUTES
    }


class _SignallingOutboxNotifier(OutboxNotifier):
    """``OutboxNotifier`` that also tells the pipeline an email was written."""

    def __init__(
        self,
        outbox: Outbox,
        recipient: str | None,
        then: Callable[[], object] | None,
        on_sent: Callable[[], None],
        roster: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(outbox, recipient, then=then, roster=roster)
        self._on_sent = on_sent

    def send(self, message: EmailMessage, reviewer: str | None = None) -> str:
        try:
            return super().send(message, reviewer=reviewer)
        finally:
            self._on_sent()


def _registry() -> Any:
    from reviewflow.providers import registry

    return registry


def _sns_notifier() -> Any:
    """The real SNS adapter for the function being run (its topic from its own settings)."""
    from reviewflow.providers.notifier import SnsNotifier

    registry = _registry()
    return SnsNotifier(registry.aws_client("sns"), registry.runtime_settings().notification_topic_arn)


def _moto_server_app() -> Any:
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

    return DomainDispatcherApplication(create_backend_app)
