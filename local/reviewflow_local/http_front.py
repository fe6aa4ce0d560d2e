"""The local HTTP front on 127.0.0.1: approval routes, the inbox, and an AWS endpoint.

- ``/<stage>/<path>``: the REST API deployed from the template. Routes, methods and their
  ``AWS_PROXY`` integrations are read from the (moto) API Gateway; a request becomes a REST
  proxy event for the integrated function, invoked through the (moto) Lambda API. moto's own
  API Gateway does not invoke proxy integrations, hence this front.
- ``/``: the inbox, listing pending approvals with links to their ``.eml`` files.
- ``/outbox/<file>.eml`` (download) and ``/outbox/<file>.html`` (the email's HTML part).
- With ``aws_endpoint=True`` (``reviewflow serve``), any request signed like an AWS API call
  goes to moto's own server application, which shares this process's backends, so
  ``aws --endpoint-url http://127.0.0.1:<port> events put-events ...`` reaches the local bus.
"""

from __future__ import annotations

import base64
import html
import json
import re
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from http import HTTPStatus
from socketserver import ThreadingMixIn
from typing import Any
from urllib.parse import parse_qs, quote
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from reviewflow_local.outbox import Outbox, read_message

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]
_FUNCTION_IN_URI = re.compile(r"functions/(arn:[^/]+)/invocations")


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


class _Server(ThreadingMixIn, WSGIServer):
    daemon_threads = True
    allow_reuse_address = True


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass  # request lines would carry the link secret (?s=...) into the terminal


