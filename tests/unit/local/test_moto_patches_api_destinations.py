"""Canaries for the two moto patches storefront delivery needs (against moto itself, no sockets).

``cfn_api_destinations``: a template with an ``AWS::Events::Connection`` and an
``AWS::Events::ApiDestination`` that a rule targets by ``Fn::GetAtt`` deploys, and both exist in
moto's EventBridge. ``events_api_destination_targets``: PutEvents matching such a rule (with the
input transformer CDK writes) succeeds, while the rule's other targets are still delivered.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import boto3
import pytest
from moto import mock_aws

from reviewflow_local import moto_patches

REGION = "us-east-1"
TEMPLATE = {
    "Resources": {
        "Conn": {
            "Type": "AWS::Events::Connection",
            "Properties": {
                "AuthorizationType": "API_KEY",
                "AuthParameters": {"ApiKeyAuthParameters": {"ApiKeyName": "x-api-key", "ApiKeyValue": "k"}},
            },
        },
        "Dest": {
            "Type": "AWS::Events::ApiDestination",
            "Properties": {
                "ConnectionArn": {"Fn::GetAtt": ["Conn", "Arn"]},
                "InvocationEndpoint": "https://shop.example/reply",
                "HttpMethod": "POST",
            },
        },
        "Queue": {"Type": "AWS::SQS::Queue", "Properties": {}},
        "Rule": {
            "Type": "AWS::Events::Rule",
            "Properties": {
                "EventPattern": {"source": ["s"]},
                "Targets": [
                    {
                        "Id": "api",
                        "Arn": {"Fn::GetAtt": ["Dest", "Arn"]},
                        "RoleArn": "arn:aws:iam::123456789012:role/events",
                        "HttpParameters": {"HeaderParameters": {"Idempotency-Key": "$.detail.review_id"}},
                        "InputTransformer": {
                            "InputPathsMap": {"r": "$.detail.review_id"},
                            "InputTemplate": '{"review_id":<r>,"schema_version":"1"}',
                        },
                    },
                    {"Id": "queue", "Arn": {"Fn::GetAtt": ["Queue", "Arn"]}},
                ],
            },
        },
    }
}


@pytest.fixture
def aws() -> Iterator[None]:
    moto_patches.apply()
    with mock_aws():
        yield


def test_the_template_deploys_with_the_connection_and_destination(aws: None) -> None:
    cloudformation = boto3.client("cloudformation", region_name=REGION)
    cloudformation.create_stack(StackName="s", TemplateBody=json.dumps(TEMPLATE))
    assert cloudformation.describe_stacks(StackName="s")["Stacks"][0]["StackStatus"] == "CREATE_COMPLETE"
    events = boto3.client("events", region_name=REGION)
    (destination,) = events.list_api_destinations()["ApiDestinations"]
    assert destination["InvocationEndpoint"] == "https://shop.example/reply"
    (connection,) = events.list_connections()["Connections"]
    assert destination["ConnectionArn"] == connection["ConnectionArn"]
    (rule,) = events.list_rules()["Rules"]
    targets = events.list_targets_by_rule(Rule=rule["Name"])["Targets"]
    assert {t["Id"]: t["Arn"] for t in targets}["api"] == destination["ApiDestinationArn"]


def test_put_events_skips_the_api_destination_and_delivers_the_rest(aws: None) -> None:
    boto3.client("cloudformation", region_name=REGION).create_stack(
        StackName="s", TemplateBody=json.dumps(TEMPLATE)
    )
    events = boto3.client("events", region_name=REGION)
    answer = events.put_events(Entries=[{"Source": "s", "DetailType": "d", "Detail": '{"review_id":"r-1"}'}])
    assert answer["FailedEntryCount"] == 0
    sqs = boto3.client("sqs", region_name=REGION)
    (url,) = sqs.list_queues()["QueueUrls"]
    (message,) = sqs.receive_message(QueueUrl=url)["Messages"]
    assert json.loads(message["Body"])["detail"] == {"review_id": "r-1"}
