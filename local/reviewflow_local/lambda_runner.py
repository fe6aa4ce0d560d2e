"""Runs a deployed function's handler in this process, as Lambda would run it.

moto knows each function's ``Handler`` and environment from the template; this runner imports
the handler module from the code asset (the project's ``functions/`` folder, thanks to
``aws:cdk:disable-asset-staging``), applies the function's environment around the call and
answers with Lambda's payload or error envelope. Environment variables are process-global, so
invocations are serialised by one lock; the handlers are fast offline, and the workflow never
needs two at once.
"""

from __future__ import annotations

import contextlib
import importlib
import json
import os
import sys
import threading
import time
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from reviewflow_local.moto_patches import lambda_error_envelope


@dataclass
class LocalLambdaContext:
    """The attributes a handler (and Powertools) reads from the Lambda context."""

    function_name: str
    memory_limit_in_mb: int
    invoked_function_arn: str
    timeout_seconds: int
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    function_version: str = "$LATEST"
    log_group_name: str = ""
    log_stream_name: str = "local"
    _started: float = field(default_factory=time.monotonic)

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self.timeout_seconds - (time.monotonic() - self._started)) * 1000))


@dataclass
class Invocation:
    """One call, kept for the CLI's logs and for tests."""

    function_name: str
    handler: str
    errored: bool
    error_type: str | None
    duration_ms: float


@contextlib.contextmanager
def _environment(values: Mapping[str, str]) -> Iterator[None]:
    saved = {key: os.environ.get(key) for key in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


class InProcessLambdaRunner:
    """Callable registered with ``moto_patches.set_lambda_runner``.

    ``overrides`` are environment values the local runtime sets on every function after the
    template's own (the approval base URL of the local HTTP front, tracing off); ``log_stream``
    receives what the handlers print (Powertools' JSON logs and EMF metrics).
    """

    def __init__(
        self,
        code_paths: list[Path],
        overrides: Mapping[str, str] | None = None,
        log_stream: IO[str] | None = None,
    ) -> None:
        self._lock = threading.RLock()
        self.overrides = dict(overrides or {})
        self.log_stream = log_stream
        self.invocations: list[Invocation] = []
        for path in code_paths:
            if str(path) not in sys.path:
                sys.path.insert(0, str(path))

    def __call__(self, function: Any, payload: Any) -> tuple[bytes, bool]:
        event = json.loads(payload) if isinstance(payload, str | bytes) and payload else payload
        env = {key: str(value) for key, value in (function.environment_vars or {}).items()}
        env.update(
            {
                "AWS_LAMBDA_FUNCTION_NAME": function.function_name,
                "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(function.memory_size),
                "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
                "_HANDLER": function.handler,
            }
        )
        env.update(self.overrides)
        context = LocalLambdaContext(
            function_name=function.function_name,
            memory_limit_in_mb=int(function.memory_size or 128),
            invoked_function_arn=function.function_arn,
            timeout_seconds=int(function.timeout or 3),
            log_group_name=f"/aws/lambda/{function.function_name}",
        )
        with self._lock:
            started = time.perf_counter()
            error_type = None
            with _environment(env), self._captured_output():
                _forget_settings()
                try:
                    result = resolve_handler(function.handler)(event, context)
                    body = json.dumps(result).encode("utf-8")
                except Exception as exc:
                    body, error_type = lambda_error_envelope(exc), type(exc).__name__
            _forget_settings()
            self.invocations.append(
                Invocation(
                    function_name=function.function_name,
                    handler=function.handler,
                    errored=error_type is not None,
                    error_type=error_type,
                    duration_ms=(time.perf_counter() - started) * 1000,
                )
            )
        return body, error_type is not None

    @contextlib.contextmanager
    def _captured_output(self) -> Iterator[None]:
        if self.log_stream is None:
            yield
            return
        with contextlib.redirect_stdout(self.log_stream):
            yield


def resolve_handler(handler: str) -> Any:
    """``reviewflow.handlers.score_toxicity.handler`` -> the function object."""
    module_name, _, attribute = handler.rpartition(".")
    return getattr(importlib.import_module(module_name), attribute)


def _forget_settings() -> None:
    """Each function reads its own environment: drop the settings the last one cached."""
    config = sys.modules.get("reviewflow.config")
    if config is not None:
        config.get_settings.cache_clear()
