"""Every change the local runtime makes to moto, in one place.

moto (pinned to ``MOTO_VERSION``) runs the synthesized stack well, but it lacks a few things the
pipeline needs. Each patch below says what moto lacks and what the patch does instead; each has
a canary test in ``tests/unit/local/test_moto_patches.py`` that fails loudly when moto's
internals move (an upgrade must re-check them; ``apply`` refuses an unexpected moto version).

Patches are applied once per process by ``apply()`` and stay applied: they only change
behaviour that moto does not otherwise have (a Lambda handler that really runs, a Step Functions
rule target, CloudFormation properties moto ignores), so a plain moto test in the same process
sees no difference except that those features now work.
"""

from __future__ import annotations

import copy
import json
import threading
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

MOTO_VERSION = "5.2.5"

#: ``runner(function, payload) -> (response_bytes, errored)``; set by the local stack.
LambdaRunner = Callable[[Any, Any], tuple[bytes, bool]]

_lock = threading.Lock()
_applied: list[str] = []
_lambda_runner: LambdaRunner | None = None


class MotoInternalsChanged(RuntimeError):
    """moto no longer has the shape a patch was written against: re-check the patch."""


def set_lambda_runner(runner: LambdaRunner | None) -> None:
    """Route Lambda invocations to ``runner`` (``None``: back to moto's echo)."""
    global _lambda_runner
    _lambda_runner = runner


def applied() -> list[str]:
    return list(_applied)


def _require(owner: Any, attribute: str) -> Any:
    if not hasattr(owner, attribute):
        raise MotoInternalsChanged(f"{getattr(owner, '__qualname__', owner)!r} has no {attribute!r} any more")
    return getattr(owner, attribute)


# ------------------------------------------------------------------------------------- Lambda


def _patch_lambda_invoke() -> None:
    """moto lacks: running a Lambda handler without Docker.

    With ``{"lambda": {"use_docker": False}}`` moto's ``LambdaSimpleBackend.invoke`` only echoes
    the payload. The patch hands the function (its Handler, environment, timeout) and the payload
    to the runner the local stack registered, and reports a raised exception the way Lambda does:
    an ``X-Amz-Function-Error`` header and an ``{"errorType", "errorMessage"}`` body, which the
    Step Functions interpreter turns into the error name that Retry and Catch match.
    """
    from moto.awslambda_simple.models import LambdaSimpleBackend

    original = _require(LambdaSimpleBackend, "invoke")
    _require(LambdaSimpleBackend, "get_function")

    def invoke(
        self: Any, function_name: str, qualifier: str | None, body: Any, headers: Any, response_headers: Any
    ) -> bytes | str | None:
        runner = _lambda_runner
        if runner is None:
            return original(self, function_name, qualifier, body, headers, response_headers)  # type: ignore[no-any-return]
        function = self.get_function(function_name, qualifier)
        payload, errored = runner(function, body)
        if errored:
            response_headers["x-amz-function-error"] = "Unhandled"
        return payload

    invoke.__wrapped__ = original  # type: ignore[attr-defined]
    LambdaSimpleBackend.invoke = invoke  # type: ignore[method-assign]


def lambda_error_envelope(exc: BaseException) -> bytes:
    """The body Lambda returns for an unhandled exception (``errorType`` = the class name)."""
    return json.dumps(
        {
            "errorType": type(exc).__name__,
            "errorMessage": str(exc),
            "stackTrace": traceback.format_tb(exc.__traceback__)[-5:],
        }
    ).encode("utf-8")


# ------------------------------------------------------------------------------- EventBridge


