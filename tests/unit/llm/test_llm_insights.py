"""Product insights: the model answer's parser, the Bedrock path, the offline lexicon, the store
and the event (Stubber), and the step that ties them together."""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest
from botocore.stub import ANY, Stubber
from llm_fakes import MODEL_ID, ScriptedChatModel, converse_response

from reviewflow.contracts import OUTCOME_SOURCE, PRODUCT_FEEDBACK_EXTRACTED
from reviewflow.domain.insights import LlmInsightExtractor, extract_feedback, parse_insights
from reviewflow.errors import MalformedModelOutputError, ProviderError, ProviderThrottledError
from reviewflow.models.events import ReviewPosted
from reviewflow.models.insights import LOCAL_EXTRACTOR_ID, Insight, ProductFeedback
from reviewflow.providers.bedrock import BedrockChatModel
from reviewflow.providers.feedback_events import EventBridgeFeedbackPublisher
from reviewflow.providers.insights_store import DynamoInsightStore
from reviewflow.providers.local_insights import LexiconInsights

REVIEW_TEXT = "The battery died after two days. Delivery was quick and the box was intact."


def _item(**overrides: Any) -> dict[str, Any]:
    item = {
        "aspect": "Battery Life",
        "polarity": "negative",
        "severity": 4,
        "suggestion": "Test batteries before shipping.",
        "evidence": "The battery died after two days.",
    }
    return {**item, **overrides}


def _answer(*items: Any) -> str:
    return json.dumps({"insights": list(items)})


def test_parser_keeps_valid_items_and_counts_every_dropped_one() -> None:
    text = (
        "Here you go:\n```json\n"
        + _answer(
            _item(),
            _item(
                aspect="delivery",
                polarity="positive",
                severity=1,
                suggestion="",
                evidence="Delivery was quick",
            ),
            _item(aspect="battery life"),  # duplicate aspect
            _item(aspect="price", evidence="Cheap at twice the price"),  # not in the review
            _item(aspect="box", severity=9),  # out of range
            "not an object",
        )
        + "\n```"
    )
    parsed = parse_insights(text, REVIEW_TEXT)
    assert [i.aspect for i in parsed.insights] == ["battery life", "delivery"]
    assert parsed.insights[0].polarity == "negative" and parsed.insights[0].severity == 4
    assert parsed.dropped == 4


def test_parser_refuses_answers_without_the_list_so_the_repair_loop_runs() -> None:
    with pytest.raises(ValueError, match="no JSON object"):
        parse_insights("I could not find any aspects.", REVIEW_TEXT)
    with pytest.raises(ValueError, match='no "insights" list'):
        parse_insights('{"aspects": []}', REVIEW_TEXT)


def test_parser_caps_the_list_at_eight() -> None:
    words = REVIEW_TEXT.split()
    items = [_item(aspect=f"aspect {n}", evidence=words[n]) for n in range(10)]
    parsed = parse_insights(_answer(*items), REVIEW_TEXT)
    assert len(parsed.insights) == 8 and parsed.dropped == 2


def _review(text: str = REVIEW_TEXT, rating: int | None = 2) -> ReviewPosted:
    return ReviewPosted(
        review_id="r-1", product_id="torch-3", review_text=text, rating=rating, product_name="Torch"
    )


def test_malformed_answer_is_repaired_once_then_extracted() -> None:
    model = ScriptedChatModel(["no json here", _answer(_item())])
    found = LlmInsightExtractor(model, 2).extract(_review())
    assert [i.aspect for i in found.insights] == ["battery life"]
    assert found.extractor == "fake/scripted" and found.prompt_version == "insights/v1"
    correction = model.calls[1][1][-1].text
    assert "could not be used (the answer contained no JSON object)" in correction


def test_answers_that_stay_malformed_fail_the_step() -> None:
    model = ScriptedChatModel(["nope", "still nope"])
    with pytest.raises(MalformedModelOutputError):
        LlmInsightExtractor(model, 2).extract(_review())


def test_the_bedrock_path_sends_the_insights_prompt_to_its_own_model(bedrock) -> None:
    client, stubber = bedrock
    stubber.add_response(
        "converse",
        converse_response(_answer(_item()), output_tokens=60),
        expected_params={
            "modelId": MODEL_ID,
            "system": [{"text": ANY}],
            "messages": ANY,
            "inferenceConfig": {"maxTokens": 900, "temperature": 0.0},
        },
    )
    found = LlmInsightExtractor(BedrockChatModel(client, MODEL_ID), 2).extract(_review())
    stubber.assert_no_pending_responses()
    assert found.extractor == MODEL_ID and found.insights[0].aspect == "battery life"


def test_bedrock_throttling_surfaces_for_the_workflow_retry(bedrock) -> None:
    client, stubber = bedrock
    stubber.add_client_error("converse", service_error_code="ThrottlingException", http_status_code=429)
    with pytest.raises(ProviderThrottledError):
        LlmInsightExtractor(BedrockChatModel(client, MODEL_ID), 2).extract(_review())


