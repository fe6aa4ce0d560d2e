"""Canaries for ``reviewflow_local.moto_patches``: one per patch, against moto itself.

Each test drives the moto feature the patch supplies through the public boto3 API, so a moto
upgrade that moves the internals a patch relies on fails here, by name, before it breaks the
local runtime in some less obvious way. In-process moto only: no sockets.
"""

from __future__ import annotations

import inspect
import json
import time
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from reviewflow_local import moto_patches

REGION = "us-east-1"
CONFIG = {"stepfunctions": {"execute_state_machine": True}, "lambda": {"use_docker": False}}
ROLE_POLICY = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}
        ],
    }
)


@pytest.fixture
def aws() -> Iterator[None]:
    moto_patches.apply()
    with mock_aws(config=CONFIG):
        yield
    moto_patches.set_lambda_runner(None)


def client(service: str) -> Any:
    return boto3.client(service, region_name=REGION)


def wait_for_execution(arn: str, deadline_seconds: float = 20.0) -> dict[str, Any]:
    sfn = client("stepfunctions")
    deadline = time.monotonic() + deadline_seconds
    while time.monotonic() < deadline:
        described = sfn.describe_execution(executionArn=arn)
        if described["status"] != "RUNNING":
            return described
        time.sleep(0.05)
    raise AssertionError(f"execution {arn} still running after {deadline_seconds} s")


def create_stack(template: dict[str, Any]) -> dict[str, str]:
    cfn = client("cloudformation")
    cfn.create_stack(StackName="canary", TemplateBody=json.dumps(template))
    status = cfn.describe_stacks(StackName="canary")["Stacks"][0]["StackStatus"]
    assert status == "CREATE_COMPLETE"
    summaries = cfn.list_stack_resources(StackName="canary")["StackResourceSummaries"]
    return {s["LogicalResourceId"]: s.get("PhysicalResourceId", "") for s in summaries}


def test_every_patch_is_applied_once_and_moto_is_the_pinned_version() -> None:
    import moto

    moto_patches.apply()
    moto_patches.apply()
    assert moto.__version__ == moto_patches.MOTO_VERSION
    assert moto_patches.applied() == list(moto_patches.PATCHES)


def test_apply_refuses_an_unchecked_moto_version(monkeypatch: pytest.MonkeyPatch) -> None:
    import moto

    monkeypatch.setattr(moto_patches, "_applied", [])
    monkeypatch.setattr(moto, "__version__", "9.9.9")
    with pytest.raises(moto_patches.MotoInternalsChanged, match=r"9\.9\.9"):
        moto_patches.apply()


# ------------------------------------------------------------------------------ lambda_invoke


def _function(name: str = "canary-fn") -> str:
    role = client("iam").create_role(RoleName=f"{name}-role", AssumeRolePolicyDocument=ROLE_POLICY)["Role"][
        "Arn"
    ]
    return client("lambda").create_function(
        FunctionName=name,
        Runtime="python3.12",
        Role=role,
        Handler="canary.handler",
        Code={"ZipFile": b"not used"},
        Environment={"Variables": {"CANARY": "yes"}},
    )["FunctionArn"]


def test_lambda_invoke_hands_the_function_and_payload_to_the_runner(aws: None) -> None:
    from moto.awslambda_simple.models import LambdaSimpleBackend

    assert list(inspect.signature(LambdaSimpleBackend.invoke.__wrapped__).parameters) == [
        "self",
        "function_name",
        "qualifier",
        "body",
        "headers",
        "response_headers",
    ]
    seen: list[tuple[str, dict[str, str], Any]] = []

    def runner(function: Any, payload: Any) -> tuple[bytes, bool]:
        seen.append((function.handler, dict(function.environment_vars), json.loads(payload)))
        return b'{"answer": 42}', False

    arn = _function()
    moto_patches.set_lambda_runner(runner)
    answer = client("lambda").invoke(FunctionName=arn, Payload=b'{"question": "?"}')
    assert json.loads(answer["Payload"].read()) == {"answer": 42}
    assert "FunctionError" not in answer
    assert seen == [("canary.handler", {"CANARY": "yes"}, {"question": "?"})]