def _event_for_target(event: dict[str, Any]) -> dict[str, Any]:
    """The event as EventBridge hands it to a target: ISO time, no moto-only fields."""
    delivered = {key: value for key, value in event.items() if key != "ingestion-time"}
    when = delivered.get("time")
    if isinstance(when, int | float):
        delivered["time"] = datetime.fromtimestamp(when, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return delivered


def _select_path(document: Any, path: str) -> Any:
    """The subset of JSONPath EventBridge's ``InputPath`` accepts: ``$`` and ``$.a.b``."""
    node = document
    for part in [p for p in path.lstrip("$").split(".") if p]:
        node = node.get(part) if isinstance(node, dict) else None
    return node


def target_input(target: dict[str, Any], event: dict[str, Any]) -> str:
    """What a rule target receives: ``Input``, ``InputPath``, ``InputTransformer`` or the event."""
    from moto.events.utils import EventTemplateParser

    if "Input" in target:
        return str(target["Input"])
    if "InputPath" in target:
        return json.dumps(_select_path(event, target["InputPath"]))
    if "InputTransformer" in target:
        transformer = target["InputTransformer"]
        rendered = EventTemplateParser.parse(
            input_template=transformer.get("InputTemplate"),
            input_paths_map=transformer.get("InputPathsMap", {}),
            event=event,  # type: ignore[arg-type]
        )
        return rendered if isinstance(rendered, str) else json.dumps(rendered)
    return json.dumps(event)


def _send_to_dead_letter_queue(
    rule: Any, target: dict[str, Any], event: dict[str, Any], exc: Exception
) -> None:
    from moto.sqs import sqs_backends

    queue_arn = target.get("DeadLetterConfig", {}).get("Arn")
    if not queue_arn:
        raise exc
    _, _, _, region, account, queue_name = queue_arn.split(":", 5)
    sqs_backends[account][region].send_message(
        queue_name=queue_name,
        message_body=json.dumps(event),
        message_attributes={
            "ERROR_CODE": {"DataType": "String", "StringValue": type(exc).__name__},
            "RULE_ARN": {"DataType": "String", "StringValue": rule.arn},
            "TARGET_ARN": {"DataType": "String", "StringValue": target["Arn"]},
        },
    )


def _patch_events_stepfunctions_target() -> None:
    """moto lacks: delivering a rule's matches to a Step Functions target.

    ``Rule.send_to_targets`` raises ``NotImplementedError`` for a ``states`` target. The patch
    starts an execution for it, with the input the target asks for (``Input``, ``InputPath``,
    ``InputTransformer`` or the whole event) and always with a name (moto refuses a second
    unnamed ``StartExecution``): the event id, so a redelivered event is idempotent as in AWS.
    A start that fails goes to the target's dead-letter queue. Other targets go to moto.
    """
    from moto.events.models import Rule
    from moto.stepfunctions.responses import get_backend as stepfunctions_backend
    from moto.utilities.arns import parse_arn

    original = _require(Rule, "send_to_targets")

    def send_to_targets(self: Any, original_event: dict[str, Any], transform_input: bool = True) -> None:
        if not self.event_pattern.matches_event(original_event):
            return
        sfn_targets = [t for t in self.targets if parse_arn(t["Arn"]).service == "states"]
        if len(sfn_targets) < len(self.targets):
            others = copy.copy(self)
            others.targets = [t for t in self.targets if t not in sfn_targets]
            original(others, original_event, transform_input)
        event = _event_for_target(original_event)
        for target in sfn_targets:
            name = event["id"] if len(sfn_targets) == 1 else f"{event['id']}-{target['Id']}"[:80]
            arn = parse_arn(target["Arn"])
            try:
                stepfunctions_backend(arn.account, arn.region).start_execution(
                    state_machine_arn=target["Arn"], name=name, execution_input=target_input(target, event)
                )
            except Exception as exc:
                _send_to_dead_letter_queue(self, target, event, exc)

    send_to_targets.__wrapped__ = original  # type: ignore[attr-defined]
    Rule.send_to_targets = send_to_targets  # type: ignore[method-assign,assignment]


# ---------------------------------------------------------------------------- CloudFormation


def _patch_cfn_refs() -> None:
    """moto lacks: ``Ref`` of an ``AWS::Events::EventBus`` and of an ``AWS::ApiGateway::Deployment``.

    Neither moto model has a ``physical_resource_id``, so ``Ref`` resolves to the Python object:
    the first rule on the bus fails, and a stage built on the deployment cannot be described.
    The patch gives them the bus name and the deployment id, as AWS does.
    """
    from moto.apigateway.models import Deployment
    from moto.events.models import EventBus

    for model in (EventBus, Deployment):
        if "physical_resource_id" in vars(model):
            raise MotoInternalsChanged(
                f"moto's {model.__name__} now has physical_resource_id: drop this patch"
            )
    EventBus.physical_resource_id = property(lambda self: self.name)  # type: ignore[attr-defined]
    Deployment.physical_resource_id = property(lambda self: self.id)  # type: ignore[attr-defined]


def _resolve_definition(properties: dict[str, Any], account_id: str, region_name: str) -> str:
    definition = properties.get("DefinitionString")
    if isinstance(definition, dict):
        definition = json.dumps(definition)
    if not definition and "Definition" in properties:
        definition = json.dumps(properties["Definition"])
    if not definition and "DefinitionS3Location" in properties:
        from moto.s3.models import s3_backends
        from moto.utilities.utils import get_partition

        location = properties["DefinitionS3Location"]
        s3 = s3_backends[account_id][get_partition(region_name)]
        definition = s3.get_object(location["Bucket"], location["Key"]).value.decode("utf-8")  # type: ignore[union-attr]
    if not definition:
        raise ValueError("state machine has no DefinitionString, Definition or DefinitionS3Location")
    for key, value in (properties.get("DefinitionSubstitutions") or {}).items():
        definition = definition.replace("${" + key + "}", str(value))
    return str(definition)


def _patch_cfn_state_machine() -> None:
    """moto lacks: a CloudFormation state machine the interpreter can run, as CDK writes it.

    moto's ``StateMachine.create_from_cloudformation_json`` reads only ``DefinitionString``
    (CDK's ``DefinitionBody.from_file`` writes ``DefinitionS3Location``), ignores
    ``DefinitionSubstitutions`` and ``StateMachineType``, and creates the machine in the plain
    backend even when ``execute_state_machine`` is on, so executions never run. The patch
    resolves the definition (S3 asset + substitutions) and creates it in the executing backend.
    """
    from moto.stepfunctions.models import StateMachine
    from moto.stepfunctions.responses import get_backend as stepfunctions_backend
    from moto.stepfunctions.utils import cfn_to_api_tags

    _require(StateMachine, "create_from_cloudformation_json")
    _require(StateMachine, "delete_from_cloudformation_json")

    def create(
        cls: Any,
        resource_name: str,
        cloudformation_json: Any,
        account_id: str,
        region_name: str,
        **kwargs: Any,
    ) -> Any:
        properties = cloudformation_json["Properties"]
        backend = stepfunctions_backend(account_id, region_name)
        return backend.create_state_machine(
            properties.get("StateMachineName", resource_name),
            _resolve_definition(properties, account_id, region_name),
            properties.get("RoleArn", ""),
            tags=cfn_to_api_tags(properties.get("Tags", [])),
            loggingConfiguration=properties.get("LoggingConfiguration"),
            tracingConfiguration=properties.get("TracingConfiguration"),
            sm_type=properties.get("StateMachineType", "STANDARD"),
        )

    def delete(
        cls: Any, resource_name: str, cloudformation_json: Any, account_id: str, region_name: str
    ) -> None:
        stepfunctions_backend(account_id, region_name).delete_state_machine(resource_name)

    StateMachine.create_from_cloudformation_json = classmethod(create)  # type: ignore[assignment,method-assign]
    StateMachine.delete_from_cloudformation_json = classmethod(delete)  # type: ignore[assignment,method-assign]


def _patch_cfn_dynamodb_ttl() -> None:
    """moto lacks: ``TimeToLiveSpecification`` on a CloudFormation ``AWS::DynamoDB::Table``.

    moto creates the table but leaves TTL disabled; the patch applies the specification with
    the backend's own ``update_time_to_live`` so ``describe_time_to_live`` matches AWS.
    """
    from moto.dynamodb.models import dynamodb_backends
    from moto.dynamodb.models.table import Table

    original = _require(Table, "create_from_cloudformation_json").__func__

    def create(
        cls: Any,
        resource_name: str,
        cloudformation_json: Any,
        account_id: str,
        region_name: str,
        **kwargs: Any,
    ) -> Any:
        table = original(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs)
        ttl = cloudformation_json["Properties"].get("TimeToLiveSpecification")
        if ttl:
            dynamodb_backends[account_id][region_name].update_time_to_live(table.name, ttl)
        return table

    Table.create_from_cloudformation_json = classmethod(create)  # type: ignore[assignment,method-assign]


@dataclass
class AcceptedResource:
    """A template resource moto has no model for, kept so ``Ref`` and the stack listing work."""

    logical_id: str
    resource_type: str
    properties: dict[str, Any]
    physical_resource_id: str

    def is_created(self) -> bool:
        return True


def _register_cfn_types() -> None:
    """moto lacks: CloudFormation models for types CDK emits around our resources.

    Without a model moto skips the resource (a warning) yet reports ``CREATE_COMPLETE``, and a
    ``Ref`` to it resolves to nothing. Two of them matter locally and are created for real:
    ``AWS::SNS::Subscription`` (subscribe) and ``AWS::ApiGateway::Stage`` (the stage whose name
    is in the approval links). The others (``AWS::CDK::Metadata``, queue, topic and bucket policies,
    alarms, ...) have no local effect and are only recorded.
    """
    from moto.apigateway.models import apigateway_backends
    from moto.cloudformation import parsing
    from moto.core.common_models import CloudFormationModel
    from moto.sns.models import sns_backends

    for getter in ("get_model_list", "get_model_map", "get_name_type_map"):
        _require(_require(parsing, getter), "cache_clear")

    def create_subscription(props: dict[str, Any], account: str, region: str, logical_id: str) -> str:
        backend = sns_backends[account][region]
        subscription = backend.subscribe(props["TopicArn"], props["Endpoint"], props["Protocol"])
        return str(subscription.arn)

    def create_stage(props: dict[str, Any], account: str, region: str, logical_id: str) -> str:
        backend = apigateway_backends[account][region]
        stage = backend.create_stage(
            props["RestApiId"],
            props["StageName"],
            deploymentId=props["DeploymentId"],
            variables=props.get("Variables"),
            description=props.get("Description", ""),
            tracing_enabled=props.get("TracingEnabled"),
        )
        return str(stage.name)

    makers: dict[str, Callable[[dict[str, Any], str, str, str], str] | None] = {
        "AWS::SNS::Subscription": create_subscription,
        "AWS::ApiGateway::Stage": create_stage,
        "AWS::CDK::Metadata": None,
        "AWS::SQS::QueuePolicy": None,
        "AWS::S3::BucketPolicy": None,
        "AWS::SNS::TopicPolicy": None,
        "AWS::CloudWatch::Alarm": None,
        "AWS::CloudWatch::CompositeAlarm": None,
        "AWS::CloudWatch::Dashboard": None,
        "AWS::ApiGateway::Account": None,
        "AWS::Lambda::EventInvokeConfig": None,
        "AWS::ApiGateway::RequestValidator": None,
    }
    already = parsing.get_model_map()
    for resource_type, maker in makers.items():
        if resource_type in already:
            continue

        def create(
            cls: Any,
            resource_name: str,
            cloudformation_json: Any,
            account_id: str,
            region_name: str,
            _maker: Any = maker,
            _type: str = resource_type,
            **kwargs: Any,
        ) -> AcceptedResource:
            props = cloudformation_json.get("Properties", {})
            logical_id = kwargs.get("LogicalId", resource_name)
            physical = _maker(props, account_id, region_name, logical_id) if _maker else resource_name
            return AcceptedResource(logical_id, _type, props, physical)

        type(
            "Local" + resource_type.replace("::", ""),
            (CloudFormationModel,),
            {
                "cloudformation_type": staticmethod(lambda _t=resource_type: _t),
                "cloudformation_name_type": staticmethod(lambda: ""),
                "has_cfn_attr": classmethod(lambda cls, attr: True),
                "create_from_cloudformation_json": classmethod(create),
                "update_from_cloudformation_json": classmethod(
                    lambda cls, original_resource, *args, **kwargs: original_resource
                ),
                "delete_from_cloudformation_json": classmethod(lambda cls, *args, **kwargs: None),
                "is_created": lambda self: True,
            },
        )
    parsing.get_model_list.cache_clear()
    parsing.get_model_map.cache_clear()
    parsing.get_name_type_map.cache_clear()


# ------------------------------------------------------------------------------------ apply

PATCHES: dict[str, Callable[[], None]] = {
    "lambda_invoke": _patch_lambda_invoke,
    "events_stepfunctions_target": _patch_events_stepfunctions_target,
    "cfn_refs": _patch_cfn_refs,
    "cfn_state_machine": _patch_cfn_state_machine,
    "cfn_dynamodb_ttl": _patch_cfn_dynamodb_ttl,
    "cfn_missing_types": _register_cfn_types,
}


def apply() -> None:
    """Apply every patch once per process; refuse a moto these patches were not checked on."""
    import moto

    with _lock:
        if _applied:
            return
        if moto.__version__ != MOTO_VERSION:
            raise MotoInternalsChanged(
                f"the local runtime is checked against moto {MOTO_VERSION}, found {moto.__version__}: "
                "install the pinned version (pip install -e '.[local]') or re-check moto_patches.py"
            )
        for name, patch in PATCHES.items():
            patch()
            _applied.append(name)


# ------------------------------------------------------------------- EventBridge entry size

#: What a ``PutEvents`` request may carry, counted as EventBridge counts it (``Time`` 14 bytes;
#: ``Source``, ``DetailType``, ``Detail`` and each ``Resources`` entry as UTF-8 bytes).
PUT_EVENTS_MAX_BYTES = 256 * 1024


def put_events_entry_size(entry: dict[str, Any]) -> int:
    size = 14 if entry.get("Time") is not None else 0
    for key in ("Source", "DetailType", "Detail"):
        if entry.get(key) is not None:
            size += len(str(entry[key]).encode("utf-8", "surrogatepass"))
    return size + sum(len(str(r).encode("utf-8", "surrogatepass")) for r in entry.get("Resources") or [])


def _patch_events_entry_size() -> None:
    """moto lacks: the ``PutEvents`` size limit.

    moto accepts an entry of any size; EventBridge refuses a request whose entries add up to more
    than 256 KB with a ``ValidationException`` and delivers none of them. Without the limit an
    oversized review would start an execution locally that could never start in AWS. The patch
    checks the size before moto's ``put_events`` runs.
    """
    from moto.events.exceptions import ValidationException
    from moto.events.models import EventsBackend

    original = _require(EventsBackend, "put_events")

    def put_events(self: Any, events: list[dict[str, Any]]) -> list[dict[str, Any]]:
        if sum(put_events_entry_size(entry) for entry in events) > PUT_EVENTS_MAX_BYTES:
            raise ValidationException("Total size of the entries in the request is over the limit.")
        return original(self, events)  # type: ignore[no-any-return]

    put_events.__wrapped__ = original  # type: ignore[attr-defined]
    EventsBackend.put_events = put_events  # type: ignore[method-assign]


PATCHES["events_entry_size"] = _patch_events_entry_size


# --------------------------------------------------------------------- DynamoDB thread safety

#: The item operations of moto's DynamoDB backend that the stack's callers use.
DYNAMODB_ITEM_OPERATIONS = ("put_item", "get_item", "update_item", "delete_item", "query", "scan")
_dynamodb_lock = threading.RLock()


def _patch_dynamodb_thread_safety() -> None:
    """moto lacks: thread-safe DynamoDB tables.

    A table's items live in plain dicts. The workflow's executions run on their own threads and
    write items (review claims, approvals) while the inbox page or a waiting ``reviewflow run``
    scans the table, and a scan that iterates while a put inserts fails with ``RuntimeError:
    dictionary changed size during iteration`` (seen in a 1,000-review soak). DynamoDB itself
    serves concurrent callers; the patch serialises the backend's item operations behind one lock.
    """
    from moto.dynamodb.models import DynamoDBBackend

    for name in DYNAMODB_ITEM_OPERATIONS:
        original = _require(DynamoDBBackend, name)

        def locked(self: Any, *args: Any, __original: Callable[..., Any] = original, **kwargs: Any) -> Any:
            with _dynamodb_lock:
                return __original(self, *args, **kwargs)

        locked.__wrapped__ = original  # type: ignore[attr-defined]
        locked.__name__ = name
        setattr(DynamoDBBackend, name, locked)


PATCHES["dynamodb_thread_safety"] = _patch_dynamodb_thread_safety
