"""The synthesized stack, deployed into moto and running in this process.

``LocalStack(assembly).start()`` turns moto on (Step Functions execution on, Lambda without
Docker), applies ``moto_patches``, uploads the cloud assembly's assets to the bootstrap bucket,
and ``create_stack``s the unmodified template. Everything that runs afterwards (bus, rule,
state machine, functions and their environment, table, topic, REST API routes) is what the
template describes; the only things the local runtime adds are plumbing to observe it:

- a rule on the bus (``reviewflow-local-outcome-tap``) that copies outcome events to an SQS
  queue the runtime reads;
- the ``notifier`` provider replaced by ``OutboxNotifier`` (writes ``.eml`` files, then SNS);
- with a fault plan (``faults=`` or ``REVIEWFLOW_FAULTS`` / ``REVIEWFLOW_FAULT_SEED``), the
  toxicity, sentiment and response providers wrapped by ``reviewflow_local.faults``;
- two environment values on every function: ``REVIEWFLOW_APPROVAL_BASE_URL`` points at the
  local HTTP front instead of the API Gateway stage URL, and X-Ray tracing is off.
"""

from __future__ import annotations

import io
import json
import os
import threading
import time
import zipfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from reviewflow_local import moto_patches
from reviewflow_local.faults import (
    FaultInjector,
    FaultPlan,
    FaultyResponseWriter,
    FaultySentiment,
    FaultyToxicity,
)
from reviewflow_local.http_front import HttpFront, read_routes, wait_until_listening
from reviewflow_local.lambda_runner import InProcessLambdaRunner
from reviewflow_local.outbox import Outbox, OutboxNotifier
from reviewflow_local.synth import CloudAssembly

ACCOUNT_ID = "123456789012"
REGION = "us-east-1"
BOOTSTRAP_VERSION_PARAMETER = "/cdk-bootstrap/hnb659fds/version"
BOOTSTRAP_VERSION = "30"
INPUT_DETAIL_TYPE = "NEW_REVIEW_POSTED"
OUTCOME_SOURCE = "reviews.response-pipeline"
TAP_RULE = "reviewflow-local-outcome-tap"
TAP_QUEUE = "reviewflow-local-outcomes"
REQUEST_APPROVAL_HANDLER = "reviewflow.handlers.request_approval.handler"


class LocalStackError(RuntimeError):
    pass


@dataclass
class StackResources:
    """Physical ids of what the template created, found by type and role, never by name."""

    stack_id: str
    bus_name: str
    input_source: str
    state_machine_arn: str
    table_name: str
    reviewer_topic_arn: str
    reviewer_email: str | None
    rest_api_id: str
    stage: str
    dead_letter_queue_urls: list[str]
    functions: dict[str, str]  # handler -> function name
    outputs: dict[str, str] = field(default_factory=dict)


@dataclass
class Timings:
    mock_seconds: float = 0.0
    deploy_seconds: float = 0.0
    total_seconds: float = 0.0


