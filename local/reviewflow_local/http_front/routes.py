"""The deployed REST API's routes, and requests turned into REST proxy events for their functions.

moto's API Gateway stores the routes and their ``AWS_PROXY`` integrations but does not invoke
them, so the front reads them from there and calls the integrated function itself, through the
(moto) Lambda API, with the event API Gateway would have sent.
"""

from __future__ import annotations

import base64
import json
import re
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs

_FUNCTION_IN_URI = re.compile(r"functions/(arn:[^/]+)/invocations")
JSON = {"Content-Type": "application/json"}

Answer = tuple[int, dict[str, str], bytes]


@dataclass(frozen=True)
class Route:
    method: str
    resource: str  # "/approvals/{approval_id}"
    pattern: re.Pattern[str]
    function_arn: str


def read_routes(apigateway: Any, rest_api_id: str) -> list[Route]:
    """Every method with a Lambda proxy integration on the deployed REST API."""
    routes = []
    for resource in apigateway.get_resources(restApiId=rest_api_id, limit=500)["items"]:
        for method in resource.get("resourceMethods", {}) or {}:
            integration = apigateway.get_integration(
                restApiId=rest_api_id, resourceId=resource["id"], httpMethod=method
            )
            found = _FUNCTION_IN_URI.search(integration.get("uri", ""))
            if integration.get("type") != "AWS_PROXY" or not found:
                continue
            path = resource["path"]
            routes.append(Route(method, path, _path_pattern(path), found.group(1)))
    return routes


def _path_pattern(resource_path: str) -> re.Pattern[str]:
    """``/approvals/{approval_id}`` -> a regex with a named group per path parameter."""
    parts = []
    for segment in resource_path.strip("/").split("/"):
        parameter = re.fullmatch(r"\{(\w+)(\+?)\}", segment)
        if parameter:
            parts.append(f"(?P<{parameter.group(1)}>{'.+' if parameter.group(2) else '[^/]+'})")
        else:
            parts.append(re.escape(segment))
    return re.compile("^/" + "/".join(parts) + "$")


def call_route(
    lambda_client: Any, routes: list[Route], stage: str, environ: dict[str, Any], path: str
) -> Answer:
    """Answer ``path`` (below the stage) as API Gateway would: the route's function, or 403."""
    method = environ["REQUEST_METHOD"]
    for route in routes:
        match = route.pattern.match(path)
        if match and route.method in (method, "ANY"):
            event = proxy_event(environ, route, stage, path, match.groupdict())
            answer = lambda_client.invoke(FunctionName=route.function_arn, Payload=json.dumps(event).encode())
            payload = json.loads(answer["Payload"].read() or b"{}")
            if answer.get("FunctionError") or "statusCode" not in payload:
                return 502, dict(JSON), b'{"message": "Internal server error"}'
            return from_proxy_result(payload)
    return 403, dict(JSON), b'{"message":"Missing Authentication Token"}'


def _request_headers(environ: dict[str, Any]) -> dict[str, str]:
    headers = {
        key[5:].replace("_", "-").title(): value for key, value in environ.items() if key.startswith("HTTP_")
    }
    for key in ("CONTENT_TYPE", "CONTENT_LENGTH"):
        if environ.get(key):
            headers[key.replace("_", "-").title()] = environ[key]
    return headers


def proxy_event(
    environ: dict[str, Any], route: Route, stage: str, path: str, parameters: dict[str, str]
) -> dict[str, Any]:
    """The REST API (v1) proxy event for this request."""
    length = int(environ.get("CONTENT_LENGTH") or 0)
    raw = environ["wsgi.input"].read(length) if length else b""
    headers = _request_headers(environ)
    query = parse_qs(environ.get("QUERY_STRING", ""), keep_blank_values=True)
    try:
        body, encoded = raw.decode("utf-8"), False
    except UnicodeDecodeError:
        body, encoded = base64.b64encode(raw).decode("ascii"), True
    now = datetime.now(UTC)
    return {
        "resource": route.resource,
        "path": path,
        "httpMethod": environ["REQUEST_METHOD"],
        "headers": headers,
        "multiValueHeaders": {k: [v] for k, v in headers.items()},
        "queryStringParameters": {k: v[-1] for k, v in query.items()} or None,
        "multiValueQueryStringParameters": query or None,
        "pathParameters": parameters or None,
        "stageVariables": None,
        "requestContext": {
            "resourcePath": route.resource,
            "httpMethod": environ["REQUEST_METHOD"],
            "path": f"/{stage}{path}",
            "stage": stage,
            "requestId": str(uuid.uuid4()),
            "requestTimeEpoch": int(now.timestamp() * 1000),
            "requestTime": now.strftime("%d/%b/%Y:%H:%M:%S +0000"),
            "protocol": environ.get("SERVER_PROTOCOL", "HTTP/1.1"),
            "accountId": "123456789012",
            "apiId": "local",
            "domainName": environ.get("HTTP_HOST", ""),
            "identity": {
                "sourceIp": environ.get("REMOTE_ADDR", "127.0.0.1"),
                "userAgent": headers.get("User-Agent"),
            },
        },
        "body": body or None,
        "isBase64Encoded": encoded,
    }


def from_proxy_result(result: dict[str, Any]) -> Answer:
    headers = {str(k): str(v) for k, v in (result.get("headers") or {}).items()}
    for key, values in (result.get("multiValueHeaders") or {}).items():
        headers[str(key)] = ", ".join(str(v) for v in values)
    body = result.get("body") or ""
    data = base64.b64decode(body) if result.get("isBase64Encoded") else str(body).encode("utf-8")
    return int(result["statusCode"]), headers, data