def test_lambda_errors_reach_step_functions_catch_by_error_name(aws: None) -> None:
    arn = _function()

    class CanaryError(Exception):
        pass

    def runner(function: Any, payload: Any) -> tuple[bytes, bool]:
        return moto_patches.lambda_error_envelope(CanaryError("no")), True

    moto_patches.set_lambda_runner(runner)
    answer = client("lambda").invoke(FunctionName=arn, Payload=b"{}")
    assert answer["FunctionError"] == "Unhandled"
    assert json.loads(answer["Payload"].read())["errorType"] == "CanaryError"

    definition = {
        "StartAt": "Call",
        "States": {
            "Call": {
                "Type": "Task",
                "Resource": arn,
                "End": True,
                "Catch": [{"ErrorEquals": ["CanaryError"], "ResultPath": "$.error", "Next": "Caught"}],
            },
            "Caught": {"Type": "Pass", "End": True},
        },
    }
    sfn = client("stepfunctions")
    machine = sfn.create_state_machine(
        name="canary-catch", definition=json.dumps(definition), roleArn="arn:aws:iam::123456789012:role/sfn"
    )["stateMachineArn"]
    execution = sfn.start_execution(stateMachineArn=machine, name="one", input="{}")["executionArn"]
    result = wait_for_execution(execution)
    assert result["status"] == "SUCCEEDED"
    assert json.loads(result["output"])["error"]["Error"] == "CanaryError"


# ---------------------------------------------------------------- events_stepfunctions_target


def test_rule_with_a_step_functions_target_starts_a_named_execution(aws: None) -> None:
    sfn, events = client("stepfunctions"), client("events")
    definition = {"StartAt": "Done", "States": {"Done": {"Type": "Pass", "End": True}}}
    machine = sfn.create_state_machine(
        name="canary-target", definition=json.dumps(definition), roleArn="arn:aws:iam::123456789012:role/sfn"
    )["stateMachineArn"]
    events.create_event_bus(Name="canary-bus")
    events.put_rule(Name="to-sfn", EventBusName="canary-bus", EventPattern=json.dumps({"source": ["canary"]}))
    events.put_targets(
        Rule="to-sfn",
        EventBusName="canary-bus",
        Targets=[
            {"Id": "whole", "Arn": machine, "RoleArn": "arn:aws:iam::123456789012:role/events"},
            {
                "Id": "detail",
                "Arn": machine,
                "RoleArn": "arn:aws:iam::123456789012:role/events",
                "InputPath": "$.detail",
            },
        ],
    )
    entry = {
        "EventBusName": "canary-bus",
        "Source": "canary",
        "DetailType": "T",
        "Detail": json.dumps({"n": 1}),
    }
    event_id = events.put_events(Entries=[entry])["Entries"][0]["EventId"]
    events.put_events(Entries=[{**entry, "Source": "other"}])  # does not match: starts nothing

    executions = sfn.list_executions(stateMachineArn=machine)["executions"]
    assert sorted(e["name"] for e in executions) == sorted([f"{event_id}-whole", f"{event_id}-detail"])
    inputs = {
        e["name"]: json.loads(sfn.describe_execution(executionArn=e["executionArn"])["input"])
        for e in executions
    }
    whole = inputs[f"{event_id}-whole"]
    assert whole["id"] == event_id and whole["detail"] == {"n": 1} and whole["detail-type"] == "T"
    assert whole["time"].endswith("Z") and "ingestion-time" not in whole
    assert inputs[f"{event_id}-detail"] == {"n": 1}


# -------------------------------------------------------------------------------- cloudformation


def test_cfn_ref_of_an_event_bus_is_its_name(aws: None) -> None:
    physical = create_stack(
        {
            "Resources": {
                "Bus": {"Type": "AWS::Events::EventBus", "Properties": {"Name": "canary-cfn-bus"}},
                "Rule": {
                    "Type": "AWS::Events::Rule",
                    "Properties": {
                        "EventBusName": {"Ref": "Bus"},
                        "EventPattern": {"source": ["x"]},
                        "State": "ENABLED",
                    },
                },
            }
        }
    )
    assert physical["Bus"] == "canary-cfn-bus"
    rules = client("events").list_rules(EventBusName="canary-cfn-bus")["Rules"]
    assert [r["Name"] for r in rules] == [physical["Rule"]]


