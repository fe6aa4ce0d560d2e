"""The outcome tap takes exactly the events the workflow publishes, and ``flush`` reads them all.

Its rule once matched the outcome source alone, so a review a client posted with that source (to
check the input rule ignores it) was listed as an outcome whenever the pump read the queue before
the test looked: a workflow test failed in some full runs and passed alone.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from reviewflow.contracts import DEFAULT_INPUT_SOURCE, INPUT_DETAIL_TYPE, OUTCOME_SOURCE, OutcomeType
from reviewflow_local.outcome_tap import OutcomeTap

REGION = "us-east-1"
BUS = "reviews"
PREFIX = "arn:aws:states:us-east-1:123456789012:execution:review-response:"


@pytest.fixture
def events() -> Iterator[Any]:
    with mock_aws():
        client = boto3.client("events", region_name=REGION)
        client.create_event_bus(Name=BUS)
        yield client


def _tap(on_outcome: Any = None) -> OutcomeTap:
    clients: dict[str, Any] = {}

    def client(service: str) -> Any:
        return clients.setdefault(service, boto3.client(service, region_name=REGION))

    tap = OutcomeTap(on_outcome)
    tap.install(client, BUS, PREFIX)
    return tap


def _put(events: Any, source: str, detail_type: str, detail: dict[str, Any]) -> None:
    entry = {"EventBusName": BUS, "Source": source, "DetailType": detail_type, "Detail": json.dumps(detail)}
    assert events.put_events(Entries=[entry])["FailedEntryCount"] == 0


def test_only_what_the_workflow_publishes_is_an_outcome(events: Any) -> None:
    tap = _tap()
    ours = {"review_id": "r-1", "execution_id": f"{PREFIX}abc"}
    _put(events, OUTCOME_SOURCE, OutcomeType.RESPONSE_CREATED, ours)
    # A review posted with the outcome source, as the unmatched-event workflow test does.
    _put(events, OUTCOME_SOURCE, INPUT_DETAIL_TYPE, {"review_id": "r-2", "execution_id": f"{PREFIX}x"})
    # An outcome type from another state machine, and one from another source.
    other = "arn:aws:states:us-east-1:123456789012:execution:someone-else:abc"
    _put(events, OUTCOME_SOURCE, OutcomeType.GENERATION_FAILED, {"review_id": "r-3", "execution_id": other})
    _put(
        events,
        DEFAULT_INPUT_SOURCE,
        OutcomeType.HARMFUL_CONTENT,
        {"review_id": "r-4", "execution_id": PREFIX},
    )

    tap.flush()

    assert [e["detail"]["review_id"] for e in tap.outcomes()] == ["r-1"]
    assert tap.outcomes()[0]["detail-type"] == OutcomeType.RESPONSE_CREATED


def test_every_outcome_type_is_taken(events: Any) -> None:
    tap = _tap()
    for index, kind in enumerate(OutcomeType):
        _put(events, OUTCOME_SOURCE, kind, {"review_id": f"r-{index}", "execution_id": f"{PREFIX}{index}"})
    tap.flush()
    assert sorted(e["detail-type"] for e in tap.outcomes()) == sorted(OutcomeType)


def test_flush_lists_everything_delivered_even_while_the_pump_runs(events: Any) -> None:
    seen: list[str] = []
    tap = _tap(on_outcome=lambda event: seen.append(event["detail"]["review_id"]))
    tap.start()
    try:
        for index in range(25):
            detail = {"review_id": f"r-{index}", "execution_id": f"{PREFIX}{index}"}
            _put(events, OUTCOME_SOURCE, OutcomeType.RESPONSE_CREATED, detail)
        tap.flush()
        assert sorted(e["detail"]["review_id"] for e in tap.outcomes()) == sorted(f"r-{i}" for i in range(25))
        assert tap.count() == 25
    finally:
        tap.stop()
    assert sorted(seen) == sorted(f"r-{i}" for i in range(25))  # each reported once


def test_pollers_read_only_what_is_new(events: Any) -> None:
    tap = _tap()
    for index in range(3):
        _put(
            events,
            OUTCOME_SOURCE,
            OutcomeType.RESPONSE_CREATED,
            {"review_id": f"r-{index}", "execution_id": f"{PREFIX}{index}"},
        )
    tap.flush()
    assert tap.wait_for_count(0, timeout=0) == 3  # already more than 0: no wait
    assert tap.wait_for_count(3, timeout=0) == 3  # none beyond 3, and no time to wait for one
    assert [e["detail"]["review_id"] for e in tap.outcomes_since(1)] == ["r-1", "r-2"]
    assert tap.outcomes_since(3) == []
    _put(
        events,
        OUTCOME_SOURCE,
        OutcomeType.HARMFUL_CONTENT,
        {"review_id": "r-3", "execution_id": f"{PREFIX}3"},
    )
    tap.flush()
    assert [e["detail"]["review_id"] for e in tap.outcomes_since(3)] == ["r-3"]


def test_a_message_delivered_twice_is_listed_once_and_the_queue_ends_empty(events: Any) -> None:
    tap = _tap()
    _put(
        events,
        OUTCOME_SOURCE,
        OutcomeType.RESPONSE_CREATED,
        {"review_id": "r-1", "execution_id": f"{PREFIX}1"},
    )
    sqs = tap._sqs
    body = sqs.receive_message(QueueUrl=tap._queue_url, VisibilityTimeout=0)["Messages"][0]["Body"]
    sqs.send_message(QueueUrl=tap._queue_url, MessageBody=body)  # SQS's at-least-once, by hand
    tap.flush()
    assert [e["detail"]["review_id"] for e in tap.outcomes()] == ["r-1"]
    attributes = sqs.get_queue_attributes(QueueUrl=tap._queue_url, AttributeNames=["All"])["Attributes"]
    assert (
        attributes["ApproximateNumberOfMessages"]
        == attributes["ApproximateNumberOfMessagesNotVisible"]
        == "0"
    )
