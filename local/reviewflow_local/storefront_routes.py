"""What the synthesized template says about storefront delivery, and EventBridge's rendering of it.

moto stores API destinations but never calls them, so the local runtime does what EventBridge
would: for each rule whose target is an ``AWS::Events::ApiDestination`` it reads (from the
template, never the CDK code) the event pattern, the endpoint and method, the connection's
API-key header, the input transformer, the HTTP header parameters, the retry policy and the
dead-letter queue. ``render_input`` and ``render_headers`` apply the input transformer and the
header parameters with EventBridge's semantics; ``classify`` is its retry rule for one attempt.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

#: EventBridge's defaults when a target has no ``RetryPolicy``.
DEFAULT_RETRY_ATTEMPTS = 185
DEFAULT_MAX_EVENT_AGE_SECONDS = 86_400
#: 4xx answers EventBridge retries (request timeout, too many requests); other 4xx are final.
RETRIED_CLIENT_ERRORS = frozenset({408, 429})
_PLACEHOLDER = re.compile(r"<([A-Za-z0-9_.-]+)>")


class StorefrontTemplateError(ValueError):
    """The template's storefront resources are not in a shape the local runtime can deliver."""


@dataclass(frozen=True)
class DeliveryRoute:
    """One rule target that is an API destination, as the template describes it."""

    rule_id: str  # logical ids: what the delivery log and the DLQ attributes name
    target_id: str
    destination_id: str
    event_pattern: dict[str, Any]
    endpoint: str
    http_method: str
    input_transformer: dict[str, Any] | None
    header_parameters: dict[str, str]
    retry_attempts: int
    max_event_age_seconds: int
    dead_letter_queue_id: str | None
    api_key_header: str | None = None
    api_key_secret: str | None = None  # the secret id the connection's dynamic reference names
    auth_type: str = "NONE"
    invocation_rate_limit: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def _get_att_id(value: Any) -> str | None:
    if isinstance(value, dict) and isinstance(value.get("Fn::GetAtt"), list):
        return str(value["Fn::GetAtt"][0])
    return None


_DYNAMIC_SECRET = re.compile(r"^\{\{resolve:secretsmanager:(?P<id>.+?)(?::SecretString:.*)?\}\}$")


def secret_id_of(value: Any) -> str | None:
    """The secret a ``{{resolve:secretsmanager:...}}`` dynamic reference names (else None)."""
    text = _joined(value)
    found = _DYNAMIC_SECRET.match(text or "")
    return found.group("id") if found else None


