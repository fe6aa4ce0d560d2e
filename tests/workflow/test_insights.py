"""The insight branch in the local runtime: PRODUCT_FEEDBACK_EXTRACTED beside an unchanged reply.

A rule on the bus copies the feedback events to a queue the test reads; the table is read by
product. The insight fault goes through the local fault injector (``insights:server_error=1``),
installed only for the review that needs it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from reviewflow.contracts import OUTCOME_SOURCE, PRODUCT_FEEDBACK_EXTRACTED, OutcomeType
from reviewflow.models.insights import LOCAL_EXTRACTOR_ID, ProductFeedback
from reviewflow.providers import registry
from reviewflow_local.faults import FaultPlan, install_faults
from reviewflow_local.pipeline import LocalPipeline
from tests.workflow.conftest import entered_states, wait_until

QUEUE = "test-product-feedback"
DEADLINE = 45.0
SAFE = {
    "review_id": "ins-safe",
    "product_id": "torch-3",
    "product_name": "Beam Torch",
    "rating": 4,
    "review_text": "Bright beam and the battery lasts all week. Delivery was quick.",
}
FAULTED = {**SAFE, "review_id": "ins-fault", "review_text": "Solid torch, easy to use and the price is fair."}
HARMFUL = {
    "review_id": "ins-harmful",
    "product_id": "torch-3",
    "rating": 1,
    "review_text": "This torch is shit and the seller is a fucking idiot, the battery is crap.",
}


@pytest.fixture(scope="module")
def stack(stack_factory: Any) -> Iterator[LocalPipeline]:
    local = stack_factory()
    sqs, events = local.client("sqs"), local.client("events")
    url = sqs.create_queue(QueueName=QUEUE)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    bus = local.resources.bus_name
    pattern = {"source": [OUTCOME_SOURCE], "detail-type": [PRODUCT_FEEDBACK_EXTRACTED]}
    events.put_rule(Name="test-feedback", EventBusName=bus, EventPattern=json.dumps(pattern))
    events.put_targets(Rule="test-feedback", EventBusName=bus, Targets=[{"Id": "q", "Arn": arn}])
    local.feedback_queue = url  # type: ignore[attr-defined]
    local.feedback_seen = []  # type: ignore[attr-defined]
    yield local
    registry.set_override("insight_extractor", None)


def feedback_events(stack: LocalPipeline) -> list[dict[str, Any]]:
    sqs = stack.client("sqs")
    seen: list[dict[str, Any]] = stack.feedback_seen  # type: ignore[attr-defined]
    while True:
        got = sqs.receive_message(QueueUrl=stack.feedback_queue, MaxNumberOfMessages=10)  # type: ignore[attr-defined]
        messages = got.get("Messages", [])
        if not messages:
            return seen
        for message in messages:
            seen.append(json.loads(message["Body"]))
            sqs.delete_message(QueueUrl=stack.feedback_queue, ReceiptHandle=message["ReceiptHandle"])  # type: ignore[attr-defined]


def insights_table(stack: LocalPipeline) -> str:
    tables = stack.client("dynamodb").list_tables()["TableNames"]
    return next(name for name in tables if "Insights" in name)


def history_of(stack: LocalPipeline, outcome: dict[str, Any]) -> list[dict[str, Any]]:
    return stack.history(outcome["detail"]["execution_id"])


def insights_result(stack: LocalPipeline, outcome: dict[str, Any]) -> dict[str, Any]:
    """What the AnswerReview Parallel merged into the state from the insight branch."""
    exited = [
        e["stateExitedEventDetails"]
        for e in history_of(stack, outcome)
        if e.get("stateExitedEventDetails", {}).get("name") == "AnswerReview"
    ]
    assert len(exited) == 1
    return dict(json.loads(exited[0]["output"])["insights"])


def test_a_safe_review_gets_its_reply_and_its_feedback_stored_by_product(stack: LocalPipeline) -> None:
    stack.post_reviews([SAFE])
    outcome = stack.outcome_for("ins-safe", timeout=DEADLINE)
    assert outcome["detail-type"] == OutcomeType.RESPONSE_CREATED
    assert outcome["detail"]["response_text"] and "insights" not in outcome["detail"]
    event = wait_until(
        lambda: next((e for e in feedback_events(stack) if e["detail"]["review_id"] == "ins-safe"), None),
        DEADLINE,
        "the feedback event",
    )
    feedback = ProductFeedback.model_validate(event["detail"])
    assert feedback.extractor == LOCAL_EXTRACTOR_ID and feedback.product_id == "torch-3"
    assert {i.aspect for i in feedback.insights} >= {"battery life", "delivery"}
    assert feedback.execution_id == outcome["detail"]["execution_id"]
    items = stack.client("dynamodb").query(
        TableName=insights_table(stack),
        KeyConditionExpression="pk = :pk",
        ExpressionAttributeValues={":pk": {"S": "product#torch-3"}},
    )["Items"]
    assert [item["sk"]["S"] for item in items] == [f"{feedback.extracted_at}#ins-safe"]
    assert ProductFeedback.model_validate_json(items[0]["feedback"]["S"]) == feedback
    marker = stack.client("dynamodb").get_item(
        TableName=insights_table(stack), Key={"pk": {"S": "products"}, "sk": {"S": "torch-3"}}
    )["Item"]
    assert marker["last_extracted_at"]["S"] == feedback.extracted_at
    states = entered_states(history_of(stack, outcome))
    assert {"ScreenReview", "AnswerReview", "ExtractInsights", "GenerateResponse", "BuildOutcome"} <= set(
        states
    )
    result = insights_result(stack, outcome)
    assert result["status"] == "extracted" and result["extractor"] == LOCAL_EXTRACTOR_ID
    assert result["count"] == len(feedback.insights) and result["dropped"] == 0


def test_an_insight_failure_leaves_the_reply_untouched_and_is_reported(stack: LocalPipeline) -> None:
    injector = install_faults(FaultPlan.parse("insights:server_error=1"))
    assert injector is not None
    try:
        stack.post_reviews([FAULTED])
        outcome = stack.outcome_for("ins-fault", timeout=DEADLINE)
    finally:
        registry.set_override("insight_extractor", None)
    assert injector.injected[("insights", "server_error")] >= 1
    assert outcome["detail-type"] == OutcomeType.RESPONSE_CREATED and outcome["detail"]["response_text"]
    states = entered_states(history_of(stack, outcome))
    assert "InsightsFailed" in states and "PublishOutcome" in states
    assert insights_result(stack, outcome) == {"status": "failed", "error": "ProviderError"}
    assert not [e for e in feedback_events(stack) if e["detail"]["review_id"] == "ins-fault"]


def test_a_harmful_review_gets_no_feedback(stack: LocalPipeline) -> None:
    stack.post_reviews([HARMFUL])
    outcome = stack.outcome_for("ins-harmful", timeout=DEADLINE)
    assert outcome["detail-type"] == OutcomeType.HARMFUL_CONTENT
    assert "sentiment" not in outcome["detail"]
    states = entered_states(history_of(stack, outcome))
    assert "ExtractInsights" not in states and "AdoptSentiment" not in states
    assert "DetectSentiment" in states  # the speculative call, discarded
    assert not [e for e in feedback_events(stack) if e["detail"]["review_id"] == "ins-harmful"]


# --- the report job ----------------------------------------------------------------------------

LAMP = {"product_id": "lamp-9", "product_name": "Desk Lamp 9", "rating": 2}
LAMP_REVIEWS = [
    {**LAMP, "review_id": "rep-1", "review_text": "The lamp arrived late and the box was crushed."},
    {
        **LAMP,
        "review_id": "rep-2",
        "review_text": "Terrible delivery, it was two weeks late. The light itself is fine.",
    },
]


def _product_team_queue(stack: LocalPipeline) -> str:
    """An SQS queue subscribed (raw) to the product team's topic: what its email subscribers get."""
    sqs, sns = stack.client("sqs"), stack.client("sns")
    url = sqs.create_queue(QueueName="test-product-team")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sns.subscribe(
        TopicArn=stack.resources.outputs["ProductTeamTopicArn"],
        Protocol="sqs",
        Endpoint=arn,
        Attributes={"RawMessageDelivery": "true"},
    )
    return str(url)


