"""A stand-in for an OpenAI-compatible model server: real HTTP on 127.0.0.1, scripted answers.

It is not a language model and says so in every answer: the ``system_fingerprint`` is
``reviewflow-model-standin``, the ``X-Reviewflow-Stand-In`` header explains it, and the models it
lists are ``owned_by`` ``reviewflow-model-standin``. It exists so that the path a real local model
server takes (``--llm openai``: the adapter's HTTP call, the prompt files, the sentiment JSON
repair loop, the publish gate, the workflow's Retry and Catch) can be exercised offline, by the
tests and by a person (``reviewflow model-standin``), without downloading a model.

It speaks the subset of the API the adapter uses: ``GET /v1/models`` and
``POST /v1/chat/completions`` (any path prefix before ``/models`` or ``/chat/completions`` is
accepted, so any base URL on this host works). Each call is classified as a ``sentiment`` call
(the system prompt asks for the sentiment JSON shape), an ``insights`` call (the product-feedback
JSON shape), a ``judge`` call, or a ``reply`` call, and answered by the first matching rule of its
script; with no rule matching, by a built-in answer:

- sentiment: the label read from the star rating in the prompt (1-2 NEGATIVE, 3 MIXED, 4-5
  POSITIVE, none NEUTRAL), with a reason saying so;
- reply: a short courteous reply naming the reviewer and product as the prompt gives them, sorry
  and pointing to customer support when the rating or label is low, thankful otherwise;
- insights: an empty list of aspects (naming aspects would mean reading the review, which the
  stand-in does not pretend to do; script one if a test needs it);
- judge: HTTP 501 (a grade the stand-in made up would mislead; script one if a test needs it).

A script is a JSON array (or JSON lines) of rules: ``{"step": "sentiment"|"insights"|"reply"|"judge"|"any",
"contains": "text in the prompt", "reply": "answer text", "times": 1,
"status": 200, "hang": false, "finish_reason": "stop"}``. ``times`` limits how often a rule
answers (default: always); ``status`` other than 200 answers with that HTTP error; ``hang`` holds
the request open until the stand-in stops or ``release()`` is called (the client's timeout then
decides what happens). Every request is recorded (``requests``) so tests can read exactly what was
sent.
"""

from __future__ import annotations

import json
import re
import threading
import time
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server
from werkzeug.wrappers import Request, Response

FINGERPRINT = "reviewflow-model-standin"
STAND_IN_HEADER = "X-Reviewflow-Stand-In"
STAND_IN_NOTICE = "scripted answers from reviewflow's model stand-in, not a language model"
DEFAULT_MODEL = "reviewflow-standin"
STEPS = ("sentiment", "insights", "reply", "judge", "any")
_RATING = re.compile(r"Star rating[^:\n]*:\s*([1-5])\b")
_FIELD = re.compile(r"^(Product name|Reviewer name|Detected sentiment):\s*(.*)$", re.MULTILINE)
_NOT_GIVEN = "(not given)"