def _joined(value: Any) -> str | None:
    """A plain string, or an ``Fn::Join`` of plain strings (how CDK writes dynamic references)."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and "Fn::Join" in value:
        separator, parts = value["Fn::Join"]
        if all(isinstance(part, str) for part in parts):
            return str(separator).join(parts)
    return None


def read_delivery_routes(template: dict[str, Any]) -> list[DeliveryRoute]:
    """Every rule target of the template that is an API destination."""
    resources: dict[str, dict[str, Any]] = template.get("Resources", {})
    routes: list[DeliveryRoute] = []
    for rule_id, rule in sorted(resources.items()):
        if rule.get("Type") != "AWS::Events::Rule":
            continue
        props = rule.get("Properties", {})
        for target in props.get("Targets", []):
            destination_id = _get_att_id(target.get("Arn"))
            destination = resources.get(destination_id or "", {})
            if destination.get("Type") != "AWS::Events::ApiDestination":
                continue
            routes.append(_route(resources, rule_id, props, target, destination_id or "", destination))
    return routes


def _route(
    resources: dict[str, dict[str, Any]],
    rule_id: str,
    rule_props: dict[str, Any],
    target: dict[str, Any],
    destination_id: str,
    destination: dict[str, Any],
) -> DeliveryRoute:
    dest_props = destination.get("Properties", {})
    endpoint = dest_props.get("InvocationEndpoint")
    if not isinstance(endpoint, str):
        raise StorefrontTemplateError(f"{destination_id}: InvocationEndpoint is not a plain URL")
    connection = resources.get(_get_att_id(dest_props.get("ConnectionArn")) or "", {}).get("Properties", {})
    api_key = connection.get("AuthParameters", {}).get("ApiKeyAuthParameters", {})
    retry = target.get("RetryPolicy", {})
    headers = target.get("HttpParameters", {}).get("HeaderParameters", {})
    transformer = target.get("InputTransformer")
    if transformer is not None and not isinstance(transformer.get("InputTemplate"), str):
        raise StorefrontTemplateError(f"{rule_id}: InputTemplate is not a plain string")
    return DeliveryRoute(
        rule_id=rule_id,
        target_id=str(target.get("Id", "")),
        destination_id=destination_id,
        event_pattern=rule_props.get("EventPattern", {}),
        endpoint=endpoint,
        http_method=str(dest_props.get("HttpMethod", "POST")),
        input_transformer=transformer,
        header_parameters={str(k): str(v) for k, v in headers.items()},
        retry_attempts=int(retry.get("MaximumRetryAttempts", DEFAULT_RETRY_ATTEMPTS)),
        max_event_age_seconds=int(retry.get("MaximumEventAgeInSeconds", DEFAULT_MAX_EVENT_AGE_SECONDS)),
        dead_letter_queue_id=_get_att_id(target.get("DeadLetterConfig", {}).get("Arn")),
        api_key_header=api_key.get("ApiKeyName"),
        api_key_secret=secret_id_of(api_key.get("ApiKeyValue")),
        auth_type=str(connection.get("AuthorizationType", "NONE")),
        invocation_rate_limit=dest_props.get("InvocationRateLimitPerSecond"),
    )


def select_path(event: Any, path: str) -> tuple[bool, Any]:
    """``(found, value)`` for the dotted JSONPath subset input transformers use (``$.a.b``)."""
    if not path.startswith("$"):
        raise StorefrontTemplateError(f"not a JSONPath: {path!r}")
    node = event
    for part in [p for p in path[1:].split(".") if p]:
        if not isinstance(node, dict) or part not in node:
            return False, None
        node = node[part]
    return True, node


def render_input(transformer: dict[str, Any] | None, event: dict[str, Any], rule_name: str = "") -> str:
    """The request body EventBridge sends: the input template with its placeholders filled.

    A placeholder inside a JSON string is replaced by the value's text (a string without quotes);
    one outside a string by the value as JSON. A path missing from the event gives ``null``
    outside a string and nothing inside one. Without a transformer the whole event is sent.
    """
    if transformer is None:
        return json.dumps(event)
    values: dict[str, tuple[bool, Any]] = {
        name: select_path(event, str(path)) for name, path in transformer.get("InputPathsMap", {}).items()
    }
    values["aws.events.rule-name"] = (True, rule_name)
    values["aws.events.event"] = (True, {k: v for k, v in event.items() if k != "detail"})
    values["aws.events.event.json"] = (True, event)
    return _fill(str(transformer["InputTemplate"]), values)


def _fill(template: str, values: dict[str, tuple[bool, Any]]) -> str:
    out: list[str] = []
    in_string = escaped = False
    index = 0
    while index < len(template):
        char = template[index]
        if char == "<":
            found = _PLACEHOLDER.match(template, index)
            if found and found.group(1) in values:
                present, value = values[found.group(1)]
                out.append(_as_text(present, value) if in_string else _as_json(present, value))
                index = found.end()
                continue
        out.append(char)
        if in_string and char == "\\" and not escaped:
            escaped = True
        else:
            if char == '"' and not escaped:
                in_string = not in_string
            escaped = False
        index += 1
    return "".join(out)


def _as_json(present: bool, value: Any) -> str:
    return json.dumps(value if present else None, ensure_ascii=False)


def _as_text(present: bool, value: Any) -> str:
    if not present or value is None:
        return ""
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return json.dumps(text, ensure_ascii=False)[1:-1]


def render_headers(route: DeliveryRoute, event: dict[str, Any]) -> dict[str, str]:
    """Header parameters: a value starting with ``$.`` is a path into the event, else literal."""
    headers: dict[str, str] = {}
    for name, value in route.header_parameters.items():
        if value.startswith("$."):
            present, selected = select_path(event, value)
            if not present or selected is None:
                continue
            headers[name] = selected if isinstance(selected, str) else json.dumps(selected)
        else:
            headers[name] = value
    return headers


class AttemptResult(StrEnum):
    DELIVERED = "delivered"
    RETRY = "retry"
    FAILED = "failed"  # final: not retried


def classify(status: int | None) -> AttemptResult:
    """EventBridge's rule for an API destination answer; ``None`` is a timeout or no connection.

    2xx is delivered; 5xx, 408, 429, a timeout and a connection error are retried; any other
    answer (other 4xx, and 1xx/3xx, which EventBridge does not follow) goes to the DLQ at once.
    """
    if status is None:
        return AttemptResult.RETRY
    if 200 <= status < 300:
        return AttemptResult.DELIVERED
    if status >= 500 or status in RETRIED_CLIENT_ERRORS:
        return AttemptResult.RETRY
    return AttemptResult.FAILED
