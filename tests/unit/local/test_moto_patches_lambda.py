"""Canary for ``moto_patches.stepfunctions_lambda``: a Lambda task's call skips the HTTP round trip.

The same state machines run with the patch and with moto's own boto3 path (the patch's
``__wrapped__``); their outputs, errors and Catch routes must be identical, and the direct path
must not build or use a boto3 client. In-process moto only.
"""

from __future__ import annotations

import io
import json
import time
import uuid
import zipfile
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from reviewflow_local import moto_patches
from reviewflow_local.moto_patches import stepfunctions_lambda

REGION = "us-east-1"
ACCOUNT = "123456789012"
CONFIG = {"stepfunctions": {"execute_state_machine": True}, "lambda": {"use_docker": False}}


class Runner:
    """The in-process runner the local stack registers: echoes, or fails when asked to."""

    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, function: Any, payload: Any) -> tuple[bytes, bool]:
        self.calls += 1
        event = json.loads(payload)
        if event.get("fail"):
            error = {"errorType": "ProviderThrottledError", "errorMessage": "slow down", "stackTrace": []}
            return json.dumps(error).encode(), True
        return json.dumps({"echo": event, "function": function.function_name}).encode(), False


class BotoPathCounter:
    """Counts the interpreter's boto3 Lambda clients (the path the patch avoids)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        from moto.stepfunctions.parser.asl.component.state.exec.state_task import lambda_eval_utils

        self.calls = 0
        original = lambda_eval_utils.boto_client_for

        def counted(*args: Any, **kwargs: Any) -> Any:
            self.calls += 1
            return original(*args, **kwargs)

        monkeypatch.setattr(lambda_eval_utils, "boto_client_for", counted)


@pytest.fixture
def stack() -> Iterator[dict[str, Any]]:
    moto_patches.apply()
    runner = Runner()
    with mock_aws(config=CONFIG):
        role = boto3.client("iam", region_name=REGION).create_role(
            RoleName="canary", AssumeRolePolicyDocument="{}"
        )["Role"]["Arn"]
        code = io.BytesIO()
        with zipfile.ZipFile(code, "w") as archive:
            archive.writestr("h.py", "def handler(event, context):\n    return event\n")
        function = boto3.client("lambda", region_name=REGION).create_function(
            FunctionName=f"f-{uuid.uuid4().hex[:8]}",
            Runtime="python3.11",
            Role=role,
            Handler="h.handler",
            Code={"ZipFile": code.getvalue()},
        )
        moto_patches.set_lambda_runner(runner)
        try:
            yield {
                "sfn": boto3.client("stepfunctions", region_name=REGION),
                "role": role,
                "arn": function["FunctionArn"],
                "name": function["FunctionName"],
                "runner": runner,
            }
        finally:
            moto_patches.set_lambda_runner(None)


def _definition(resource: str, parameters: dict[str, Any] | None) -> dict[str, Any]:
    task: dict[str, Any] = {
        "Type": "Task",
        "Resource": resource,
        "Catch": [{"ErrorEquals": ["ProviderThrottledError"], "ResultPath": "$.error", "Next": "Caught"}],
        "End": True,
    }
    if parameters is not None:
        task["Parameters"] = parameters
    return {
        "Comment": f"canary {uuid.uuid4()}",
        "StartAt": "Call",
        "States": {
            "Call": task,
            "Caught": {"Type": "Pass", "Result": "caught", "ResultPath": "$.route", "End": True},
        },
    }


def _run(stack: dict[str, Any], definition: dict[str, Any], value: dict[str, Any]) -> dict[str, Any]:
    sfn = stack["sfn"]
    machine = sfn.create_state_machine(
        name=f"m-{uuid.uuid4().hex[:8]}", definition=json.dumps(definition), roleArn=stack["role"]
    )["stateMachineArn"]
    arn = sfn.start_execution(stateMachineArn=machine, input=json.dumps(value))["executionArn"]
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        described = sfn.describe_execution(executionArn=arn)
        if described["status"] != "RUNNING":
            output = json.loads(described.get("output", "null"))
            error = output.get("error") if isinstance(output, dict) else None
            if error:  # the Cause carries the envelope's stack trace text: compare its type only
                error["Cause"] = json.loads(error["Cause"])["errorType"]
            return {"status": described["status"], "output": output}
        time.sleep(0.02)
    raise AssertionError("execution still running")


def _both_ways(
    stack: dict[str, Any], monkeypatch: pytest.MonkeyPatch, resource: str, parameters: dict[str, Any] | None
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], int, int]:
    """Results with the patch, then with moto's boto3 path; and the boto3 clients each used."""
    from moto.stepfunctions.parser.asl.component.state.exec.state_task import lambda_eval_utils

    inputs = [{"n": 1}, {"fail": True}]
    counter = BotoPathCounter(monkeypatch)
    patched = [_run(stack, _definition(resource, parameters), value) for value in inputs]
    direct_clients = counter.calls
    monkeypatch.setattr(
        lambda_eval_utils, "_invoke_lambda_function", lambda_eval_utils._invoke_lambda_function.__wrapped__
    )
    plain = [_run(stack, _definition(resource, parameters), value) for value in inputs]
    return patched, plain, direct_clients, counter.calls - direct_clients


