"""One translation of botocore's errors into the pipeline's typed errors.

Each adapter names its service's error codes (they differ per service); this module decides what
each kind means for the workflow: throttling and transient failures become the two retryable
errors the ASL's Retry matches, a misconfiguration (missing resource, missing grant) a
``ConfigurationError``, anything else the adapter's own non-retryable error. It branches on error
codes only, never on message text, and never copies the service's message (it can echo inputs).
"""

from __future__ import annotations

from dataclasses import dataclass

from botocore.exceptions import BotoCoreError, ClientError, HTTPClientError
from botocore.exceptions import ConnectionError as SdkConnectionError

from reviewflow.errors import (
    ConfigurationError,
    ProviderThrottledError,
    ProviderTimeoutError,
    ReviewflowError,
)


@dataclass(frozen=True)
class ErrorCodes:
    throttling: frozenset[str]
    transient: frozenset[str]
    misconfigured: frozenset[str] = frozenset()
    #: What to check when a code says the function is misconfigured.
    check: str = "the resource and the function's grants"


#: DynamoDB's codes, for every table adapter (each names its own table with ``dataclasses.replace``).
DYNAMODB_CODES = ErrorCodes(
    throttling=frozenset(
        {
            "ProvisionedThroughputExceededException",
            "ThrottlingException",
            "RequestLimitExceeded",
            "Throttling",
        }
    ),
    transient=frozenset({"InternalServerError", "ServiceUnavailable", "TransactionConflictException"}),
    misconfigured=frozenset({"ResourceNotFoundException", "AccessDeniedException"}),
    check="the table and the function's grants",
)


def error_code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", "Unknown"))


def translate(
    exc: ClientError | BotoCoreError, what: str, codes: ErrorCodes, otherwise: type[ReviewflowError]
) -> ReviewflowError:
    """The typed error for a failed ``what`` (e.g. ``"SNS publish"``); raise it ``from exc``."""
    if isinstance(exc, SdkConnectionError | HTTPClientError):  # no answer: worth retrying
        return ProviderTimeoutError(f"{what}: {type(exc).__name__}")
    if not isinstance(exc, ClientError):  # parameter validation and the like: a bug, not weather
        return otherwise(f"{what}: {type(exc).__name__}")
    code = error_code(exc)
    if code in codes.throttling:
        return ProviderThrottledError(f"{what} throttled ({code})")
    if code in codes.transient:
        return ProviderTimeoutError(f"{what} unavailable ({code})")
    if code in codes.misconfigured:
        return ConfigurationError(f"{what} failed ({code}); check {codes.check}")
    return otherwise(f"{what} failed ({code})")