def test_cfn_state_machine_from_s3_with_substitutions_executes(aws: None) -> None:
    s3 = client("s3")
    s3.create_bucket(Bucket="assets")
    body = {"StartAt": "Say", "States": {"Say": {"Type": "Pass", "Result": {"said": "${Word}"}, "End": True}}}
    s3.put_object(Bucket="assets", Key="def.json", Body=json.dumps(body).encode())
    physical = create_stack(
        {
            "Resources": {
                "Machine": {
                    "Type": "AWS::StepFunctions::StateMachine",
                    "Properties": {
                        "StateMachineName": "canary-cfn-machine",
                        "RoleArn": "arn:aws:iam::123456789012:role/sfn",
                        "DefinitionS3Location": {"Bucket": "assets", "Key": "def.json"},
                        "DefinitionSubstitutions": {"Word": "hello"},
                        "StateMachineType": "STANDARD",
                    },
                }
            }
        }
    )
    sfn = client("stepfunctions")
    described = sfn.describe_state_machine(stateMachineArn=physical["Machine"])
    assert json.loads(described["definition"])["States"]["Say"]["Result"] == {"said": "hello"}
    execution = sfn.start_execution(stateMachineArn=physical["Machine"], name="one", input="{}")[
        "executionArn"
    ]
    result = wait_for_execution(execution)
    assert result["status"] == "SUCCEEDED"
    assert json.loads(result["output"]) == {"said": "hello"}


def test_cfn_dynamodb_time_to_live_is_applied(aws: None) -> None:
    physical = create_stack(
        {
            "Resources": {
                "Table": {
                    "Type": "AWS::DynamoDB::Table",
                    "Properties": {
                        "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
                        "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
                        "BillingMode": "PAY_PER_REQUEST",
                        "TimeToLiveSpecification": {"AttributeName": "expires_at", "Enabled": True},
                    },
                }
            }
        }
    )
    ttl = client("dynamodb").describe_time_to_live(TableName=physical["Table"])["TimeToLiveDescription"]
    assert ttl == {"TimeToLiveStatus": "ENABLED", "AttributeName": "expires_at"}


def test_cfn_types_moto_lacks_are_created_or_recorded(aws: None) -> None:
    physical = create_stack(
        {
            "Resources": {
                "Topic": {"Type": "AWS::SNS::Topic", "Properties": {}},
                "Mail": {
                    "Type": "AWS::SNS::Subscription",
                    "Properties": {
                        "TopicArn": {"Ref": "Topic"},
                        "Protocol": "email",
                        "Endpoint": "reviewer@example.com",
                    },
                },
                "Queue": {"Type": "AWS::SQS::Queue", "Properties": {}},
                "QueuePolicy": {
                    "Type": "AWS::SQS::QueuePolicy",
                    "Properties": {"Queues": [{"Ref": "Queue"}], "PolicyDocument": {"Statement": []}},
                },
                "Meta": {"Type": "AWS::CDK::Metadata", "Properties": {"Analytics": "v2:deflate64:x"}},
                "Role": {
                    "Type": "AWS::IAM::Role",
                    "Properties": {"AssumeRolePolicyDocument": json.loads(ROLE_POLICY)},
                },
                "Fn": {
                    "Type": "AWS::Lambda::Function",
                    "Properties": {
                        "FunctionName": "canary-api-fn",
                        "Runtime": "python3.12",
                        "Handler": "x.handler",
                        "Role": {"Fn::GetAtt": ["Role", "Arn"]},
                        "Code": {"ZipFile": "def handler(e, c): return e"},
                    },
                },
                "Api": {"Type": "AWS::ApiGateway::RestApi", "Properties": {"Name": "canary-api"}},
                "Item": {
                    "Type": "AWS::ApiGateway::Resource",
                    "Properties": {
                        "RestApiId": {"Ref": "Api"},
                        "ParentId": {"Fn::GetAtt": ["Api", "RootResourceId"]},
                        "PathPart": "item",
                    },
                },
                "Get": {
                    "Type": "AWS::ApiGateway::Method",
                    "Properties": {
                        "RestApiId": {"Ref": "Api"},
                        "ResourceId": {"Ref": "Item"},
                        "HttpMethod": "GET",
                        "AuthorizationType": "NONE",
                        "Integration": {
                            "Type": "AWS_PROXY",
                            "IntegrationHttpMethod": "POST",
                            "Uri": "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/"
                            "arn:aws:lambda:us-east-1:123456789012:function:canary-api-fn/invocations",
                        },
                    },
                },
                "Deployment": {
                    "Type": "AWS::ApiGateway::Deployment",
                    "DependsOn": ["Get"],
                    "Properties": {"RestApiId": {"Ref": "Api"}},
                },
                "Stage": {
                    "Type": "AWS::ApiGateway::Stage",
                    "Properties": {
                        "RestApiId": {"Ref": "Api"},
                        "DeploymentId": {"Ref": "Deployment"},
                        "StageName": "prod",
                    },
                },
            }
        }
    )
    subscriptions = client("sns").list_subscriptions_by_topic(TopicArn=physical["Topic"])["Subscriptions"]
    assert [(s["Protocol"], s["Endpoint"]) for s in subscriptions] == [("email", "reviewer@example.com")]
    assert physical["Mail"] == subscriptions[0]["SubscriptionArn"]
    assert "Meta" in physical and "QueuePolicy" in physical
    stages = client("apigateway").get_stages(restApiId=physical["Api"])["item"]
    assert [s["stageName"] for s in stages] == ["prod"] == [physical["Stage"]]

    from reviewflow_local.http_front import read_routes

    routes = read_routes(client("apigateway"), physical["Api"])
    assert [(r.method, r.resource, r.function_arn.rsplit(":", 1)[-1]) for r in routes] == [
        ("GET", "/item", "canary-api-fn")
    ]


