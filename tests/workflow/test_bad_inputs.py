"""The bad-input corpus posted through the local bus: each case ends as it must, nothing crashes.

``invalid`` cases must end as ``RESPONSE_GENERATION_FAILED`` / ``invalid_review`` naming the
field, with a message and nothing of the bad input echoed; ``rejected`` cases (the 1 MB detail)
must be refused by ``PutEvents`` itself (EventBridge's request size limit, which the local runtime
enforces in ``moto_patches``) and start nothing. Afterwards the stack still answers a good review.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError

from reviewflow.contracts import OutcomeType
from reviewflow_local import moto_patches
from reviewflow_local.pipeline import LocalPipeline, outcome_key
from tests.corpus.bad_inputs import CASES, BadInput
from tests.workflow.conftest import wait_until

FAILED = OutcomeType.GENERATION_FAILED
INVALID = [c for c in CASES if c.expect == "invalid"]
REJECTED = [c for c in CASES if c.expect == "rejected"]


@pytest.fixture(scope="module")
def posted(stack_factory: Any) -> Iterator[tuple[LocalPipeline, dict[str, str]]]:
    """Every invalid case posted in batches of 10; returns the stack and case name -> outcome key."""
    stack = stack_factory()
    ids = stack.post_reviews([case.detail for case in INVALID])
    keys = {
        case.name: outcome_key(case.detail, event_id) for case, event_id in zip(INVALID, ids, strict=True)
    }
    yield stack, keys


def _outcome(stack: LocalPipeline, key: str) -> dict[str, Any]:
    return stack.outcome_for(key, timeout=60)


def test_the_corpus_covers_what_the_issue_lists() -> None:
    assert len(CASES) >= 40
    names = " ".join(c.name for c in CASES)
    for needle in (
        "missing",
        "number",
        "empty text",
        "whitespace",
        "20,001",
        "1 MB",
        "surrogate",
        "NUL",
        "ANSI",
        "slash",
        "unknown language",
        "rating 0",
        "rating 6",
        "extra field",
        "detail is a list",
        "detail is a string",
    ):
        assert needle in names, needle


@pytest.mark.parametrize("case", INVALID, ids=lambda c: c.name)
def test_invalid_input_ends_as_invalid_review_naming_its_field(
    posted: tuple[LocalPipeline, dict[str, str]], case: BadInput
) -> None:
    stack, keys = posted
    event = _outcome(stack, keys[case.name])
    detail = event["detail"]
    assert event["detail-type"] == FAILED
    assert detail["reason"] == "invalid_review"
    assert detail["message"].startswith("invalid review:")
    assert case.field in {e["field"].split(".")[0] for e in detail["errors"]}, detail["errors"]
    assert detail["decided_by"] == "auto"
    assert "response_text" not in detail and "sentiment" not in detail
    published = json.dumps(detail)
    assert len(published) < 8_000
    assert (
        "<script>" not in published and "aaaaaaaaaaaaaaaa" not in published and "etc/passwd" not in published
    )
    # The execution ended cleanly (no crash, no Fail state), with exactly one outcome. Publishing is
    # its last step, so the outcome can be read while it still runs: wait for it to end, then read
    # everything it published before counting.
    sfn = stack.client("stepfunctions")
    status = wait_until(
        lambda: _ended(sfn.describe_execution(executionArn=detail["execution_id"])["status"]),
        30,
        "the execution to end",
    )
    assert status == "SUCCEEDED"
    stack.flush_outcomes()
    assert sum(1 for e in stack.outcomes() if e["detail"].get("review_id") == keys[case.name]) == 1


def _ended(status: str) -> str | None:
    return None if status == "RUNNING" else status


@pytest.mark.parametrize("case", REJECTED, ids=lambda c: c.name)
def test_oversized_entry_is_refused_by_put_events_and_starts_nothing(
    posted: tuple[LocalPipeline, dict[str, str]], case: BadInput
) -> None:
    stack, _ = posted
    before = sum(1 for _ in stack.executions())
    with pytest.raises(ClientError) as raised:
        stack.post_reviews([case.detail])
    assert raised.value.response["Error"]["Code"] == "ValidationException"
    assert "over the limit" in raised.value.response["Error"]["Message"]
    assert sum(1 for _ in stack.executions()) == before
    assert not any(e["detail"].get("review_id") == case.review_id for e in stack.flush_outcomes())
    for queue_url in stack.resources.dead_letter_queue_urls:
        attributes = stack.client("sqs").get_queue_attributes(
            QueueUrl=queue_url, AttributeNames=["ApproximateNumberOfMessages"]
        )["Attributes"]
        assert attributes["ApproximateNumberOfMessages"] == "0"


def test_entry_size_limit_is_enforced_at_the_boundary(posted: tuple[LocalPipeline, dict[str, str]]) -> None:
    """Canary for the ``events_entry_size`` patch: exactly at the limit passes, one byte more fails."""
    stack, _ = posted
    assert "events_entry_size" in moto_patches.applied()
    source, detail_type = stack.resources.input_source, "reviewflow.local.size-probe"  # matches no rule
    overhead = len(source) + len(detail_type) + len('{"p": ""}')
    fits = json.dumps({"p": "x" * (moto_patches.PUT_EVENTS_MAX_BYTES - overhead)})
    events = stack.client("events")
    entry = {"EventBusName": stack.resources.bus_name, "Source": source, "DetailType": detail_type}
    assert events.put_events(Entries=[{**entry, "Detail": fits}])["FailedEntryCount"] == 0
    with pytest.raises(ClientError):
        events.put_events(Entries=[{**entry, "Detail": fits[:-2] + 'xx"}'}])


def test_the_stack_keeps_serving_after_the_corpus(posted: tuple[LocalPipeline, dict[str, str]]) -> None:
    stack, keys = posted
    wait_until(
        lambda: all(k in {e["detail"].get("review_id") for e in stack.outcomes()} for k in keys.values()),
        90,
        "every corpus outcome",
    )
    stack.post_reviews(
        [{"review_id": "after-corpus", "product_id": "p-1", "review_text": "Works well, thanks."}]
    )
    event = _outcome(stack, "after-corpus")
    assert event["detail-type"] == OutcomeType.RESPONSE_CREATED
    # PublishOutcome is the last state: its event can arrive before the execution is marked ended.
    wait_until(lambda: all(e["status"] != "RUNNING" for e in stack.executions()), 60, "executions to end")
    failed = [e for e in stack.executions() if e["status"] != "SUCCEEDED"]
    assert failed == []
