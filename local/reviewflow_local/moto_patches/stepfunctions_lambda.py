"""Step Functions interpreter: a Lambda task calls moto's Lambda backend without an HTTP round trip.

moto's interpreter invokes a Lambda task's function through a boto3 client, so every task
serialises the request as AWS's REST protocol, goes through botocore's event hooks and moto's
request router (which tries the URL patterns of every service), is parsed back by moto's
``LambdaResponse.invoke``, and its answer makes the same trip back: ~0.7 ms per call against
~0.005 ms for the backend call itself, six to nine times per review (measured with py-spy on a
200-review soak: 7.5 % of the run's GIL time). The patch makes the call ``LambdaResponse.invoke``
would make and builds the answer it would return. A speed-up only; ``apply`` leaves it out with
``speedups=False``.
"""

from __future__ import annotations

import inspect
import io
import sys
from typing import Any

from reviewflow_local.moto_patches._support import MotoInternalsChanged, require

#: The ``Invoke`` parameters the direct call handles; a task passing any other (InvocationType,
#: ClientContext, LogType...) goes through boto3 as before.
DIRECT_PARAMETERS = frozenset({"FunctionName", "Payload", "Qualifier"})
#: What ``LambdaResponse.invoke`` refuses to return (it answers a size error instead).
MAX_RESPONSE_BYTES = 6_000_000
_SIZE_ERROR = (
    b'{"errorMessage": "Response payload size exceeded maximum allowed payload size (6291556 bytes).", '
    b'"errorType": "Function.ResponseSizeTooLarge"}'
)


def direct_invocation(parameters: dict[str, Any]) -> tuple[str, str, str | None] | None:
    """(account, region, qualifier) of a task the direct call can serve, else ``None``.

    Only a full function ARN names its account and region without asking the credentials.
    """
    if set(parameters) - DIRECT_PARAMETERS or not isinstance(parameters.get("FunctionName"), str):
        return None
    parts = parameters["FunctionName"].split(":")
    if len(parts) not in (7, 8) or parts[:3] != ["arn", "aws", "lambda"] or parts[5] != "function":
        return None
    qualifier = parameters.get("Qualifier") or (parts[7] if len(parts) == 8 else None)
    return parts[4], parts[3], qualifier


def invocation_response(payload: bytes | str, response_headers: dict[str, str]) -> dict[str, Any]:
    """What the boto3 client returned for a synchronous ``Invoke`` answered with ``payload``."""
    body = payload.encode("utf-8") if isinstance(payload, str) else payload
    function_error = response_headers.get("x-amz-function-error")
    if sys.getsizeof(payload) > MAX_RESPONSE_BYTES:
        body, function_error = _SIZE_ERROR, "Unhandled"
    response: dict[str, Any] = {"StatusCode": 200, "Payload": io.BytesIO(body)}
    if function_error:
        response["FunctionError"] = function_error
    if "x-amz-executed-version" in response_headers:
        response["ExecutedVersion"] = response_headers["x-amz-executed-version"]
    return response


def patch_direct_lambda_tasks() -> None:
    """moto lacks: an in-process shortcut for the Lambda calls its own interpreter makes.

    ``lambda_eval_utils._invoke_lambda_function(parameters, region, state_credentials)`` (what
    both the ``arn:aws:lambda`` resource and the ``lambda:invoke`` integration end in) builds a
    boto3 client and calls ``invoke``. The patch calls ``get_backend(account, region).invoke``,
    the line ``LambdaResponse.invoke`` runs, with the same arguments (function, qualifier, raw
    payload bytes) and returns what the client would have: ``StatusCode`` 200, the payload,
    ``FunctionError`` from the error header (``Unhandled`` for the in-process runner's error
    envelope), the 6 MB response limit. Anything it does not cover goes through boto3 as
    before: a function named without its ARN, other ``Invoke`` parameters, moto running as a
    server instead of in-process, a call the backend refuses (no such function), which the
    client then reports exactly as moto does. The runner has not run in that last case: the
    backend refuses before it calls the function.
    """
    from moto.awslambda.exceptions import LambdaClientError
    from moto.awslambda.responses import LambdaResponse
    from moto.awslambda.utils import get_backend
    from moto.core.models import botocore_stubber
    from moto.stepfunctions.parser.asl.component.state.exec.state_task import lambda_eval_utils

    original = require(lambda_eval_utils, "_invoke_lambda_function")
    integration = require(lambda_eval_utils, "execute_lambda_function_integration")
    if "_invoke_lambda_function(" not in inspect.getsource(integration):
        raise MotoInternalsChanged("the Lambda integration no longer calls _invoke_lambda_function")
    if "self.backend.invoke(" not in inspect.getsource(require(LambdaResponse, "invoke")):
        raise MotoInternalsChanged("LambdaResponse.invoke no longer calls its backend's invoke")
    require(botocore_stubber, "enabled")

    def invoke_lambda_function(parameters: dict[str, Any], region: str, state_credentials: Any) -> Any:
        target = direct_invocation(parameters) if botocore_stubber.enabled else None
        if target is not None:
            account, function_region, qualifier = target
            response_headers: dict[str, str] = {}
            try:
                payload = get_backend(account, function_region).invoke(
                    parameters["FunctionName"], qualifier, parameters.get("Payload"), {}, response_headers
                )
            except LambdaClientError:  # e.g. no such function: the client reports it as moto would
                payload = None
            if payload is not None:
                response = invocation_response(payload, response_headers)
                response["Payload"] = lambda_eval_utils._from_payload(response["Payload"])
                return response
        return original(parameters=parameters, region=region, state_credentials=state_credentials)

    invoke_lambda_function.__wrapped__ = original  # type: ignore[attr-defined]
    lambda_eval_utils._invoke_lambda_function = invoke_lambda_function