class LocalStack:
    def __init__(
        self,
        assembly: CloudAssembly,
        *,
        workdir: Path,
        port: int = 0,
        aws_endpoint: bool = False,
        log_stream: IO[str] | None = None,
        stack_name: str | None = None,
        on_outcome: Callable[[dict[str, Any]], None] | None = None,
        faults: FaultPlan | None = None,
    ) -> None:
        self.assembly = assembly
        self.workdir = workdir
        self.port = port
        self.aws_endpoint = aws_endpoint
        self.log_stream = log_stream
        self.stack_name = stack_name or assembly.stack_name
        self.on_outcome = on_outcome
        self.fault_plan = faults if faults is not None else fault_plan_from_env()
        self.fault_injector: FaultInjector | None = None
        self.outbox = Outbox(workdir / "outbox")
        self.timings = Timings()
        self.resources: StackResources
        self.front: HttpFront
        self.runner: InProcessLambdaRunner
        self._mock: Any = None
        self._outcomes: list[dict[str, Any]] = []
        self._outcome_ids: set[str] = set()
        self._changed = threading.Condition()
        self._stop = threading.Event()
        self._pump: threading.Thread | None = None
        self._tap_queue_url = ""
        self._clients: dict[str, Any] = {}

    # ---------------------------------------------------------------------------- lifecycle

    def start(self) -> LocalStack:
        from moto import mock_aws

        started = time.perf_counter()
        os.environ.setdefault("AWS_DEFAULT_REGION", REGION)
        os.environ["AWS_REGION"] = os.environ["AWS_DEFAULT_REGION"] = REGION
        moto_patches.apply()
        self._mock = mock_aws(
            config={"stepfunctions": {"execute_state_machine": True}, "lambda": {"use_docker": False}}
        )
        self._mock.start()
        self.timings.mock_seconds = time.perf_counter() - started
        try:
            self._deploy()
            self._install_plumbing()
        except BaseException:
            self.stop()
            raise
        self.timings.total_seconds = time.perf_counter() - started
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._pump is not None:
            self._pump.join(timeout=2)
        if getattr(self, "front", None) is not None:
            self.front.stop()
        if getattr(self, "runner", None) is not None:
            self.runner.close()
        moto_patches.set_lambda_runner(None)
        _registry().reset()
        if self._mock is not None:
            self._mock.stop()
            self._mock = None

    def __enter__(self) -> LocalStack:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def client(self, service: str) -> Any:
        if service not in self._clients:
            import boto3

            self._clients[service] = boto3.client(service, region_name=REGION)
        return self._clients[service]

    # ------------------------------------------------------------------------------ deploy

    def _deploy(self) -> None:
        self.client("ssm").put_parameter(
            Name=BOOTSTRAP_VERSION_PARAMETER, Value=BOOTSTRAP_VERSION, Type="String", Overwrite=True
        )
        self._upload_assets()
        started = time.perf_counter()
        cloudformation = self.client("cloudformation")
        stack_id = cloudformation.create_stack(
            StackName=self.stack_name,
            TemplateBody=json.dumps(self.assembly.template),
            Capabilities=["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM", "CAPABILITY_AUTO_EXPAND"],
        )["StackId"]
        stack = cloudformation.describe_stacks(StackName=stack_id)["Stacks"][0]
        if stack["StackStatus"] != "CREATE_COMPLETE":
            raise LocalStackError(f"stack ended {stack['StackStatus']}: {stack.get('StackStatusReason')}")
        self.timings.deploy_seconds = time.perf_counter() - started
        self.resources = self._find_resources(stack_id, stack)

    def _upload_assets(self) -> None:
        s3 = self.client("s3")
        buckets: set[str] = set()
        for asset in self.assembly.assets.get("files", {}).values():
            source = Path(asset["source"]["path"])
            if not source.is_absolute():
                source = self.assembly.directory / source
            if source.name.endswith(".template.json"):
                continue  # the template itself goes to create_stack
            body = _zip_folder(source) if asset["source"].get("packaging") == "zip" else source.read_bytes()
            for destination in asset["destinations"].values():
                bucket = _substitute(destination["bucketName"])
                if bucket not in buckets:
                    s3.create_bucket(Bucket=bucket)
                    buckets.add(bucket)
                s3.put_object(Bucket=bucket, Key=destination["objectKey"], Body=body)

    def code_paths(self) -> list[Path]:
        """Source folders of the zip assets: the runner imports handlers from there."""
        paths = []
        for asset in self.assembly.assets.get("files", {}).values():
            if asset["source"].get("packaging") == "zip":
                source = Path(asset["source"]["path"])
                paths.append(source if source.is_absolute() else self.assembly.directory / source)
        return list(dict.fromkeys(paths))

    def _find_resources(self, stack_id: str, stack: dict[str, Any]) -> StackResources:
        template = self.assembly.template["Resources"]
        physical: dict[str, str] = {}
        paginator = self.client("cloudformation").get_paginator("list_stack_resources")
        for page in paginator.paginate(StackName=stack_id):
            for summary in page["StackResourceSummaries"]:
                physical[summary["LogicalResourceId"]] = summary.get("PhysicalResourceId", "")

        def of_type(kind: str) -> list[str]:
            return [logical for logical, spec in template.items() if spec["Type"] == kind]

        state_machines = of_type("AWS::StepFunctions::StateMachine")
        if len(state_machines) != 1:
            raise LocalStackError(f"expected one state machine in the template, found {len(state_machines)}")
        state_machine_arn = physical[state_machines[0]]

        events = self.client("events")
        bus_name, input_source, dlqs = "", "", []
        for bus_logical in of_type("AWS::Events::EventBus"):
            name = physical[bus_logical]
            for rule in events.list_rules(EventBusName=name)["Rules"]:
                pattern = json.loads(rule.get("EventPattern") or "{}")
                if INPUT_DETAIL_TYPE not in pattern.get("detail-type", []):
                    continue
                targets = events.list_targets_by_rule(Rule=rule["Name"], EventBusName=name)["Targets"]
                if any(t["Arn"] == state_machine_arn for t in targets):
                    bus_name, input_source = name, pattern.get("source", ["reviews.storefront"])[0]
                    for target in targets:
                        dlq_arn = target.get("DeadLetterConfig", {}).get("Arn")
                        if dlq_arn:
                            dlqs.append(
                                self.client("sqs").get_queue_url(QueueName=dlq_arn.split(":")[-1])["QueueUrl"]
                            )
        if not bus_name:
            raise LocalStackError(f"no rule on a custom bus sends {INPUT_DETAIL_TYPE} to the state machine")

        functions: dict[str, str] = {}
        lambda_client = self.client("lambda")
        environments: dict[str, dict[str, str]] = {}
        for logical in of_type("AWS::Lambda::Function"):
            config = lambda_client.get_function_configuration(FunctionName=physical[logical])
            functions[config["Handler"]] = config["FunctionName"]
            environments[config["Handler"]] = config.get("Environment", {}).get("Variables", {})
        approval_env = environments.get(REQUEST_APPROVAL_HANDLER, {})
        topic_arn = approval_env.get("REVIEWFLOW_NOTIFICATION_TOPIC_ARN", "")
        table_name = approval_env.get("REVIEWFLOW_APPROVALS_TABLE", "")
        if not table_name:
            tables = of_type("AWS::DynamoDB::Table")
            table_name = physical[tables[0]] if tables else ""
        reviewer_email = None
        if topic_arn:
            for subscription in self.client("sns").list_subscriptions_by_topic(TopicArn=topic_arn)[
                "Subscriptions"
            ]:
                if subscription["Protocol"] == "email":
                    reviewer_email = subscription["Endpoint"]

        apis = of_type("AWS::ApiGateway::RestApi")
        rest_api_id = physical[apis[0]] if apis else ""
        stages = [physical[s] for s in of_type("AWS::ApiGateway::Stage")]
        if not stages and rest_api_id:
            stages = [
                s["stageName"] for s in self.client("apigateway").get_stages(restApiId=rest_api_id)["item"]
            ]
        return StackResources(
            stack_id=stack_id,
            bus_name=bus_name,
            input_source=input_source,
            state_machine_arn=state_machine_arn,
            table_name=table_name,
            reviewer_topic_arn=topic_arn,
            reviewer_email=reviewer_email,
            rest_api_id=rest_api_id,
            stage=stages[0] if stages else "prod",
            dead_letter_queue_urls=dlqs,
            functions=functions,
            outputs={o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])},
        )

    # ---------------------------------------------------------------------------- plumbing

    def _install_plumbing(self) -> None:
        res = self.resources
        sqs, events = self.client("sqs"), self.client("events")
        self._tap_queue_url = sqs.create_queue(QueueName=TAP_QUEUE)["QueueUrl"]
        tap_arn = sqs.get_queue_attributes(QueueUrl=self._tap_queue_url, AttributeNames=["QueueArn"])[
            "Attributes"
        ]["QueueArn"]
        events.put_rule(
            Name=TAP_RULE, EventBusName=res.bus_name, EventPattern=json.dumps({"source": [OUTCOME_SOURCE]})
        )
        events.put_targets(Rule=TAP_RULE, EventBusName=res.bus_name, Targets=[{"Id": "tap", "Arn": tap_arn}])

        routes = read_routes(self.client("apigateway"), res.rest_api_id) if res.rest_api_id else []
        self.front = HttpFront(
            lambda_client=self.client("lambda"),
            routes=routes,
            stage=res.stage,
            outbox=self.outbox,
            pending_approvals=self.pending_approvals,
            outcome_count=lambda: len(self._outcomes),
            aws_app=_moto_server_app() if self.aws_endpoint else None,
            port=self.port,
        ).start()
        wait_until_listening(self.front)

        self.runner = InProcessLambdaRunner(
            self.code_paths(),
            overrides={
                "REVIEWFLOW_APPROVAL_BASE_URL": self.front.stage_url,
                "POWERTOOLS_TRACE_DISABLED": "true",
                "AWS_REGION": REGION,
                "AWS_DEFAULT_REGION": REGION,
            },
            log_stream=self.log_stream,
        )
        functions = self.client("lambda").get_paginator("list_functions").paginate()
        self.runner.reserve(
            fn.get("Environment", {}).get("Variables", {}) for page in functions for fn in page["Functions"]
        )
        registry = _registry()
        registry.reset()
        registry.set_override("notifier", OutboxNotifier(self.outbox, res.reviewer_email, then=_sns_notifier))
        self.fault_injector = install_faults(self.fault_plan)
        moto_patches.set_lambda_runner(self.runner)
        self._pump = threading.Thread(target=self._pump_outcomes, name="reviewflow-outcomes", daemon=True)
        self._pump.start()

    def _pump_outcomes(self) -> None:
        sqs = self.client("sqs")
        while not self._stop.is_set():
            try:
                messages = sqs.receive_message(QueueUrl=self._tap_queue_url, MaxNumberOfMessages=10).get(
                    "Messages", []
                )
            except Exception:  # moto stopped under us at shutdown
                if self._stop.is_set():
                    return
                raise
            for message in messages:
                event = json.loads(message["Body"])
                event.pop("ingestion-time", None)
                sqs.delete_message(QueueUrl=self._tap_queue_url, ReceiptHandle=message["ReceiptHandle"])
                with self._changed:
                    if event.get("id") in self._outcome_ids:
                        continue
                    self._outcome_ids.add(event.get("id"))
                    self._outcomes.append(event)
                    self._changed.notify_all()
                if self.on_outcome is not None:
                    self.on_outcome(event)
            if not messages:
                self._stop.wait(0.05)

    # ----------------------------------------------------------------------------- actions

    def post_reviews(self, details: Iterable[dict[str, Any]], source: str | None = None) -> list[str]:
        """``put_events`` in batches of 10; returns the event ids, failing on any rejected entry."""
        ids: list[str] = []
        batch: list[dict[str, Any]] = []
        for detail in details:
            batch.append(
                {
                    "EventBusName": self.resources.bus_name,
                    "Source": source or self.resources.input_source,
                    "DetailType": INPUT_DETAIL_TYPE,
                    "Detail": json.dumps(detail),
                }
            )
            if len(batch) == 10:
                ids += self._put(batch)
                batch = []
        if batch:
            ids += self._put(batch)
        return ids

    def _put(self, entries: list[dict[str, Any]]) -> list[str]:
        answer = self.client("events").put_events(Entries=entries)
        if answer.get("FailedEntryCount"):
            failed = [e for e in answer["Entries"] if "ErrorCode" in e]
            raise LocalStackError(f"put_events rejected {len(failed)} entries: {failed[:3]}")
        return [entry["EventId"] for entry in answer["Entries"]]

    def outcomes(self) -> list[dict[str, Any]]:
        with self._changed:
            return list(self._outcomes)

    def wait_for(
        self, condition: Callable[[list[dict[str, Any]]], bool], timeout: float, poll: float = 0.25
    ) -> list[dict[str, Any]]:
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

    def outcome_for(self, review_id: str, timeout: float = 30.0) -> dict[str, Any]:
        def found(events: list[dict[str, Any]]) -> bool:
            return any(e["detail"].get("review_id") == review_id for e in events)

        events = self.wait_for(found, timeout)
        return next(e for e in events if e["detail"].get("review_id") == review_id)

    def pending_approvals(self) -> list[dict[str, Any]]:
        """Approval items still waiting for a person (read from the table, secrets left out)."""
        items: list[dict[str, Any]] = []
        for page in (
            self.client("dynamodb")
            .get_paginator("scan")
            .paginate(
                TableName=self.resources.table_name,
                FilterExpression="begins_with(pk, :p) AND #s = :pending",
                ExpressionAttributeNames={"#s": "status"},
                ExpressionAttributeValues={":p": {"S": "approval#"}, ":pending": {"S": "PENDING"}},
            )
        ):
            for item in page["Items"]:
                items.append(
                    {
                        key: value.get("S", value.get("N"))
                        for key, value in item.items()
                        if key not in ("task_token", "secret_sha256", "snapshot")
                    }
                )
        return sorted(items, key=lambda item: str(item.get("created_at", "")))

    def executions(self) -> Iterator[dict[str, Any]]:
        paginator = self.client("stepfunctions").get_paginator("list_executions")
        for page in paginator.paginate(stateMachineArn=self.resources.state_machine_arn):
            yield from page["executions"]

    def history(self, execution_arn: str) -> list[dict[str, Any]]:
        events: list[dict[str, Any]] = []
        for page in (
            self.client("stepfunctions")
            .get_paginator("get_execution_history")
            .paginate(executionArn=execution_arn)
        ):
            events += page["events"]
        return events


