"""Resuming the workflow: ``SendTaskSuccess`` with a reviewer's decision.

Errors carry the Step Functions error code, never the service's message (which may echo the
task token).
"""

from __future__ import annotations

from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from reviewflow.errors import ApprovalError, ExecutionNotWaitingError
from reviewflow.providers.aws_errors import ErrorCodes, error_code, translate

NOT_WAITING_CODES = frozenset({"TaskTimedOut", "TaskDoesNotExist", "InvalidToken"})
STEP_FUNCTIONS_CODES = ErrorCodes(
    throttling=frozenset({"ThrottlingException", "Throttling", "KmsThrottlingException"}),
    transient=frozenset({"ServiceUnavailable", "InternalFailure", "InternalServerError"}),
)


class StepFunctionsWorkflowClient:
    """``WorkflowClient`` over Step Functions' ``SendTaskSuccess``."""

    def __init__(self, client: Any) -> None:
        self._client = client

    def send_task_success(self, task_token: str, output_json: str) -> None:
        try:
            self._client.send_task_success(taskToken=task_token, output=output_json)
        except ClientError as exc:
            if error_code(exc) in NOT_WAITING_CODES:
                raise ExecutionNotWaitingError(error_code(exc)) from exc
            raise translate(exc, "SendTaskSuccess", STEP_FUNCTIONS_CODES, ApprovalError) from exc
        except BotoCoreError as exc:
            raise translate(exc, "SendTaskSuccess", STEP_FUNCTIONS_CODES, ApprovalError) from exc