class _QuietHandler(WSGIRequestHandler):
    """No access log line per request: the stand-in's callers report what matters."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        return


class ScriptError(ValueError):
    """A script that cannot be used; the message names the rule and the problem."""


@dataclass
class Rule:
    step: str = "any"
    contains: str | None = None
    reply: str | None = None
    times: int | None = None
    status: int = 200
    hang: bool = False
    finish_reason: str = "stop"
    used: int = 0

    def matches(self, step: str, prompt: str) -> bool:
        if self.times is not None and self.used >= self.times:
            return False
        if self.step not in ("any", step):
            return False
        return self.contains is None or self.contains in prompt


@dataclass(frozen=True)
class RecordedRequest:
    """One chat-completions call as the stand-in received it."""

    step: str
    model: str
    messages: list[dict[str, Any]]
    max_tokens: int | None
    temperature: float | None
    authorization: bool  # whether an Authorization header came (its value is never kept)

    @property
    def system(self) -> str:
        return next((m.get("content", "") for m in self.messages if m.get("role") == "system"), "")

    @property
    def user_messages(self) -> list[str]:
        return [str(m.get("content", "")) for m in self.messages if m.get("role") == "user"]

    @property
    def prompt(self) -> str:
        """The first user message: the rendered prompt (later ones are the repair loop's)."""
        users = self.user_messages
        return users[0] if users else ""


def parse_script(text: str, source: str = "script") -> list[Rule]:
    """Rules from a JSON array or JSON lines; ``ScriptError`` names the first bad rule."""
    stripped = text.strip()
    try:
        raw: Any = (
            json.loads(stripped)
            if stripped.startswith("[")
            else [
                json.loads(line)
                for line in stripped.splitlines()
                if line.strip() and not line.startswith("#")
            ]
        )
    except json.JSONDecodeError as exc:
        raise ScriptError(f"{source}: not JSON ({exc.msg}, line {exc.lineno})") from None
    return [_rule(item, f"{source} rule {number}") for number, item in enumerate(raw, 1)]


def _rule(item: Any, where: str) -> Rule:
    if not isinstance(item, dict):
        raise ScriptError(f"{where}: a rule is a JSON object")
    known = {"step", "contains", "reply", "times", "status", "hang", "finish_reason"}
    unknown = sorted(set(item) - known)
    if unknown:
        raise ScriptError(f"{where}: unknown key(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}")
    rule = Rule(**item)
    if rule.step not in STEPS:
        raise ScriptError(f"{where}: step {rule.step!r} is not one of {', '.join(STEPS)}")
    if rule.times is not None and (not isinstance(rule.times, int) or rule.times < 1):
        raise ScriptError(f"{where}: times must be a whole number of at least 1")
    if not isinstance(rule.status, int) or not 200 <= rule.status <= 599:
        raise ScriptError(f"{where}: status must be an HTTP status (200 to 599)")
    if rule.status == 200 and rule.reply is None and not rule.hang:
        raise ScriptError(f"{where}: a rule answering 200 needs a reply (or hang)")
    return rule


def classify(system: str) -> str:
    """Which step of the pipeline sent the call, read from its system prompt."""
    if '"sentiment"' in system and "POSITIVE" in system:
        return "sentiment"
    if '{"insights": [' in system:
        return "insights"
    if "<candidate_reply>" in system:
        return "judge"
    return "reply"


def builtin_answer(step: str, prompt: str) -> str:
    """The stand-in's answer when no rule matches: derived from the prompt, never generated."""
    rating_match = _RATING.search(prompt)
    rating = int(rating_match.group(1)) if rating_match else None
    if step == "sentiment":
        if rating is None:
            label, why = "NEUTRAL", "no star rating was given"
        else:
            label = "NEGATIVE" if rating <= 2 else "MIXED" if rating == 3 else "POSITIVE"
            why = f"the reviewer gave {rating} of 5 stars"
        return json.dumps({"sentiment": label, "reason": f"Stand-in answer: {why}."})
    if step == "insights":
        return json.dumps({"insights": []})
    fields = {name: value.strip() for name, value in _FIELD.findall(prompt)}
    reviewer = fields.get("Reviewer name", _NOT_GIVEN)
    product = fields.get("Product name", _NOT_GIVEN)
    sentiment = fields.get("Detected sentiment", "NEUTRAL").upper()
    greeting = f"Hi {reviewer}," if reviewer and reviewer != _NOT_GIVEN else "Hello,"
    product_name = product if product and product != _NOT_GIVEN else "the product"
    if (rating is not None and rating <= 2) or (rating is None and sentiment == "NEGATIVE"):
        return (
            f"{greeting} we are sorry to hear that {product_name} did not work out for you. "
            "Please contact our customer support team so they can look into it with you."
        )
    if sentiment in ("NEGATIVE", "MIXED") or rating == 3:
        return (
            f"{greeting} thank you for your honest review of {product_name}. We are sorry about the "
            "part that disappointed you; our customer support team is happy to help with it."
        )
    return f"{greeting} thank you for your kind review of {product_name}. We are glad you are enjoying it."


class ModelStandIn:
    """The server: ``start()`` binds 127.0.0.1 (port 0 picks a free one), ``stop()`` ends it."""

    def __init__(
        self,
        *,
        models: Sequence[str] = (DEFAULT_MODEL,),
        rules: Iterable[Rule] = (),
        port: int = 0,
        host: str = "127.0.0.1",
    ) -> None:
        self.models = list(models)
        self.rules = list(rules)
        self.requests: list[RecordedRequest] = []
        self._lock = threading.Lock()
        self._released = threading.Event()
        self._server: BaseWSGIServer = make_server(
            host, port, self._app, threaded=True, request_handler=_QuietHandler
        )
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        return int(self._server.server_port)

    @property
    def base_url(self) -> str:
        """What ``--llm-base-url`` takes."""
        return f"http://127.0.0.1:{self.port}/v1"

    def start(self) -> ModelStandIn:
        self._thread = threading.Thread(target=self._server.serve_forever, name="model-standin", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self.release()
        if self._thread is not None:  # shutdown() would wait forever for a loop never started
            self._server.shutdown()
            self._thread.join(timeout=5)
            self._thread = None
        self._server.server_close()

    def release(self) -> None:
        """Let every held (``hang``) request finish."""
        self._released.set()

    def __enter__(self) -> ModelStandIn:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def calls(self, step: str | None = None) -> list[RecordedRequest]:
        with self._lock:
            return [r for r in self.requests if step is None or r.step == step]

    # ------------------------------------------------------------------------------- HTTP

    def _app(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        """The WSGI application Werkzeug's server calls, one thread per request."""
        response = self._route(Request(environ))
        return response(environ, start_response)  # type: ignore[no-any-return]

    def _route(self, request: Request) -> Response:
        path = request.path.rstrip("/")
        if request.method == "GET" and path.endswith("/models"):
            return self._json(
                {
                    "object": "list",
                    "data": [
                        {"id": name, "object": "model", "created": 0, "owned_by": FINGERPRINT}
                        for name in self.models
                    ],
                }
            )
        if request.method == "POST" and path.endswith("/chat/completions"):
            return self._chat(request)
        return self._error(
            404,
            f"no route {request.method} {request.path} (the stand-in serves /models and /chat/completions)",
        )

    def _chat(self, request: Request) -> Response:
        try:
            body = json.loads(request.get_data(as_text=True))
            model = str(body["model"])
            messages = list(body["messages"])
        except (ValueError, KeyError, TypeError):
            return self._error(400, "the body must be JSON with 'model' and 'messages'")
        if model not in self.models:
            return self._error(404, f"the model {model!r} does not exist; the stand-in serves {self.models}")
        system = next((str(m.get("content", "")) for m in messages if m.get("role") == "system"), "")
        record = RecordedRequest(
            step=classify(system),
            model=model,
            messages=messages,
            max_tokens=body.get("max_tokens"),
            temperature=body.get("temperature"),
            authorization="Authorization" in request.headers,
        )
        with self._lock:
            self.requests.append(record)
            rule = next((r for r in self.rules if r.matches(record.step, record.prompt)), None)
            if rule is not None:
                rule.used += 1
        if rule is not None and rule.hang:
            self._released.wait()
        if rule is not None and rule.status != 200:
            return self._error(rule.status, f"scripted HTTP {rule.status}")
        if rule is None and record.step == "judge":  # a scripted grade would be a made-up one
            return self._error(
                501, "the stand-in does not grade replies; script a judge rule or use --judge rule"
            )
        text = (
            rule.reply
            if rule is not None and rule.reply is not None
            else builtin_answer(record.step, record.prompt)
        )
        finish = rule.finish_reason if rule is not None else "stop"
        prompt_tokens = sum(len(str(m.get("content", "")).split()) for m in messages)
        return self._json(
            {
                "id": f"chatcmpl-standin-{uuid.uuid4().hex[:12]}",
                "object": "chat.completion",
                "created": int(time.time()),
                "model": model,
                "system_fingerprint": FINGERPRINT,
                "choices": [
                    {"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": finish}
                ],
                "usage": {
                    "prompt_tokens": prompt_tokens,
                    "completion_tokens": len(text.split()),
                    "total_tokens": prompt_tokens + len(text.split()),
                },
            }
        )

    def _json(self, document: Mapping[str, Any], status: int = 200) -> Response:
        return Response(
            json.dumps(document),
            status=status,
            mimetype="application/json",
            headers={STAND_IN_HEADER: STAND_IN_NOTICE},
        )

    def _error(self, status: int, message: str) -> Response:
        return self._json({"error": {"message": message, "type": FINGERPRINT}}, status)


def load_script(path: Path) -> list[Rule]:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ScriptError(f"cannot read the script {path} ({exc.strerror or exc})") from None
    return parse_script(text, source=str(path))
