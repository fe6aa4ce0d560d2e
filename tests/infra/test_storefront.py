"""Storefront delivery in the template: API destinations, their connection, rules, DLQ and alarm.

Each synth runs cdk-nag (``synthesize`` enables it), so an unacknowledged finding fails these too.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from reviewflow.contracts import OUTCOME_SOURCE, OutcomeType
from tests.infra.conftest import Synthesized, cdk_json_context, synthesize

SECRET_NAME = "reviewflow/storefront-api-key"
OAUTH_SECRET_ARN = "arn:aws:secretsmanager:us-east-1:123456789012:secret:reviewflow/storefront-oauth-AbCdEf"
STOREFRONT = {
    "reply_url": "https://shop.example/api/review-replies",
    "moderation_url": "https://shop.example/api/moderation",
    "auth": {"api_key": {"header_name": "x-storefront-key", "secret_name": SECRET_NAME}},
    "rate_limit_per_second": 20,
    "retry_attempts": 6,
    "max_event_age_seconds": 1800,
}


def _synth(tmp_path: Path, storefront: Any) -> Synthesized:
    context = cdk_json_context()
    context = {**context, "reviewflow": {**context["reviewflow"], "storefront": storefront}}
    return synthesize(tmp_path / "cdk.out", context)


@pytest.fixture(scope="module")
def enabled(tmp_path_factory: pytest.TempPathFactory) -> Synthesized:
    return _synth(tmp_path_factory.mktemp("storefront"), STOREFRONT)


def _logical_id(synth: Synthesized, type_: str, predicate: Any) -> str:
    (found,) = [k for k, r in synth.resources(type_).items() if predicate(r["Properties"])]
    return found


def _destination_id(synth: Synthesized, url: str) -> str:
    return _logical_id(synth, "AWS::Events::ApiDestination", lambda p: p["InvocationEndpoint"] == url)


def _rule_for(synth: Synthesized, outcome: OutcomeType) -> dict[str, Any]:
    (rule,) = [
        r["Properties"]
        for r in synth.resources("AWS::Events::Rule").values()
        if r["Properties"].get("EventPattern", {}).get("detail-type") == [outcome.value]
    ]
    return rule


def _payload_paths(target: dict[str, Any]) -> tuple[dict[str, str], str]:
    transformer = target["InputTransformer"]
    return transformer["InputPathsMap"], transformer["InputTemplate"]


def test_connection_uses_the_named_secret_and_never_a_value(enabled: Synthesized) -> None:
    connection = enabled.one("AWS::Events::Connection")["Properties"]
    assert connection["AuthorizationType"] == "API_KEY"
    api_key = connection["AuthParameters"]["ApiKeyAuthParameters"]
    assert api_key["ApiKeyName"] == "x-storefront-key"
    value = json.dumps(api_key["ApiKeyValue"])
    assert "{{resolve:secretsmanager:" in value and SECRET_NAME in value


def test_two_api_destinations_post_to_the_configured_endpoints(enabled: Synthesized) -> None:
    destinations = {
        r["Properties"]["InvocationEndpoint"]: r["Properties"]
        for r in enabled.resources("AWS::Events::ApiDestination").values()
    }
    assert set(destinations) == {STOREFRONT["reply_url"], STOREFRONT["moderation_url"]}
    connection_id = next(iter(enabled.resources("AWS::Events::Connection")))
    for props in destinations.values():
        assert props["HttpMethod"] == "POST"
        assert props["InvocationRateLimitPerSecond"] == 20
        assert props["ConnectionArn"] == {"Fn::GetAtt": [connection_id, "Arn"]}


@pytest.mark.parametrize(
    ("outcome", "url_key"),
    [(OutcomeType.RESPONSE_CREATED, "reply_url"), (OutcomeType.HARMFUL_CONTENT, "moderation_url")],
)
def test_each_outcome_rule_targets_its_destination_with_retries_dlq_and_idempotency_key(
    enabled: Synthesized, outcome: OutcomeType, url_key: str
) -> None:
    rule = _rule_for(enabled, outcome)
    assert rule["EventPattern"] == {"source": [OUTCOME_SOURCE], "detail-type": [outcome.value]}
    bus_id = next(iter(enabled.resources("AWS::Events::EventBus")))
    assert rule["EventBusName"] == {"Ref": bus_id}
    (target,) = rule["Targets"]
    assert target["Arn"] == {"Fn::GetAtt": [_destination_id(enabled, STOREFRONT[url_key]), "Arn"]}
    assert target["HttpParameters"]["HeaderParameters"] == {"Idempotency-Key": "$.detail.review_id"}
    assert target["RetryPolicy"] == {"MaximumRetryAttempts": 6, "MaximumEventAgeInSeconds": 1800}
    (queue_id,) = [k for k in enabled.resources("AWS::SQS::Queue") if k.startswith("Storefront")]
    assert target["DeadLetterConfig"]["Arn"] == {"Fn::GetAtt": [queue_id, "Arn"]}


def test_reply_payload_is_small_and_documented(enabled: Synthesized) -> None:
    (target,) = _rule_for(enabled, OutcomeType.RESPONSE_CREATED)["Targets"]
    paths, template = _payload_paths(target)
    assert sorted(set(paths.values())) == sorted(
        {
            "$.id",
            "$.time",
            "$.detail.review_id",
            "$.detail.product_id",
            "$.detail.response_text",
            "$.detail.decided_by",
        }
    )
    filled = template
    for name in paths:
        filled = filled.replace(f"<{name}>", '"x"')
    assert set(json.loads(filled)) == {
        "schema_version",
        "kind",
        "event_id",
        "occurred_at",
        "review_id",
        "product_id",
        "reply_text",
        "decided_by",
    }
    assert '"schema_version":"1"' in template and '"kind":"reply"' in template


def test_moderation_payload_carries_the_reason_not_internal_detail(enabled: Synthesized) -> None:
    (target,) = _rule_for(enabled, OutcomeType.HARMFUL_CONTENT)["Targets"]
    paths, template = _payload_paths(target)
    assert "$.detail.review_toxicity.score" in paths.values()
    assert not {p for p in paths.values() if "execution_id" in p or "human_decisions" in p or p == "$.detail"}
    assert '"reason":"harmful_content"' in template and '"kind":"moderation"' in template


def test_dead_letter_queue_is_encrypted_ssl_only_and_alarmed(enabled: Synthesized) -> None:
    (queue_id,) = [k for k in enabled.resources("AWS::SQS::Queue") if k.startswith("Storefront")]
    queue = enabled.template["Resources"][queue_id]["Properties"]
    assert queue["SqsManagedSseEnabled"] is True
    policies = [
        r["Properties"]
        for r in enabled.resources("AWS::SQS::QueuePolicy").values()
        if {"Ref": queue_id} in r["Properties"]["Queues"]
    ]
    statements = [s for p in policies for s in p["PolicyDocument"]["Statement"]]
    assert any(
        s["Effect"] == "Deny" and s["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
        for s in statements
    )
    assert any(
        s["Effect"] == "Allow"
        and s["Principal"] == {"Service": "events.amazonaws.com"}
        and s["Action"] == "sqs:SendMessage"
        for s in statements
    )
    (alarm,) = [
        a["Properties"]
        for a in enabled.resources("AWS::CloudWatch::Alarm").values()
        if a["Properties"].get("Dimensions")
        == [{"Name": "QueueName", "Value": {"Fn::GetAtt": [queue_id, "QueueName"]}}]
    ]
    assert alarm["MetricName"] == "ApproximateNumberOfMessagesVisible"
    assert alarm["Threshold"] == 1 and alarm["ComparisonOperator"] == "GreaterThanOrEqualToThreshold"
    topic_id = next(k for k in enabled.resources("AWS::SNS::Topic") if "Alarm" in k)
    assert alarm["AlarmActions"] == [{"Ref": topic_id}]


def test_events_role_may_invoke_exactly_the_two_destinations(enabled: Synthesized) -> None:
    wanted = {_destination_id(enabled, STOREFRONT[k]) for k in ("reply_url", "moderation_url")}
    invoke = [
        s
        for r in enabled.resources("AWS::IAM::Policy").values()
        for s in r["Properties"]["PolicyDocument"]["Statement"]
        if s["Action"] == "events:InvokeApiDestination"
    ]
    resources = {
        res["Fn::GetAtt"][0]
        for s in invoke
        for res in (s["Resource"] if isinstance(s["Resource"], list) else [s["Resource"]])
    }
    assert resources == wanted
    role_arns = {
        json.dumps(t["RoleArn"])
        for o in (OutcomeType.RESPONSE_CREATED, OutcomeType.HARMFUL_CONTENT)
        for t in _rule_for(enabled, o)["Targets"]
    }
    assert len(role_arns) >= 1 and all("Role" in arn for arn in role_arns)


def test_no_secret_value_is_in_the_template(enabled: Synthesized) -> None:
    """The secret is named only inside dynamic references; no secret resource or value is created."""
    text = json.dumps(enabled.template)
    reference = "{{resolve:secretsmanager:" + SECRET_NAME
    assert text.count(SECRET_NAME) == text.count(reference) >= 1
    types = {r["Type"] for r in enabled.template["Resources"].values()}
    assert "AWS::SecretsManager::Secret" not in types
    connection = enabled.one("AWS::Events::Connection")["Properties"]
    assert "SecretArn" not in json.dumps(connection) and "InvocationHttpParameters" not in connection


def test_oauth_client_credentials(tmp_path: Path) -> None:
    synth = _synth(
        tmp_path,
        {
            "reply_url": "https://shop.example/reply",
            "auth": {
                "oauth": {
                    "token_url": "https://auth.shop.example/oauth/token",
                    "client_id": "reviewflow",
                    "secret_name": OAUTH_SECRET_ARN,
                    "scope": "reviews:write",
                }
            },
        },
    )
    connection = synth.one("AWS::Events::Connection")["Properties"]
    assert connection["AuthorizationType"] == "OAUTH_CLIENT_CREDENTIALS"
    oauth = connection["AuthParameters"]["OAuthParameters"]
    assert oauth["AuthorizationEndpoint"] == "https://auth.shop.example/oauth/token"
    assert oauth["HttpMethod"] == "POST"
    assert oauth["ClientParameters"]["ClientID"] == "reviewflow"
    assert OAUTH_SECRET_ARN in json.dumps(oauth["ClientParameters"]["ClientSecret"])
    assert "{{resolve:secretsmanager:" in json.dumps(oauth["ClientParameters"]["ClientSecret"])
    body = oauth["OAuthHttpParameters"]["BodyParameters"]
    assert {b["Key"]: b["Value"] for b in body} == {
        "grant_type": "client_credentials",
        "scope": "reviews:write",
    }
    assert len(synth.resources("AWS::Events::ApiDestination")) == 1  # only the reply endpoint


def test_off_when_no_endpoint_is_configured(synthesized: Synthesized) -> None:
    for type_ in ("AWS::Events::Connection", "AWS::Events::ApiDestination"):
        assert not synthesized.resources(type_)
    assert not [k for k in synthesized.template["Resources"] if k.startswith("Storefront")]


@pytest.mark.parametrize(
    ("storefront", "message"),
    [
        ({"reply_url": "http://shop.example/r", "auth": STOREFRONT["auth"]}, "https"),
        ({"reply_url": "https://shop.example/r"}, "auth is required"),
        ({"reply_url": "https://shop.example/r", "auth": {}}, "exactly one"),
        ({"reply_url": "https://s/r", "auth": {"api_key": {"secret_name": "has space"}}}, "secret_name"),
        (
            {"reply_url": "https://s/r", "auth": {"api_key": {"secret_name": "k", "value": "literal"}}},
            "value",
        ),
    ],
)
def test_invalid_storefront_settings_fail_the_synth(storefront: dict[str, Any], message: str) -> None:
    from stacks.config import ReviewflowConfig

    base = cdk_json_context()["reviewflow"]
    with pytest.raises(ValueError, match=message):
        ReviewflowConfig.model_validate({**base, "storefront": storefront})
