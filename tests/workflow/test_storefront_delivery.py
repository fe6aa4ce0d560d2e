"""Storefront delivery end to end: the template's API destinations delivered to the local stub.

The stack is synthesized with a storefront configured (https endpoints and an API key secret),
deployed into moto, and the local delivery sends what EventBridge would to the stub, whose host
replaces the endpoints' own. Backoff is zero: retries are counted, not waited for.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from reviewflow.contracts import OutcomeType
from reviewflow_local import storefront
from reviewflow_local.pipeline import LocalPipeline
from reviewflow_local.storefront_stub import TIMEOUT, StorefrontStub

STOREFRONT = {
    "reply_url": "https://shop.example/api/replies",
    "moderation_url": "https://shop.example/api/moderation",
    "auth": {"api_key": {"header_name": "x-storefront-key", "secret_name": "reviewflow/storefront-key"}},
    "retry_attempts": 2,
    "max_event_age_seconds": 300,
}
SAFE = {
    "review_id": "sf-safe",
    "product_id": "kettle-200",
    "product_name": "Aurora Kettle",
    "rating": 5,
    "reviewer_name": "Maria",
    "review_text": "Boils quickly, quiet, and the handle stays cool. Very happy with it.",
}
HARMFUL = {
    "review_id": "sf-harmful",
    "product_id": "case-9",
    "rating": 1,
    "review_text": "This case is shit and the seller is a fucking idiot.",
}
DEADLINE = 45.0


@pytest.fixture(scope="module")
def stub() -> Iterator[StorefrontStub]:
    with StorefrontStub() as server:
        yield server


@pytest.fixture(scope="module")
def stack(stack_factory: Callable[..., LocalPipeline], stub: StorefrontStub) -> LocalPipeline:
    pipeline = stack_factory({"storefront": STOREFRONT})
    delivery = storefront.attach(pipeline, base_url=stub.url, backoff=lambda retry: 0.0, timeout_seconds=0.5)
    assert delivery is not None
    return pipeline


def _deliver(stack: LocalPipeline, review: dict[str, Any]) -> list[storefront.DeliveryRecord]:
    stack.post_reviews([review])
    stack.outcome_for(review["review_id"], timeout=DEADLINE)
    records = stack.storefront.wait_for(
        lambda done: any(r.review_id == review["review_id"] for r in done), timeout=DEADLINE
    )
    return [r for r in records if r.review_id == review["review_id"]]


def _dead_letters(stack: LocalPipeline) -> list[dict[str, Any]]:
    url = stack.client("cloudformation").describe_stack_resources(StackName=stack.stack_name)
    (queue,) = [
        r["PhysicalResourceId"]
        for r in url["StackResources"]
        if r["ResourceType"] == "AWS::SQS::Queue" and r["LogicalResourceId"].startswith("Storefront")
    ]
    messages = (
        stack.client("sqs")
        .receive_message(QueueUrl=queue, MaxNumberOfMessages=10, MessageAttributeNames=["All"])
        .get("Messages", [])
    )
    return [{"event": json.loads(m["Body"]), "attributes": m["MessageAttributes"]} for m in messages]


def test_a_created_reply_reaches_the_reply_endpoint(stack: LocalPipeline, stub: StorefrontStub) -> None:
    (record,) = _deliver(stack, SAFE)
    assert record.state == "success"
    (request,) = [r for r in stub.requests("/api/replies") if r.json()["review_id"] == "sf-safe"]
    assert request.method == "POST"
    assert request.header("Idempotency-Key") == "sf-safe"
    assert request.header("x-storefront-key")  # the connection's API key header
    body = request.json()
    assert set(body) == {
        "schema_version",
        "kind",
        "event_id",
        "occurred_at",
        "review_id",
        "product_id",
        "reply_text",
        "decided_by",
    }
    assert (body["schema_version"], body["kind"], body["product_id"]) == ("1", "reply", "kettle-200")
    assert body["reply_text"].startswith("Hi Maria") and body["decided_by"] == "auto"
    assert body["event_id"] == record.event_id and body["occurred_at"]


def test_a_harmful_review_reaches_the_moderation_endpoint(stack: LocalPipeline, stub: StorefrontStub) -> None:
    (record,) = _deliver(stack, HARMFUL)
    assert record.detail_type == OutcomeType.HARMFUL_CONTENT
    (request,) = [r for r in stub.requests("/api/moderation") if r.json()["review_id"] == "sf-harmful"]
    assert request.header("Idempotency-Key") == "sf-harmful"
    body = request.json()
    assert (body["kind"], body["reason"], body["product_id"]) == ("moderation", "harmful_content", "case-9")
    assert body["toxicity_score"] > 0.6
    assert "execution_id" not in json.dumps(body)


def test_endpoint_faults_are_retried_then_delivered(stack: LocalPipeline, stub: StorefrontStub) -> None:
    stub.inject("/api/replies", [500, TIMEOUT])
    (record,) = _deliver(stack, {**SAFE, "review_id": "sf-retried"})
    assert record.state == "retried"
    assert [a.label for a in record.attempts] == ["500", "timeout", "200"]
    requests = [r for r in stub.requests("/api/replies") if r.json()["review_id"] == "sf-retried"]
    assert [r.header("Idempotency-Key") for r in requests] == ["sf-retried"] * 3


def test_exhausted_retries_dead_letter_the_event_and_the_outcome_stays_one(
    stack: LocalPipeline, stub: StorefrontStub
) -> None:
    stub.inject("/api/moderation", [503, 500, 502])
    (record,) = _deliver(stack, {**HARMFUL, "review_id": "sf-dead"})
    assert record.state == "dead-lettered" and len(record.attempts) == 3  # 1 + retry_attempts
    (letter,) = [d for d in _dead_letters(stack) if d["event"]["detail"]["review_id"] == "sf-dead"]
    assert letter["event"]["detail-type"] == OutcomeType.HARMFUL_CONTENT
    assert letter["attributes"]["EXHAUSTED_RETRY_CONDITION"]["StringValue"] == "MaximumRetryAttempts"
    outcomes = [e for e in stack.flush_outcomes() if e["detail"]["review_id"] == "sf-dead"]
    assert len(outcomes) == 1


def test_a_client_error_is_not_retried(stack: LocalPipeline, stub: StorefrontStub) -> None:
    stub.inject("/api/replies", [400])
    (record,) = _deliver(stack, {**SAFE, "review_id": "sf-refused"})
    assert record.state == "dead-lettered" and [a.label for a in record.attempts] == ["400"]
    assert [d for d in _dead_letters(stack) if d["event"]["detail"]["review_id"] == "sf-refused"]


def test_the_inbox_lists_the_deliveries(stack: LocalPipeline) -> None:
    import urllib.request

    with urllib.request.urlopen(stack.front.url + "/") as page:
        text = page.read().decode()
    assert "Storefront deliveries" in text and "sf-safe" in text and "dead-lettered" in text