def test_the_report_job_aggregates_by_product_writes_the_bucket_and_emails_the_team(
    stack: LocalPipeline,
) -> None:
    from datetime import UTC, datetime, timedelta

    from reviewflow.domain.clock import iso_utc
    from reviewflow.providers.insights_store import DynamoInsightStore
    from reviewflow_local.insights_local import run_report

    queue = _product_team_queue(stack)
    stack.post_reviews(LAMP_REVIEWS)
    for review in LAMP_REVIEWS:
        assert (
            stack.outcome_for(review["review_id"], timeout=DEADLINE)["detail-type"]
            == OutcomeType.RESPONSE_CREATED
        )
    # A complaint from nine days ago, stored as the extractor stores it: the previous period.
    before = datetime.now(UTC) - timedelta(days=9)
    DynamoInsightStore(stack.client("dynamodb"), insights_table(stack)).put(
        ProductFeedback.model_validate(
            {
                **LAMP,
                "review_id": "rep-old",
                "extracted_at": iso_utc(before),
                "extractor": LOCAL_EXTRACTOR_ID,
                "insights": [
                    {
                        "aspect": "smell",
                        "polarity": "negative",
                        "severity": 3,
                        "suggestion": "Find the smell.",
                        "evidence": "It smells of burnt plastic.",
                    }
                ],
            }
        ),
        ttl_epoch=int((before + timedelta(days=365)).timestamp()),
    )

    local = run_report(stack)
    lamp = next(p for p in local.report.products if p.product_id == "lamp-9")
    assert lamp.product_name == "Desk Lamp 9" and lamp.reviews == 2
    delivery = next(i for i in lamp.issues if i.aspect == "delivery")
    assert delivery.count == 2 and delivery.new
    late = "Terrible delivery, it was two weeks late."
    assert {"The lamp arrived late and the box was crushed.", late} <= set(delivery.evidence)
    assert lamp.change.previous_reviews == 1 and lamp.change.resolved_issues == ["smell"]
    # Both objects are in the reports bucket, under the period's own folder.
    s3 = stack.client("s3")
    bucket = stack.resources.outputs["InsightsReportBucketName"]
    stamp = local.published.period.end.replace("-", "").replace(":", "")
    keys = {o["Key"] for o in s3.list_objects_v2(Bucket=bucket, Prefix=f"reports/{stamp}/")["Contents"]}
    assert keys == {f"reports/{stamp}/insights.md", f"reports/{stamp}/insights.json"}
    assert "## Desk Lamp 9 (lamp-9)" in local.markdown and f"“{late}”" in local.markdown
    # The product team's email: the summary and where the full report is.
    messages = stack.client("sqs").receive_message(QueueUrl=queue, MaxNumberOfMessages=10)["Messages"]
    (body,) = [m["Body"] for m in messages]
    assert "Desk Lamp 9 (lamp-9): 2 reviews" in body and "  * delivery: 2 (new)" in body
    assert body.rstrip().endswith(f"Full report: s3://{bucket}/reports/{stamp}/insights.md")

    # A period that ended before these reviews does not see them.
    earlier = run_report(stack, period_end=before + timedelta(days=1), period_days=7)
    old_lamp = next(p for p in earlier.report.products if p.product_id == "lamp-9")
    assert old_lamp.reviews == 1 and [i.aspect for i in old_lamp.issues] == ["smell"]