def fault_plan_from_env() -> FaultPlan:
    """``REVIEWFLOW_FAULTS`` / ``REVIEWFLOW_FAULT_SEED``: faults configured without a code edit."""
    return FaultPlan.parse(
        os.environ.get("REVIEWFLOW_FAULTS"), int(os.environ.get("REVIEWFLOW_FAULT_SEED") or 0)
    )


def install_faults(plan: FaultPlan) -> FaultInjector | None:
    """Wrap each provider in its fault-injecting twin; the inner provider is resolved per call,
    so it is the one the running function's configuration selects."""
    if not plan.active:
        return None
    registry = _registry()
    injector = FaultInjector(plan)
    for name, wrapper in (
        ("toxicity_provider", FaultyToxicity),
        ("sentiment_provider", FaultySentiment),
        ("response_writer", FaultyResponseWriter),
    ):
        if plan.rates.get(wrapper.provider):
            registry.set_override(name, wrapper(lambda name=name: registry.configured(name), injector))
    return injector


def _registry() -> Any:
    from reviewflow.providers import registry

    return registry


def _sns_notifier() -> Any:
    """The real SNS adapter for the function being run (its topic from its own settings)."""
    from reviewflow.config import get_settings
    from reviewflow.providers.notifier import SnsNotifier

    return SnsNotifier(_registry().aws_client("sns"), get_settings().notification_topic_arn)


def _moto_server_app() -> Any:
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

    return DomainDispatcherApplication(create_backend_app)


def _substitute(text: str) -> str:
    return (
        text.replace("${AWS::AccountId}", ACCOUNT_ID)
        .replace("${AWS::Region}", REGION)
        .replace("${AWS::Partition}", "aws")
    )


def _zip_folder(folder: Path) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(folder.rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts:
                archive.write(path, path.relative_to(folder).as_posix())
    return buffer.getvalue()
