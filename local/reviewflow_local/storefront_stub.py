"""A stand-in for the storefront's reply and moderation endpoints: records requests, injects faults.

A threaded Werkzeug server on 127.0.0.1 (the library the local HTTP front serves with). Every
request is recorded (method, path, headers, body) and answered ``200 {"status": "accepted"}``
unless a fault is queued for its path: ``inject("/reply", [500, "timeout", 400])`` makes the next
three requests to ``/reply`` answer 500, time out (the stub holds the answer until the client has
given up, or the stub stops), and answer 400; later ones are answered normally again.
"""

from __future__ import annotations

import json
import threading
from collections import deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any

from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

HOST = "127.0.0.1"
TIMEOUT = "timeout"
#: How long a "timeout" fault holds its answer at most (the client gives up long before).
HOLD_SECONDS = 30.0

Fault = int | str  # an HTTP status, or TIMEOUT


@dataclass(frozen=True)
class StubRequest:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    answered: str  # the status answered, or "timeout"

    def json(self) -> Any:
        return json.loads(self.body)

    def header(self, name: str) -> str | None:
        wanted = name.lower()
        return next((v for k, v in self.headers.items() if k.lower() == wanted), None)


class _QuietHandler(WSGIRequestHandler):
    def log(self, type: str, message: str, *args: Any) -> None:
        pass


def parse_faults(spec: str) -> dict[str, list[Fault]]:
    """``/reply=500,timeout;/moderation=400`` -> ``{"/reply": [500, "timeout"], ...}``."""
    faults: dict[str, list[Fault]] = {}
    for part in filter(None, (p.strip() for p in spec.split(";"))):
        path, _, answers = part.partition("=")
        if not path.startswith("/") or not answers:
            raise ValueError(f"storefront fault {part!r} is not '/path=500,timeout,400'")
        faults[path] = [_fault(a.strip()) for a in answers.split(",") if a.strip()]
    return faults


def _fault(text: str) -> Fault:
    if text == TIMEOUT:
        return TIMEOUT
    if text.isdigit() and 100 <= int(text) <= 599:
        return int(text)
    raise ValueError(f"storefront fault {text!r} is neither an HTTP status nor 'timeout'")


class StorefrontStub:
    def __init__(self, port: int = 0, faults: Mapping[str, Sequence[Fault]] | None = None) -> None:
        self._faults: dict[str, deque[Fault]] = {}
        self._requests: list[StubRequest] = []
        self._lock = threading.Condition()
        self._stopping = threading.Event()
        for path, answers in (faults or {}).items():
            self.inject(path, answers)
        self._server: BaseWSGIServer = make_server(
            HOST, port, self._app, threaded=True, request_handler=_QuietHandler
        )
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="reviewflow-storefront-stub", daemon=True
        )

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self._server.server_address[1]}"

    def start(self) -> StorefrontStub:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()  # releases held "timeout" answers
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> StorefrontStub:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def inject(self, path: str, answers: Iterable[Fault]) -> None:
        with self._lock:
            self._faults.setdefault(path, deque()).extend(answers)

    def requests(self, path: str | None = None) -> list[StubRequest]:
        with self._lock:
            return [r for r in self._requests if path is None or r.path == path]

    def _app(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "/")
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        headers = {
            key[5:].replace("_", "-").title(): str(value)
            for key, value in environ.items()
            if key.startswith("HTTP_")
        }
        if environ.get("CONTENT_TYPE"):
            headers["Content-Type"] = environ["CONTENT_TYPE"]
        with self._lock:
            queued = self._faults.get(path)
            fault: Fault = queued.popleft() if queued else 200
            self._requests.append(StubRequest(environ["REQUEST_METHOD"], path, headers, body, str(fault)))
            self._lock.notify_all()
        if fault == TIMEOUT:
            self._stopping.wait(HOLD_SECONDS)
            fault = 504
        status = int(fault)
        answer = {"status": "accepted"} if 200 <= status < 300 else {"error": HTTPStatus(status).phrase}
        data = json.dumps(answer).encode()
        start_response(
            f"{status} {HTTPStatus(status).phrase}",
            [("Content-Type", "application/json"), ("Content-Length", str(len(data)))],
        )
        return [data]