def test_dynamodb_scans_survive_concurrent_puts(aws: None) -> None:
    """The item operations are wrapped by the lock and stay correct under concurrent use.

    The race the lock prevents (a scan iterating while a put inserts: 'dictionary changed size
    during iteration') showed in a 1,000-review soak but needs that much concurrency to appear,
    so this canary checks that the wrappers are in place and that concurrent puts and scans all
    complete with every item stored, rather than trying to provoke the race.
    """
    import threading

    from moto.dynamodb.models import DynamoDBBackend

    for name in moto_patches.DYNAMODB_ITEM_OPERATIONS:
        assert hasattr(getattr(DynamoDBBackend, name), "__wrapped__"), name
    dynamodb = client("dynamodb")
    dynamodb.create_table(
        TableName="race",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    errors: list[BaseException] = []
    per_writer = 300

    def write(writer: int) -> None:
        for n in range(per_writer):
            try:
                dynamodb.put_item(TableName="race", Item={"pk": {"S": f"approval#{writer}-{n}"}})
            except BaseException as exc:
                errors.append(exc)
                return

    writers = [threading.Thread(target=write, args=(w,)) for w in range(2)]
    for thread in writers:
        thread.start()
    scans = 0
    try:
        # Scan for as long as the writers write (at least three times): no fixed time budget,
        # so a slow machine only makes the test take longer, never flip.
        while scans < 3 or any(thread.is_alive() for thread in writers):
            dynamodb.scan(
                TableName="race",
                FilterExpression="begins_with(pk, :p)",
                ExpressionAttributeValues={":p": {"S": "approval#"}},
            )
            scans += 1
    finally:
        for thread in writers:
            thread.join()
    assert errors == []
    assert dynamodb.scan(TableName="race", Select="COUNT")["Count"] == 2 * per_writer


def test_cfn_subscription_keeps_its_filter_policy(aws: None) -> None:
    # The roster's subscriptions: the local outbox reads who gets which reviewer's link from them.
    physical = create_stack(
        {
            "Resources": {
                "Topic": {"Type": "AWS::SNS::Topic", "Properties": {}},
                "Ana": {
                    "Type": "AWS::SNS::Subscription",
                    "Properties": {
                        "TopicArn": {"Ref": "Topic"},
                        "Protocol": "email",
                        "Endpoint": "ana@example.com",
                        "FilterPolicy": {"reviewer": ["ana"]},
                    },
                },
            }
        }
    )
    attributes = client("sns").get_subscription_attributes(SubscriptionArn=physical["Ana"])["Attributes"]
    assert json.loads(attributes["FilterPolicy"]) == {"reviewer": ["ana"]}
