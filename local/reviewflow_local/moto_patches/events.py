"""EventBridge: rule targets that start Step Functions executions, and the PutEvents size limit."""

from __future__ import annotations

import copy
import inspect
import json
from datetime import UTC, datetime
from typing import Any

from reviewflow_local.moto_patches._support import MotoInternalsChanged, memoised_jsonpath_parse, require


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


def patch_events_stepfunctions_target() -> None:
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

    original = require(Rule, "send_to_targets")

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


#: What a ``PutEvents`` request may carry, counted as EventBridge counts it (``Time`` 14 bytes;
#: ``Source``, ``DetailType``, ``Detail`` and each ``Resources`` entry as UTF-8 bytes).
PUT_EVENTS_MAX_BYTES = 256 * 1024


def put_events_entry_size(entry: dict[str, Any]) -> int:
    size = 14 if entry.get("Time") is not None else 0
    for key in ("Source", "DetailType", "Detail"):
        if entry.get(key) is not None:
            size += len(str(entry[key]).encode("utf-8", "surrogatepass"))
    return size + sum(len(str(r).encode("utf-8", "surrogatepass")) for r in entry.get("Resources") or [])


def patch_events_entry_size() -> None:
    """moto lacks: the ``PutEvents`` size limit.

    moto accepts an entry of any size; EventBridge refuses a request whose entries add up to more
    than 256 KB with a ``ValidationException`` and delivers none of them. Without the limit an
    oversized review would start an execution locally that could never start in AWS. The patch
    checks the size before moto's ``put_events`` runs.
    """
    from moto.events.exceptions import ValidationException
    from moto.events.models import EventsBackend

    original = require(EventsBackend, "put_events")

    def put_events(self: Any, events: list[dict[str, Any]]) -> list[dict[str, Any]]:
        if sum(put_events_entry_size(entry) for entry in events) > PUT_EVENTS_MAX_BYTES:
            raise ValidationException("Total size of the entries in the request is over the limit.")
        return original(self, events)  # type: ignore[no-any-return]

    put_events.__wrapped__ = original  # type: ignore[attr-defined]
    EventsBackend.put_events = put_events  # type: ignore[method-assign]


def patch_events_jsonpath_cache() -> None:
    """moto lacks: reusing compiled JSONPaths when it renders an event for a rule target.

    ``EventTemplateParser.parse`` compiles every path of the target's ``InputPathsMap`` (nine
    default ones for a target without a transformer, such as an SQS queue) with
    ``jsonpath_ng.ext.parse``, which builds a new PLY parser each time: 5 % of the local
    runtime's time went there, on every delivered event. moto imports that function *inside*
    ``parse``, at each call, so the only place to hand it the memoised twin is the
    ``jsonpath_ng.ext`` module itself; any later ``from jsonpath_ng.ext import parse`` in the
    process gets the twin too, which returns the same (stateless) compiled expressions.
    """
    import jsonpath_ng.ext
    from moto.events.utils import EventTemplateParser

    if "from jsonpath_ng.ext import parse" not in inspect.getsource(require(EventTemplateParser, "parse")):
        raise MotoInternalsChanged("EventTemplateParser.parse no longer imports jsonpath_ng.ext.parse")
    original = getattr(jsonpath_ng.ext.parse, "__wrapped__", jsonpath_ng.ext.parse)
    jsonpath_ng.ext.parse = memoised_jsonpath_parse(original)


def is_api_destination(arn: str) -> bool:
    return ":api-destination/" in arn and arn.startswith("arn:") and ":events:" in arn


def patch_events_api_destination_targets() -> None:
    """moto lacks: API destination targets that do not break ``PutEvents``.

    moto renders an ``InputTransformer`` for such a target with a parser that leaves string
    values unquoted, so a template like ``{"review_id":<id>}`` raises and the whole PutEvents
    call (the workflow's outcome) fails; even without one, it calls the endpoint only when
    ``MOTO_EVENTS_INVOKE_HTTP`` is set, without a body. The patch leaves API destination targets
    out of moto's delivery: the local runtime delivers them (``reviewflow_local.storefront``),
    rendering the payload, headers, retries and dead-letter queue as EventBridge does.
    """
    from moto.events.models import Rule

    current = require(Rule, "send_to_targets")

    def send_to_targets(self: Any, original_event: dict[str, Any], transform_input: bool = True) -> None:
        if not any(is_api_destination(str(t.get("Arn", ""))) for t in self.targets):
            current(self, original_event, transform_input)
            return
        others = copy.copy(self)
        others.targets = [t for t in self.targets if not is_api_destination(str(t.get("Arn", "")))]
        if others.targets:
            current(others, original_event, transform_input)

    send_to_targets.__wrapped__ = current  # type: ignore[attr-defined]
    Rule.send_to_targets = send_to_targets  # type: ignore[method-assign,assignment]
