"""The local HTTP front on 127.0.0.1: approval routes, the inbox, and an AWS endpoint.

- ``/<stage>/<path>``: the REST API deployed from the template. Routes, methods and their
  ``AWS_PROXY`` integrations are read from the (moto) API Gateway; a request becomes a REST
  proxy event for the integrated function, invoked through the (moto) Lambda API. moto's own
  API Gateway does not invoke proxy integrations, hence this front.
- ``/``: the inbox, listing pending and decided approvals (read from the approvals table named
  in the approval function's environment, without the token or the secret's hash) with links
  to their ``.eml`` files and, for pending ones, to the emailed approval page.
- ``/outbox/<file>.eml`` (download) and ``/outbox/<file>.html`` (the email's HTML part, served
  under a CSP that allows no script, image or form).
- With ``aws_endpoint=True`` (``reviewflow serve``), any request signed like an AWS API call
  goes to moto's own server application, which shares this process's backends, so
  ``aws --endpoint-url http://127.0.0.1:<port> events put-events ...`` reaches the local bus.
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
import logging
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

from reviewflow_local.outbox import Outbox, OutboxMessage, read_message

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]
_FUNCTION_IN_URI = re.compile(r"functions/(arn:[^/]+)/invocations")
APPROVALS_TABLE_VARIABLE = "REVIEWFLOW_APPROVALS_TABLE"
# What the inbox reads of an approval item; ``task_token`` and ``secret_sha256`` are not listed.
INBOX_ATTRIBUTES = (
    "approval_id",
    "review_id",
    "product_id",
    "stage",
    "status",
    "created_at",
    "expires_at",
    "decision",
    "reviewer",
    "comment",
    "decided_at",
    "closed_reason",
)
INBOX_CSS = (
    "body{font:16px/1.5 system-ui,sans-serif;margin:0 auto;padding:1rem;max-width:72rem}"
    "table{border-collapse:collapse;display:block;overflow-x:auto}"
    "td,th{padding:.3rem .8rem;text-align:left;border-bottom:1px solid #ddd;vertical-align:top}"
    ".note{color:#57534e;font-size:.9rem}td{overflow-wrap:anywhere;max-width:16rem}"
)
_INBOX_CSS_HASH = base64.b64encode(hashlib.sha256(INBOX_CSS.encode("utf-8")).digest()).decode("ascii")
INBOX_HEADERS = {
    "Content-Type": "text/html; charset=utf-8",
    "Content-Security-Policy": (
        f"default-src 'none'; style-src 'sha256-{_INBOX_CSS_HASH}'; form-action 'none'; "
        "frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}
# The email view: the message's own inline styles, nothing else (no script, image or form).
EMAIL_VIEW_HEADERS = {
    "Content-Type": "text/html; charset=utf-8",
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'unsafe-inline'; form-action 'none'; "
        "frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}


LOG = logging.getLogger(__name__)


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
        self._table_name: str | None = None  # found on first use (see ``_approvals_table``)
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
                status, headers, body = 200, dict(INBOX_HEADERS), self._inbox()
            elif path.startswith("/outbox/") and environ["REQUEST_METHOD"] == "GET":
                status, headers, body = self._outbox_file(path[len("/outbox/") :])
            else:
                status, headers, body = 404, {"Content-Type": "text/plain"}, b"not found\n"
        except Exception:  # a bug here must not kill the server thread
            # The exception can echo request values (secrets among them): log its type and
            # frames on the server side, answer with a generic page.
            LOG.error("local front error on %s", environ.get("PATH_INFO", "?").split("?")[0], exc_info=True)
            status, headers = 500, {"Content-Type": "text/plain"}
            body = b"internal error in the local front\n"
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

    def _approvals_table(self) -> str | None:
        """The table the approval route's own function reads (its environment names it)."""
        if self._table_name is None:
            self._table_name = ""
            for route in self.routes:
                config = self._lambda.get_function_configuration(FunctionName=route.function_arn)
                table = config.get("Environment", {}).get("Variables", {}).get(APPROVALS_TABLE_VARIABLE)
                if table:
                    self._table_name = table
                    break
        return self._table_name or None

    def approvals(self) -> list[dict[str, str]]:
        """Every approval item, pending and closed, oldest first: only the columns the inbox shows.

        The scan projects the listed attributes, so the task token and the secret's hash are
        never even read. Without an approval route (no table found) the pending list is used.
        """
        table = self._approvals_table()
        if table is None:
            return [{k: str(v) for k, v in item.items()} for item in self._pending()]
        import boto3

        names = {f"#a{i}": name for i, name in enumerate(INBOX_ATTRIBUTES)}
        dynamodb = boto3.client("dynamodb", region_name=self._lambda.meta.region_name)
        items: list[dict[str, str]] = []
        for page in dynamodb.get_paginator("scan").paginate(
            TableName=table,
            FilterExpression="begins_with(pk, :p)",
            ProjectionExpression=", ".join(names),
            ExpressionAttributeNames=names,
            ExpressionAttributeValues={":p": {"S": "approval#"}},
        ):
            for item in page["Items"]:
                items.append({key: _attribute_text(value) for key, value in item.items()})
        return sorted(items, key=lambda item: item.get("created_at", ""))

    def _inbox(self) -> bytes:
        emails: dict[str, OutboxMessage] = {}
        for message in self._outbox.messages():
            if message.approval_id:
                emails.setdefault(message.approval_id, message)
        approvals = self.approvals()
        pending = [a for a in approvals if a.get("status") == "PENDING"]
        closed = [a for a in approvals if a.get("status") != "PENDING"]
        pending_rows = "".join(
            "<tr>"
            + _cells(a, ("review_id", "product_id", "stage", "created_at"))
            + f"<td>{_e(_epoch_text(a.get('expires_at')))}</td>"
            + f"<td>{_mail_links(emails.get(a.get('approval_id', '')), page=True)}</td></tr>"
            for a in pending
        )
        closed_rows = "".join(
            "<tr>"
            + _cells(a, ("review_id", "stage", "status"))
            + f"<td>{_e(_decision_text(a))}</td>"
            + _cells(a, ("reviewer", "decided_at", "comment"))
            + f"<td>{_mail_links(emails.get(a.get('approval_id', '')), page=False)}</td></tr>"
            for a in closed
        )
        pending_table = (
            "<table><tr><th>review</th><th>product</th><th>stage</th><th>requested</th>"
            f"<th>deadline</th><th>email</th></tr>{pending_rows}</table>"
            if pending_rows
            else "<p>No pending approvals.</p>"
        )
        closed_table = (
            "<table><tr><th>review</th><th>stage</th><th>status</th><th>decision</th><th>reviewer</th>"
            f"<th>decided at</th><th>comment</th><th>email</th></tr>{closed_rows}</table>"
            if closed_rows
            else "<p>Nothing decided yet.</p>"
        )
        sent = "".join(
            f'<li><a href="/outbox/{quote(m.path.stem)}.html">{_e(m.subject)}</a> '
            f'(<a href="/outbox/{quote(m.path.name)}">.eml</a>)</li>'
            for m in reversed(self._outbox.messages())
        )
        page = f"""<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="refresh" content="5"><title>reviewflow inbox</title>
<style>{INBOX_CSS}</style></head><body>
<h1>reviewflow — local inbox</h1>
<p>{self._outcomes()} outcome event(s) so far.
Outbox folder: <code>{_e(self._outbox.folder)}</code></p>
<p class=note>This is the local reviewer's own inbox, served only on 127.0.0.1: the
"approval page" links below are the links from the emails and carry their secret, exactly as the
emails do. Task tokens are never read by this page.</p>
<h2>Pending approvals</h2>{pending_table}
<h2>Decided and closed approvals</h2>{closed_table}
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
        return 200, dict(EMAIL_VIEW_HEADERS), body.encode()


def _e(value: object) -> str:
    return html.escape(str(value), quote=True)


def _cells(item: dict[str, str], keys: tuple[str, ...]) -> str:
    return "".join(f"<td>{_e(item.get(key, ''))}</td>" for key in keys)


def _attribute_text(value: dict[str, Any]) -> str:
    for kind in ("S", "N"):
        if kind in value:
            return str(value[kind])
    return str(next(iter(value.values()), ""))


def _epoch_text(epoch: str | None) -> str:
    try:
        return datetime.fromtimestamp(int(epoch or ""), UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    except ValueError:
        return ""


def _decision_text(item: dict[str, str]) -> str:
    if item.get("decision"):
        return item["decision"]
    return f"none ({item['closed_reason']})" if item.get("closed_reason") else "none"


def _mail_links(message: OutboxMessage | None, *, page: bool) -> str:
    if message is None:
        return "(no email)"
    links = [
        f'<a href="/outbox/{quote(message.path.stem)}.html">open email</a>',
        f'<a href="/outbox/{quote(message.path.name)}">.eml</a>',
    ]
    if page and message.approval_links:
        links.append(f'<a href="{_e(message.approval_links[0])}" rel="noreferrer">approval page</a>')
    return " · ".join(links)


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
