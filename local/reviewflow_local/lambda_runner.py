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
from collections.abc import Iterable, Iterator, Mapping
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
    """Apply ``values`` for the duration of a call, without ever adding or removing a key.

    moto's interpreter threads iterate ``os.environ`` (botocore looks for proxy settings whenever
    it builds a client) while a handler runs; adding or deleting a key during that iteration
    raises ``KeyError`` or ``RuntimeError`` in *their* thread, which surfaces as a random
    ``States.Runtime`` task failure. Every key a function may set is therefore reserved up
    front (``reserve_environment``) and only its value changes here; "unset" is the empty string,
    which the runtime settings treat as absent.
    """
    missing = [key for key in values if key not in os.environ]
    if missing:
        raise RuntimeError(f"environment keys not reserved before the first invocation: {missing}")
    saved = {key: os.environ[key] for key in values}
    os.environ.update(values)
    try:
        yield
    finally:
        os.environ.update(saved)


def reserve_environment(keys: Iterable[str]) -> None:
    """Create every key a function may set, empty, before any execution thread runs."""
    for key in keys:
        os.environ.setdefault(key, "")


RUNNER_KEYS = (
    "AWS_LAMBDA_FUNCTION_NAME",
    "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
    "AWS_LAMBDA_FUNCTION_VERSION",
    "_HANDLER",
)


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
        self._reserved: set[str] = set()
        self._closed = False
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
        # A key this function lacks but another one set must read as unset, not as the other's.
        env.update({key: "" for key in self._reserved - env.keys()})
        context = LocalLambdaContext(
            function_name=function.function_name,
            memory_limit_in_mb=int(function.memory_size or 128),
            invoked_function_arn=function.function_arn,
            timeout_seconds=int(function.timeout or 3),
            log_group_name=f"/aws/lambda/{function.function_name}",
        )
        with self._lock:
            if self._closed:
                raise RuntimeError("the local stack has stopped; no handler runs after it")
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

    def close(self) -> None:
        """Wait for a handler in flight, then refuse every later call.

        Executions that outlive the stack (one waiting for a person, say) keep running on moto's
        threads; once moto stops, a handler's AWS client would use the machine's real
        credentials, so nothing may run past this point.
        """
        with self._lock:
            self._closed = True

    def reserve(self, function_environments: Iterable[Mapping[str, str]]) -> None:
        """Reserve every key any function (or this runner) sets; call before executions start."""
        keys = set(self.overrides) | set(RUNNER_KEYS)
        for variables in function_environments:
            keys |= set(variables)
        reserve_environment(keys)
        self._reserved = keys

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
