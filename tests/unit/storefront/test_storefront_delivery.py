"""Retries, backoff bounds and the dead-letter queue of the local storefront delivery (no sockets)."""

from __future__ import annotations

import json
from typing import Any

from reviewflow_local.storefront import HttpAnswer, StorefrontDelivery, endpoint_url
from reviewflow_local.storefront_routes import DeliveryRoute

EVENT: dict[str, Any] = {
    "id": "ev-1",
    "time": "2026-12-03T07:00:00Z",
    "source": "reviews.response-pipeline",
    "detail-type": "HARMFUL_CONTENT_DETECTED",
    "detail": {"review_id": "rev-7", "decided_by": "auto"},
}
PATTERN = {"source": ["reviews.response-pipeline"], "detail-type": ["HARMFUL_CONTENT_DETECTED"]}


def route(retry_attempts: int = 3, max_age: int = 3600) -> DeliveryRoute:
    return DeliveryRoute(
        rule_id="ModerationRule",
        target_id="Target0",
        destination_id="ModerationDestination",
        event_pattern=PATTERN,
        endpoint="https://shop.example/moderation",
        http_method="POST",
        input_transformer={
            "InputPathsMap": {"r": "$.detail.review_id"},
            "InputTemplate": '{"review_id":<r>}',
        },
        header_parameters={"Idempotency-Key": "$.detail.review_id"},
        retry_attempts=retry_attempts,
        max_event_age_seconds=max_age,
        dead_letter_queue_id="Dlq",
        api_key_header="x-api-key",
        api_key_secret="sf/key",
    )


class Scripted:
    """A sender answering from a script, recording every request."""

    def __init__(self, *answers: int | None) -> None:
        self.answers = list(answers)
        self.requests: list[tuple[str, str, dict[str, str], bytes]] = []

    def __call__(
        self, method: str, url: str, headers: dict[str, str], body: bytes, timeout: float
    ) -> HttpAnswer:
        self.requests.append((method, url, headers, body))
        status = self.answers.pop(0) if self.answers else 200
        return HttpAnswer(status, "" if status else "timeout")


def delivery(
    sender: Scripted, the_route: DeliveryRoute, backoff: float = 0.0
) -> tuple[StorefrontDelivery, list[Any], list[float]]:
    dead: list[Any] = []
    slept: list[float] = []
    engine = StorefrontDelivery(
        [the_route],
        dead_letter=lambda q, body, attrs: dead.append((q, json.loads(body), attrs)),
        base_url="http://127.0.0.1:9999",
        sender=sender,
        backoff=lambda n: backoff * n,
        sleep=slept.append,
        api_keys={"sf/key": "k-123"},
    )
    return engine, dead, slept


def test_first_attempt_success_sends_payload_and_headers() -> None:
    sender = Scripted(200)
    engine, dead, slept = delivery(sender, route())
    (record,) = engine.deliver(EVENT)
    assert record.state == "success" and not dead and not slept
    method, url, headers, body = sender.requests[0]
    assert (method, url) == ("POST", "http://127.0.0.1:9999/moderation")
    assert headers["Idempotency-Key"] == "rev-7" and headers["x-api-key"] == "k-123"
    assert json.loads(body) == {"review_id": "rev-7"}
    assert "x-api-key" not in record.headers  # the log never shows the key


def test_retryable_failures_are_retried_with_backoff_then_delivered() -> None:
    sender = Scripted(500, None, 429, 200)
    engine, dead, slept = delivery(sender, route(), backoff=1.0)
    (record,) = engine.deliver(EVENT)
    assert record.state == "retried" and [a.label for a in record.attempts] == [
        "500",
        "timeout",
        "429",
        "200",
    ]
    assert slept == [1.0, 2.0, 3.0] and not dead


def test_exhausted_retries_go_to_the_dead_letter_queue() -> None:
    sender = Scripted(500, 500, 500, 500, 200)
    engine, dead, _ = delivery(sender, route(retry_attempts=3))
    (record,) = engine.deliver(EVENT)
    assert record.state == "dead-lettered" and len(record.attempts) == 4
    ((queue, body, attributes),) = dead
    assert queue == "Dlq" and body == EVENT
    assert attributes["EXHAUSTED_RETRY_CONDITION"] == "MaximumRetryAttempts"
    assert attributes["RETRY_ATTEMPTS"] == "3" and attributes["ERROR_CODE"] == "500"


def test_non_retryable_client_error_is_dead_lettered_at_once() -> None:
    sender = Scripted(400, 200)
    engine, dead, slept = delivery(sender, route())
    (record,) = engine.deliver(EVENT)
    assert len(record.attempts) == 1 and record.state == "dead-lettered" and not slept
    assert dead[0][2]["EXHAUSTED_RETRY_CONDITION"] == "NonRetryableError"


def test_event_age_bounds_the_retries() -> None:
    sender = Scripted(500, 500, 500, 500, 500, 500)
    engine, dead, slept = delivery(sender, route(retry_attempts=100, max_age=60), backoff=25.0)
    (record,) = engine.deliver(EVENT)
    assert slept == [25.0] and len(record.attempts) == 2  # a second wait of 50 s would pass 60 s
    assert dead[0][2]["EXHAUSTED_RETRY_CONDITION"] == "MaximumEventAgeInSeconds"


def test_events_the_rule_does_not_match_are_not_sent() -> None:
    sender = Scripted()
    engine, _, _ = delivery(sender, route())
    assert engine.deliver({**EVENT, "detail-type": "NEW_REVIEW_RESPONSE_CREATED"}) == []
    assert sender.requests == []


def test_endpoint_url_keeps_the_path_under_the_base() -> None:
    assert (
        endpoint_url("https://shop.example/v1/reply?x=1", "http://127.0.0.1:8/stub")
        == "http://127.0.0.1:8/stub/v1/reply?x=1"
    )
    assert endpoint_url("https://shop.example/reply", None) == "https://shop.example/reply"
