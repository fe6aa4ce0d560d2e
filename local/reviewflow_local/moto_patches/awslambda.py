"""Lambda: running the function's real handler in this process instead of in Docker."""

from __future__ import annotations

import json
import traceback
from collections.abc import Callable
from typing import Any

from reviewflow_local.moto_patches._support import require

#: ``runner(function, payload) -> (response_bytes, errored)``; set by the local stack.
LambdaRunner = Callable[[Any, Any], tuple[bytes, bool]]

_lambda_runner: LambdaRunner | None = None


def set_lambda_runner(runner: LambdaRunner | None) -> None:
    """Route Lambda invocations to ``runner`` (``None``: back to moto's echo)."""
    global _lambda_runner
    _lambda_runner = runner


def patch_lambda_invoke() -> None:
    """moto lacks: running a Lambda handler without Docker.

    With ``{"lambda": {"use_docker": False}}`` moto's ``LambdaSimpleBackend.invoke`` only echoes
    the payload. The patch hands the function (its Handler, environment, timeout) and the payload
    to the runner the local stack registered, and reports a raised exception the way Lambda does:
    an ``X-Amz-Function-Error`` header and an ``{"errorType", "errorMessage"}`` body, which the
    Step Functions interpreter turns into the error name that Retry and Catch match.
    """
    from moto.awslambda_simple.models import LambdaSimpleBackend

    original = require(LambdaSimpleBackend, "invoke")
    require(LambdaSimpleBackend, "get_function")

    def invoke(
        self: Any, function_name: str, qualifier: str | None, body: Any, headers: Any, response_headers: Any
    ) -> bytes | str | None:
        runner = _lambda_runner
        if runner is None:
            return original(self, function_name, qualifier, body, headers, response_headers)  # type: ignore[no-any-return]
        function = self.get_function(function_name, qualifier)
        payload, errored = runner(function, body)
        if errored:
            response_headers["x-amz-function-error"] = "Unhandled"
        return payload

    invoke.__wrapped__ = original  # type: ignore[attr-defined]
    LambdaSimpleBackend.invoke = invoke  # type: ignore[method-assign]


def lambda_error_envelope(exc: BaseException) -> bytes:
    """The body Lambda returns for an unhandled exception (``errorType`` = the class name)."""
    return json.dumps(
        {
            "errorType": type(exc).__name__,
            "errorMessage": str(exc),
            "stackTrace": traceback.format_tb(exc.__traceback__)[-5:],
        }
    ).encode("utf-8")