def test_the_patch_is_where_the_interpreter_looks_for_it() -> None:
    from moto.stepfunctions.parser.asl.component.state.exec.state_task import lambda_eval_utils

    moto_patches.apply()
    assert "sfn_direct_lambda_tasks" in moto_patches.applied()
    patched = lambda_eval_utils._invoke_lambda_function
    assert patched.__wrapped__.__module__ == lambda_eval_utils.__name__  # type: ignore[attr-defined]


def test_a_function_arn_resource_answers_as_through_boto3(
    stack: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    patched, plain, direct_clients, boto_clients = _both_ways(stack, monkeypatch, stack["arn"], None)
    assert patched == plain
    assert patched[0] == {"status": "SUCCEEDED", "output": {"echo": {"n": 1}, "function": stack["name"]}}
    assert patched[1]["output"]["route"] == "caught"  # the error name reached the Catch
    assert patched[1]["output"]["error"] == {
        "Error": "ProviderThrottledError",
        "Cause": "ProviderThrottledError",
    }
    assert (direct_clients, boto_clients) == (0, 2)
    assert stack["runner"].calls == 4


def test_the_lambda_invoke_integration_answers_as_through_boto3(
    stack: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    parameters = {"FunctionName": stack["arn"], "Payload.$": "$"}
    patched, plain, direct_clients, boto_clients = _both_ways(
        stack, monkeypatch, "arn:aws:states:::lambda:invoke", parameters
    )
    assert patched == plain
    assert patched[0]["output"]["StatusCode"] == 200
    assert patched[0]["output"]["Payload"] == {"echo": {"n": 1}, "function": stack["name"]}
    assert patched[1]["output"]["route"] == "caught"
    assert (direct_clients, boto_clients) == (0, 2)


def test_a_function_named_without_its_arn_still_goes_through_boto3(
    stack: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    counter = BotoPathCounter(monkeypatch)
    parameters = {"FunctionName": stack["name"], "Payload.$": "$"}
    result = _run(stack, _definition("arn:aws:states:::lambda:invoke", parameters), {"n": 2})
    assert result["output"]["Payload"] == {"echo": {"n": 2}, "function": stack["name"]}
    assert counter.calls == 1


def test_which_calls_are_served_directly() -> None:
    arn = f"arn:aws:lambda:eu-west-1:{ACCOUNT}:function:score"
    assert stepfunctions_lambda.direct_invocation({"FunctionName": arn, "Payload": b"{}"}) == (
        ACCOUNT,
        "eu-west-1",
        None,
    )
    assert stepfunctions_lambda.direct_invocation({"FunctionName": f"{arn}:live"}) == (
        ACCOUNT,
        "eu-west-1",
        "live",
    )
    assert stepfunctions_lambda.direct_invocation({"FunctionName": arn, "Qualifier": "3"})[2] == "3"  # type: ignore[index]
    assert stepfunctions_lambda.direct_invocation({"FunctionName": "score"}) is None
    assert stepfunctions_lambda.direct_invocation({"FunctionName": arn, "InvocationType": "Event"}) is None
    assert stepfunctions_lambda.direct_invocation({"FunctionName": f"arn:aws:states:::lambda:{arn}"}) is None


def test_the_answer_has_the_clients_shape_and_limits() -> None:
    ok = stepfunctions_lambda.invocation_response(b'{"a": 1}', {})
    assert ok["StatusCode"] == 200 and ok["Payload"].read() == b'{"a": 1}' and "FunctionError" not in ok
    failed = stepfunctions_lambda.invocation_response("{}", {"x-amz-function-error": "Unhandled"})
    assert failed["FunctionError"] == "Unhandled"
    huge = stepfunctions_lambda.invocation_response(b"x" * (stepfunctions_lambda.MAX_RESPONSE_BYTES + 1), {})
    assert huge["FunctionError"] == "Unhandled"
    assert json.loads(huge["Payload"].read())["errorType"] == "Function.ResponseSizeTooLarge"
