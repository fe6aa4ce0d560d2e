"""Resuming the workflow: ``SendTaskSuccess`` with a reviewer's decision.

Errors carry the Step Functions error code, never the service's message (which may echo the
task token).
"""

from __future__ import annotations

from typing import Any, Protocol

from botocore.exceptions import BotoCoreError, ClientError, HTTPClientError
from botocore.exceptions import ConnectionError as SdkConnectionError

from reviewflow.errors import ApprovalError, ProviderThrottledError, ProviderTimeoutError

NOT_WAITING_CODES = frozenset({"TaskTimedOut", "TaskDoesNotExist", "InvalidToken"})
THROTTLING_CODES = frozenset({"ThrottlingException", "Throttling", "KmsThrottlingException"})
TRANSIENT_CODES = frozenset({"ServiceUnavailable", "InternalFailure", "InternalServerError"})


class ExecutionNotWaitingError(ApprovalError):
    """The execution no longer waits for this token: it timed out, finished or was stopped."""

    def __init__(self, code: str) -> None:
        super().__init__(f"the workflow is no longer waiting for this decision ({code})")
        self.code = code


class WorkflowClient(Protocol):
    def send_task_success(self, task_token: str, output_json: str) -> None: ...


class StepFunctionsWorkflowClient:
    def __init__(self, client: Any) -> None:
        self._client = client

    def send_task_success(self, task_token: str, output_json: str) -> None:
        try:
            self._client.send_task_success(taskToken=task_token, output=output_json)
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "Unknown")
            if code in NOT_WAITING_CODES:
                raise ExecutionNotWaitingError(code) from exc
            if code in THROTTLING_CODES:
                raise ProviderThrottledError(f"SendTaskSuccess throttled ({code})") from exc
            if code in TRANSIENT_CODES:
                raise ProviderTimeoutError(f"SendTaskSuccess unavailable ({code})") from exc
            raise ApprovalError(f"SendTaskSuccess failed ({code})") from exc
        except (SdkConnectionError, HTTPClientError) as exc:
            raise ProviderTimeoutError(f"SendTaskSuccess: {type(exc).__name__}") from exc
        except BotoCoreError as exc:
            raise ApprovalError(f"SendTaskSuccess: {type(exc).__name__}") from exc
