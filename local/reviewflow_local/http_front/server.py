"""The front itself: a threaded Werkzeug server on 127.0.0.1 that answers only to its own address."""

from __future__ import annotations

import logging
import socket
import threading
import time
from collections.abc import Callable, Iterable
from http import HTTPStatus
from typing import Any

from werkzeug.serving import LISTEN_QUEUE, BaseWSGIServer, WSGIRequestHandler, make_server

from reviewflow_local.http_front.inbox import NOT_FOUND, Inbox
from reviewflow_local.http_front.routes import Answer, Route, call_route
from reviewflow_local.outbox import Outbox

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]
HOST = "127.0.0.1"
LOG = logging.getLogger("reviewflow_local.http_front")
MISDIRECTED = HTTPStatus.MISDIRECTED_REQUEST


class _QuietHandler(WSGIRequestHandler):
    """Werkzeug's handler, minus its request log: request lines carry link secrets (``?s=...``)."""

    def log(self, type: str, message: str, *args: Any) -> None:
        pass


def allowed_hosts(port: int) -> frozenset[str]:
    """The ``Host`` values that name this server: the loopback IP or ``localhost``, with the port.

    A page on another site that rebinds its own name to 127.0.0.1 reaches this port with *its*
    name in ``Host``; answering only to our own names is what keeps it from reading the inbox
    (every pending link's secret) or driving the AWS endpoint. Without a port a client means 80.
    """
    names = {f"{HOST}:{port}", f"localhost:{port}"}
    if port == 80:
        names |= {HOST, "localhost"}
    return frozenset(names)


class HttpFront:
    """Approval routes, the inbox, the outbox files and (for ``serve``) moto's AWS endpoint."""

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
        self._aws_app = aws_app
        self._inbox = Inbox(
            lambda_client=lambda_client,
            routes=routes,
            outbox=outbox,
            pending_approvals=pending_approvals,
            outcome_count=outcome_count,
        )
        self._server = _serve_on(port, self)
        self._hosts = allowed_hosts(self.port)
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="reviewflow-http", daemon=True
        )

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    @property
    def stage_url(self) -> str:
        return f"{self.url}/{self.stage}"

    def start(self) -> HttpFront:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def approvals(self) -> list[dict[str, str]]:
        return self._inbox.approvals()

    def show_deliveries(self, deliveries: Callable[[], list[dict[str, Any]]]) -> None:
        """List the storefront deliveries on the inbox page (``reviewflow_local.storefront``)."""
        self._inbox.deliveries = deliveries

    # ------------------------------------------------------------------------------ WSGI

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if str(environ.get("HTTP_HOST", "")).lower() not in self._hosts:
            status, headers, body = self._misdirected()
        elif self._aws_app is not None and _is_aws_call(environ):
            return self._aws_app(environ, start_response)
        else:
            status, headers, body = self._answer(environ)
        start_response(f"{status} {HTTPStatus(status).phrase}", list(headers.items()))
        return [body]

    def _misdirected(self) -> Answer:
        names = f"{HOST}:{self.port} or localhost:{self.port}"
        body = f"misdirected request: this server answers only to Host {names}\n"
        headers = {"Content-Type": "text/plain; charset=utf-8", "X-Content-Type-Options": "nosniff"}
        return MISDIRECTED, headers, body.encode("ascii")

    def _answer(self, environ: dict[str, Any]) -> Answer:
        path = environ.get("PATH_INFO", "/")
        method = environ["REQUEST_METHOD"]
        try:
            if path.startswith(f"/{self.stage}/"):
                return call_route(self._lambda, self.routes, self.stage, environ, path[len(self.stage) + 1 :])
            if path == "/" and method == "GET":
                return self._inbox.page()
            if path.startswith("/outbox/") and method == "GET":
                return self._inbox.outbox_file(path[len("/outbox/") :])
            return NOT_FOUND
        except Exception:  # a bug here must not kill the server thread
            # The exception can echo request values (secrets among them): log its type and
            # frames on the server side, answer with a generic page.
            LOG.error("local front error on %s", path.split("?")[0], exc_info=True)
            return 500, {"Content-Type": "text/plain"}, b"internal error in the local front\n"


def _serve_on(port: int, app: WsgiApp) -> BaseWSGIServer:
    """A threaded Werkzeug server on ``HOST:port`` listening with Werkzeug's backlog (128).

    The socket is bound here rather than by Werkzeug, which answers a port in use by printing
    and calling ``sys.exit``: the caller gets the ``OSError``, as from any socket.
    """
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind((HOST, port))
        listener.listen(LISTEN_QUEUE)
        return make_server(
            HOST, port, app, threaded=True, request_handler=_QuietHandler, fd=listener.fileno()
        )
    finally:
        listener.close()  # Werkzeug serves on its own duplicate of the descriptor


def _is_aws_call(environ: dict[str, Any]) -> bool:
    auth = environ.get("HTTP_AUTHORIZATION", "")
    return auth.startswith("AWS4-HMAC-SHA256") or "HTTP_X_AMZ_TARGET" in environ


def moto_server_app() -> WsgiApp:
    """moto's own server application over this process's backends (what ``serve`` exposes)."""
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

    return DomainDispatcherApplication(create_backend_app)  # type: ignore[no-any-return]


def wait_until_listening(front: HttpFront, deadline_seconds: float = 5.0) -> None:
    deadline = time.monotonic() + deadline_seconds
    while time.monotonic() < deadline:
        with socket.socket() as probe:
            if probe.connect_ex((HOST, front.port)) == 0:
                return
        time.sleep(0.02)
    raise RuntimeError(f"the local HTTP front did not start on port {front.port}")
