"""Input transformer and header semantics of the local storefront delivery, and retry classification."""

from __future__ import annotations

import json
from typing import Any

import pytest

from reviewflow_local.storefront_routes import (
    AttemptResult,
    DeliveryRoute,
    StorefrontTemplateError,
    classify,
    read_delivery_routes,
    render_headers,
    render_input,
    secret_id_of,
)

EVENT: dict[str, Any] = {
    "id": "ev-1",
    "time": "2026-12-03T07:00:00Z",
    "source": "reviews.response-pipeline",
    "detail-type": "NEW_REVIEW_RESPONSE_CREATED",
    "detail": {
        "review_id": "rev-1",
        "product_id": "sku-9",
        "response_text": 'Thanks for "the" review\nsee you',
        "decided_by": "auto",
        "review_toxicity": {"score": 0.12, "labels": {}, "provider": "local"},
        "execution_id": "arn:aws:states:us-east-1:123456789012:execution:x:y",
    },
}


def transformer(template: str, **paths: str) -> dict[str, Any]:
    return {"InputPathsMap": paths, "InputTemplate": template}


def test_unquoted_placeholders_insert_json_values() -> None:
    rendered = render_input(
        transformer(
            '{"review_id":<r>,"score":<s>,"schema_version":"1","reply":<t>}',
            r="$.detail.review_id",
            s="$.detail.review_toxicity.score",
            t="$.detail.response_text",
        ),
        EVENT,
    )
    assert json.loads(rendered) == {
        "review_id": "rev-1",
        "score": 0.12,
        "schema_version": "1",
        "reply": 'Thanks for "the" review\nsee you',
    }


def test_quoted_placeholders_insert_text_escaped_for_json() -> None:
    rendered = render_input(
        transformer('{"summary":"review <r>: <t>"}', r="$.detail.review_id", t="$.detail.response_text"),
        EVENT,
    )
    assert json.loads(rendered) == {"summary": 'review rev-1: Thanks for "the" review\nsee you'}


def test_missing_path_is_null_outside_a_string_and_empty_inside_one() -> None:
    rendered = render_input(transformer('{"a":<m>,"b":"x<m>y"}', m="$.detail.nothing.here"), EVENT)
    assert json.loads(rendered) == {"a": None, "b": "xy"}


def test_unknown_placeholder_and_escaped_quotes_are_left_alone() -> None:
    rendered = render_input(transformer('{"a":"say \\"<r>\\" <other>"}', r="$.detail.review_id"), EVENT)
    assert json.loads(rendered) == {"a": 'say "rev-1" <other>'}


def test_reserved_variables_and_no_transformer() -> None:
    rendered = render_input(transformer('{"rule":<aws.events.rule-name>}'), EVENT, rule_name="ReplyRule")
    assert json.loads(rendered) == {"rule": "ReplyRule"}
    assert json.loads(render_input(None, EVENT)) == EVENT


def test_not_a_jsonpath_is_refused() -> None:
    with pytest.raises(StorefrontTemplateError):
        render_input(transformer("<a>", a="detail.review_id"), EVENT)


def _route(headers: dict[str, str]) -> DeliveryRoute:
    return DeliveryRoute(
        rule_id="R",
        target_id="T",
        destination_id="D",
        event_pattern={},
        endpoint="https://x/reply",
        http_method="POST",
        input_transformer=None,
        header_parameters=headers,
        retry_attempts=2,
        max_event_age_seconds=60,
        dead_letter_queue_id="Q",
    )


def test_header_parameters_resolve_paths_and_keep_literals() -> None:
    headers = render_headers(_route({"Idempotency-Key": "$.detail.review_id", "X-Static": "v1"}), EVENT)
    assert headers == {"Idempotency-Key": "rev-1", "X-Static": "v1"}
    assert render_headers(_route({"Idempotency-Key": "$.detail.missing"}), EVENT) == {}


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        (200, AttemptResult.DELIVERED),
        (204, AttemptResult.DELIVERED),
        (500, AttemptResult.RETRY),
        (503, AttemptResult.RETRY),
        (429, AttemptResult.RETRY),
        (408, AttemptResult.RETRY),
        (None, AttemptResult.RETRY),
        (400, AttemptResult.FAILED),
        (401, AttemptResult.FAILED),
        (404, AttemptResult.FAILED),
        (302, AttemptResult.FAILED),
    ],
)
def test_classify_follows_eventbridge(status: int | None, expected: AttemptResult) -> None:
    assert classify(status) is expected


def test_secret_id_of_dynamic_reference() -> None:
    assert secret_id_of("{{resolve:secretsmanager:store/key:SecretString:::}}") == "store/key"
    joined = {"Fn::Join": ["", ["{{resolve:secretsmanager:", "arn:aws:secretsmanager:r:1:secret:k", "}}"]]}
    assert secret_id_of(joined) == "arn:aws:secretsmanager:r:1:secret:k"
    assert secret_id_of("literal-key") is None


def test_read_delivery_routes_from_template() -> None:
    template = {
        "Resources": {
            "Conn": {
                "Type": "AWS::Events::Connection",
                "Properties": {
                    "AuthorizationType": "API_KEY",
                    "AuthParameters": {
                        "ApiKeyAuthParameters": {
                            "ApiKeyName": "x-api-key",
                            "ApiKeyValue": "{{resolve:secretsmanager:sf/key:SecretString:::}}",
                        }
                    },
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
            "Other": {"Type": "AWS::Events::Rule", "Properties": {"Targets": [{"Arn": "arn:aws:sqs:x"}]}},
            "Rule": {
                "Type": "AWS::Events::Rule",
                "Properties": {
                    "EventPattern": {"detail-type": ["NEW_REVIEW_RESPONSE_CREATED"]},
                    "Targets": [
                        {
                            "Id": "Target0",
                            "Arn": {"Fn::GetAtt": ["Dest", "Arn"]},
                            "DeadLetterConfig": {"Arn": {"Fn::GetAtt": ["Dlq", "Arn"]}},
                            "RetryPolicy": {"MaximumRetryAttempts": 3, "MaximumEventAgeInSeconds": 120},
                            "HttpParameters": {"HeaderParameters": {"Idempotency-Key": "$.detail.review_id"}},
                            "InputTransformer": transformer('{"r":<r>}', r="$.detail.review_id"),
                        }
                    ],
                },
            },
        }
    }
    (route,) = read_delivery_routes(template)
    assert (route.rule_id, route.destination_id, route.dead_letter_queue_id) == ("Rule", "Dest", "Dlq")
    assert (route.retry_attempts, route.max_event_age_seconds) == (3, 120)
    assert (route.api_key_header, route.api_key_secret, route.auth_type) == ("x-api-key", "sf/key", "API_KEY")
    assert route.endpoint == "https://shop.example/reply"
    assert route.header_parameters == {"Idempotency-Key": "$.detail.review_id"}
