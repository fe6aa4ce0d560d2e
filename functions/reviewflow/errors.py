"""Typed domain errors.

A Lambda function that raises one of these fails with ``errorType`` equal to the class name, and
the workflow's Retry and Catch match on those names (``statemachines/review_response.asl.json``).
Renaming a class is therefore a change to the workflow contract.
"""

from __future__ import annotations


class ReviewflowError(Exception):
    """Base of every error the pipeline raises on purpose."""

    retryable: bool = False


class InvalidInputError(ReviewflowError):
    """A handler was called with input that does not match its contract. Never retried."""


class ConfigurationError(ReviewflowError):
    """The function is misconfigured (missing table, model id...). Never retried."""


class ProviderError(ReviewflowError):
    """A model or AWS service failed in a way retrying will not fix."""


class ProviderThrottledError(ProviderError):
    """The provider refused the call for rate or quota reasons. Retried with backoff."""

    retryable = True


class ProviderTimeoutError(ProviderError):
    """The provider did not answer in time, or is temporarily unavailable. Retried with backoff."""

    retryable = True


class MalformedModelOutputError(ProviderError):
    """The model kept answering outside the required shape after every repair attempt."""


class UnsupportedLanguageError(ProviderError):
    """The provider cannot score text in this language; the review must go to a person."""


class ApprovalError(ReviewflowError):
    """Storing or notifying a pending approval failed."""


class ExecutionNotWaitingError(ApprovalError):
    """The execution no longer waits for this token: it timed out, finished or was stopped."""

    def __init__(self, code: str) -> None:
        super().__init__(f"the workflow is no longer waiting for this decision ({code})")
        self.code = code


RETRYABLE_ERROR_NAMES: tuple[str, ...] = ("ProviderThrottledError", "ProviderTimeoutError")