def test_offline_extractor_is_deterministic_labelled_and_quotes_the_review() -> None:
    review = _review(
        "The battery died after two days and now it is useless. Delivery was quick and friendly. "
        "The charger sparks when plugged in!",
        rating=1,
    )
    first = LexiconInsights().extract(review)
    assert first == LexiconInsights().extract(review)
    assert first.extractor == LOCAL_EXTRACTOR_ID and first.prompt_version is None
    by_aspect = {i.aspect: i for i in first.insights}
    assert set(by_aspect) == {"battery life", "delivery"}
    battery, delivery = by_aspect["battery life"], by_aspect["delivery"]
    assert battery.polarity == "negative" and battery.severity == 4 and battery.suggestion
    assert delivery.polarity == "positive" and delivery.severity == 1 and delivery.suggestion == ""
    for insight in first.insights:
        assert insight.evidence in review.review_text
    hazard = LexiconInsights().extract(_review("The charging cable caught fire and it is dangerous."))
    assert hazard.insights[0].severity == 5


def test_offline_extractor_finds_nothing_in_a_review_without_aspects() -> None:
    assert LexiconInsights().extract(_review("Meh.", rating=3)).insights == []


def _feedback() -> ProductFeedback:
    return ProductFeedback(
        review_id="r-1",
        product_id="torch-3",
        extracted_at="2026-12-03T07:00:00Z",
        extractor=LOCAL_EXTRACTOR_ID,
        insights=[Insight.model_validate(_item(aspect="battery life"))],
    )


def test_store_writes_the_feedback_and_the_product_marker_in_one_transaction() -> None:
    client = boto3.client("dynamodb", region_name="us-east-1")
    feedback = _feedback()
    with Stubber(client) as stubber:
        stubber.add_response(
            "transact_write_items",
            {},
            {
                "TransactItems": [
                    {
                        "Put": {
                            "TableName": "insights",
                            "Item": {
                                "pk": {"S": "product#torch-3"},
                                "sk": {"S": "2026-12-03T07:00:00Z#r-1"},
                                "feedback": {"S": ANY},
                                "ttl": {"N": "1800000000"},
                            },
                        }
                    },
                    {
                        "Put": {
                            "TableName": "insights",
                            "Item": {
                                "pk": {"S": "products"},
                                "sk": {"S": "torch-3"},
                                "last_extracted_at": {"S": "2026-12-03T07:00:00Z"},
                            },
                        }
                    },
                ]
            },
        )
        DynamoInsightStore(client, "insights").put(feedback, ttl_epoch=1_800_000_000)
        stubber.add_client_error("transact_write_items", service_error_code="ThrottlingException")
        with pytest.raises(ProviderThrottledError):
            DynamoInsightStore(client, "insights").put(feedback, ttl_epoch=1_800_000_000)


def test_publisher_sends_the_feedback_event_and_refuses_a_partial_failure() -> None:
    client = boto3.client("events", region_name="us-east-1")
    feedback = _feedback()
    entry = {
        "EventBusName": "reviews",
        "Source": OUTCOME_SOURCE,
        "DetailType": PRODUCT_FEEDBACK_EXTRACTED,
        "Detail": json.dumps(feedback.model_dump(mode="json"), ensure_ascii=False),
        "Resources": [],
    }
    with Stubber(client) as stubber:
        stubber.add_response(
            "put_events", {"FailedEntryCount": 0, "Entries": [{"EventId": "e"}]}, {"Entries": [entry]}
        )
        EventBridgeFeedbackPublisher(client, "reviews").publish(feedback)
        stubber.add_response(
            "put_events",
            {"FailedEntryCount": 1, "Entries": [{"ErrorCode": "InternalFailure", "ErrorMessage": "x"}]},
            {"Entries": [entry]},
        )
        with pytest.raises(ProviderError):
            EventBridgeFeedbackPublisher(client, "reviews").publish(feedback)


class _Recorder:
    def __init__(self) -> None:
        self.calls: list[tuple[str, Any]] = []

    def put(self, feedback: ProductFeedback, *, ttl_epoch: int) -> None:
        self.calls.append(("put", (feedback.product_id, ttl_epoch)))

    def publish(self, feedback: ProductFeedback) -> None:
        self.calls.append(("publish", feedback.review_id))


def test_the_step_stores_before_it_publishes() -> None:
    recorder = _Recorder()
    feedback = extract_feedback(
        _review(),
        extractor=LexiconInsights(),
        store=recorder,
        publisher=recorder,
        extracted_at="2026-12-03T07:00:00Z",
        execution_id="arn:exec",
        ttl_epoch=99,
    )
    assert recorder.calls == [("put", ("torch-3", 99)), ("publish", "r-1")]
    assert feedback.execution_id == "arn:exec" and feedback.product_name == "Torch" and feedback.rating == 2