class HttpFront:
    def __init__(
        self,
        *,
        lambda_client: Any,
        routes: list[Route],
        stage: str,
        outbox: Outbox,
        pending_approvals: Callable[[], list[dict[str, Any]]],
        outcome_count: Callable[[], int] = lambda: 0,
        aws_app: WsgiApp | None = None,
        port: int = 0,
    ) -> None:
        self._lambda = lambda_client
        self.routes = routes
        self.stage = stage
        self._outbox = outbox
        self._pending = pending_approvals
        self._outcomes = outcome_count
        self._aws_app = aws_app
        self._server = make_server("127.0.0.1", port, self, server_class=_Server, handler_class=_QuietHandler)
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="reviewflow-http", daemon=True
        )

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def stage_url(self) -> str:
        return f"{self.url}/{self.stage}"

    def start(self) -> HttpFront:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    # ------------------------------------------------------------------------------ WSGI

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "/")
        if self._aws_app is not None and _is_aws_call(environ):
            return self._aws_app(environ, start_response)
        try:
            if path.startswith(f"/{self.stage}/"):
                status, headers, body = self._api(environ, path[len(self.stage) + 1 :])
            elif path == "/" and environ["REQUEST_METHOD"] == "GET":
                status, headers, body = 200, {"Content-Type": "text/html; charset=utf-8"}, self._inbox()
            elif path.startswith("/outbox/") and environ["REQUEST_METHOD"] == "GET":
                status, headers, body = self._outbox_file(path[len("/outbox/") :])
            else:
                status, headers, body = 404, {"Content-Type": "text/plain"}, b"not found\n"
        except Exception as exc:  # a bug here must not kill the server thread
            status, headers, body = (
                500,
                {"Content-Type": "text/plain"},
                f"local front error: {exc!r}\n".encode(),
            )
        start_response(f"{status} {HTTPStatus(status).phrase}", list(headers.items()))
        return [body]

    def _api(self, environ: dict[str, Any], path: str) -> tuple[int, dict[str, str], bytes]:
        method = environ["REQUEST_METHOD"]
        for route in self.routes:
            match = route.pattern.match(path)
            if match and route.method in (method, "ANY"):
                event = self._proxy_event(environ, route, path, match.groupdict())
                answer = self._lambda.invoke(
                    FunctionName=route.function_arn, Payload=json.dumps(event).encode()
                )
                payload = json.loads(answer["Payload"].read() or b"{}")
                if answer.get("FunctionError") or "statusCode" not in payload:
                    return 502, {"Content-Type": "application/json"}, b'{"message": "Internal server error"}'
                return _from_proxy_result(payload)
        return 403, {"Content-Type": "application/json"}, b'{"message":"Missing Authentication Token"}'

    def _proxy_event(
        self, environ: dict[str, Any], route: Route, path: str, parameters: dict[str, str]
    ) -> dict[str, Any]:
        length = int(environ.get("CONTENT_LENGTH") or 0)
        raw = environ["wsgi.input"].read(length) if length else b""
        headers = {
            key[5:].replace("_", "-").title(): value
            for key, value in environ.items()
            if key.startswith("HTTP_")
        }
        for key in ("CONTENT_TYPE", "CONTENT_LENGTH"):
            if environ.get(key):
                headers[key.replace("_", "-").title()] = environ[key]
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
                "path": f"/{self.stage}{path}",
                "stage": self.stage,
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

    # ----------------------------------------------------------------------------- inbox

    def _inbox(self) -> bytes:
        emails = {m.approval_id: m for m in self._outbox.messages() if m.approval_id}
        rows = []
        for item in self._pending():
            message = emails.get(str(item.get("approval_id")))
            mail = (
                f'<a href="/outbox/{quote(message.path.stem)}.html">open email</a> · '
                f'<a href="/outbox/{quote(message.path.name)}">.eml</a>'
                if message
                else "(no email)"
            )
            rows.append(
                "<tr>"
                + "".join(
                    f"<td>{html.escape(str(item.get(k, '')))}</td>"
                    for k in ("review_id", "product_id", "stage", "created_at")
                )
                + f"<td>{mail}</td></tr>"
            )
        table = (
            "<table><tr><th>review</th><th>product</th><th>stage</th><th>requested</th><th>email</th></tr>"
            + "".join(rows)
            + "</table>"
            if rows
            else "<p>No pending approvals.</p>"
        )
        sent = "".join(
            f'<li><a href="/outbox/{quote(m.path.stem)}.html">{html.escape(m.subject)}</a> '
            f'(<a href="/outbox/{quote(m.path.name)}">.eml</a>)</li>'
            for m in reversed(self._outbox.messages())
        )
        page = f"""<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta http-equiv="refresh" content="5"><title>reviewflow inbox</title>
<style>body{{font-family:system-ui,sans-serif;margin:2rem;max-width:60rem}}
td,th{{padding:.3rem .8rem;text-align:left;border-bottom:1px solid #ddd}}</style></head><body>
<h1>reviewflow — local inbox</h1>
<p>{self._outcomes()} outcome event(s) so far.
Outbox folder: <code>{html.escape(str(self._outbox.folder))}</code></p>
<h2>Pending approvals</h2>{table}
<h2>All emails</h2><ul>{sent or "<li>none yet</li>"}</ul></body></html>"""
        return page.encode("utf-8")

    def _outbox_file(self, name: str) -> tuple[int, dict[str, str], bytes]:
        if not re.fullmatch(r"[A-Za-z0-9_.-]+\.(eml|html)", name) or ".." in name:
            return 404, {"Content-Type": "text/plain"}, b"not found\n"
        stem, _, kind = name.rpartition(".")
        path = self._outbox.folder / f"{stem}.eml"
        if not path.is_file():
            return 404, {"Content-Type": "text/plain"}, b"not found\n"
        if kind == "eml":
            return (
                200,
                {
                    "Content-Type": "message/rfc822",
                    "Content-Disposition": f'attachment; filename="{path.name}"',
                },
                (path.read_bytes()),
            )
        message = read_message(path)
        body = message.html or f"<pre>{html.escape(message.text)}</pre>"
        return (
            200,
            {"Content-Type": "text/html; charset=utf-8", "Referrer-Policy": "no-referrer"},
            body.encode(),
        )


def _is_aws_call(environ: dict[str, Any]) -> bool:
    auth = environ.get("HTTP_AUTHORIZATION", "")
    return auth.startswith("AWS4-HMAC-SHA256") or "HTTP_X_AMZ_TARGET" in environ


def _from_proxy_result(result: dict[str, Any]) -> tuple[int, dict[str, str], bytes]:
    headers = {str(k): str(v) for k, v in (result.get("headers") or {}).items()}
    for key, values in (result.get("multiValueHeaders") or {}).items():
        headers[str(key)] = ", ".join(str(v) for v in values)
    body = result.get("body") or ""
    data = base64.b64decode(body) if result.get("isBase64Encoded") else str(body).encode("utf-8")
    return int(result["statusCode"]), headers, data


def wait_until_listening(front: HttpFront, deadline_seconds: float = 5.0) -> None:
    import socket

    deadline = time.monotonic() + deadline_seconds
    while time.monotonic() < deadline:
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", front.port)) == 0:
                return
        time.sleep(0.02)
    raise RuntimeError(f"the local HTTP front did not start on port {front.port}")
