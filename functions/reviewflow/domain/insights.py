"""Product insights: the aspects a review mentions, read from a model's JSON, stored by product.

The model is asked for ``{"insights": [...]}`` (prompt ``insights/<version>``). An answer
without that object, or whose ``insights`` is not a list, goes back to the model through the
bounded repair loop of ``converse_for_json``; an answer that has the list keeps its valid items
and drops the others, counting them in ``dropped``: an item that fails the ``Insight`` model, an
item whose ``evidence`` is not a verbatim substring of the review (a model that paraphrases or
invents a quote must not put words in the customer's mouth), a duplicate aspect, and items past
``MAX_INSIGHTS``. One bad item never costs the good ones another model call.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError

from reviewflow.domain.model_output import converse_for_json, first_json_object
from reviewflow.domain.ports import ChatModel, FeedbackPublisher, InsightExtractor, InsightStore
from reviewflow.domain.prompts import DEFAULT_PROMPT_VERSION, load_prompt, review_fields
from reviewflow.models.events import ReviewPosted
from reviewflow.models.insights import MAX_INSIGHTS, Insight, ProductFeedback
from reviewflow.observability import add_metric, get_logger

PROMPT_NAME = "insights"
# Eight short items fit well under this; a rambling model stays cheap.
INSIGHTS_MAX_TOKENS = 900
INSIGHTS_TEMPERATURE = 0.0


class InsightsRequest(BaseModel):
    """Input of the ExtractInsights step."""

    model_config = ConfigDict(extra="forbid")

    review: ReviewPosted
    execution_id: str | None = None


class InsightsSummary(BaseModel):
    """What the step returns into the workflow state (the feedback itself is on the bus)."""

    model_config = ConfigDict(extra="forbid")

    status: str = "extracted"
    extractor: str
    insights: int
    dropped: int


@dataclass(frozen=True)
class ExtractedInsights:
    """What an extractor found, before it becomes a ``ProductFeedback``."""

    insights: list[Insight]
    dropped: int
    extractor: str
    prompt_version: str | None


@dataclass(frozen=True)
class ParsedInsights:
    insights: list[Insight]
    dropped: int


def _clean(item: Any) -> Any:
    if not isinstance(item, dict):
        return item
    cleaned = dict(item)
    for key in ("aspect", "polarity"):
        if isinstance(cleaned.get(key), str):
            cleaned[key] = cleaned[key].strip().lower()
    for key in ("suggestion", "evidence"):
        if isinstance(cleaned.get(key), str):
            cleaned[key] = cleaned[key].strip()
    return cleaned


def parse_insights(text: str, review_text: str) -> ParsedInsights:
    """The valid items of a model answer; ``ValueError`` only when the answer's shape is wrong."""
    found = first_json_object(text)
    if found is None:
        raise ValueError("the answer contained no JSON object")
    items = found.get("insights")
    if not isinstance(items, list):
        raise ValueError('the object has no "insights" list')
    kept: list[Insight] = []
    seen: set[str] = set()
    dropped = 0
    for item in items:
        try:
            insight = Insight.model_validate(_clean(item))
        except ValidationError:
            dropped += 1
            continue
        if insight.evidence not in review_text or insight.aspect in seen or len(kept) >= MAX_INSIGHTS:
            dropped += 1
            continue
        seen.add(insight.aspect)
        kept.append(insight)
    return ParsedInsights(insights=kept, dropped=dropped)


def _correction(problem: str) -> str:
    return (
        f"Your previous answer could not be used ({problem}). Answer again with exactly one JSON "
        'object and nothing else, in the shape {"insights": [{"aspect": "...", "polarity": '
        '"positive|negative|neutral", "severity": 1, "suggestion": "...", "evidence": "..."}]}, '
        "where evidence is copied character for character from the review."
    )


class LlmInsightExtractor:
    """``InsightExtractor`` backed by any ``ChatModel`` (its own, usually cheaper, model id)."""

    def __init__(
        self, chat_model: ChatModel, max_attempts: int = 2, *, prompt_version: str = DEFAULT_PROMPT_VERSION
    ):
        if max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        self._chat_model = chat_model
        self._max_attempts = max_attempts
        self._prompt_version = prompt_version

    def extract(self, review: ReviewPosted) -> ExtractedInsights:
        prompt = load_prompt(PROMPT_NAME, self._prompt_version).render(**review_fields(review))
        answer = converse_for_json(
            self._chat_model,
            prompt,
            lambda text: parse_insights(text, review.review_text),
            _correction,
            max_attempts=self._max_attempts,
            max_tokens=INSIGHTS_MAX_TOKENS,
            temperature=INSIGHTS_TEMPERATURE,
            what="insights",
        )
        return ExtractedInsights(
            insights=answer.value.insights,
            dropped=answer.value.dropped,
            extractor=answer.model_id,
            prompt_version=prompt.version,
        )


def extract_feedback(
    review: ReviewPosted,
    *,
    extractor: InsightExtractor,
    store: InsightStore,
    publisher: FeedbackPublisher,
    extracted_at: str,
    execution_id: str | None,
    ttl_epoch: int,
) -> ProductFeedback:
    """The ExtractInsights step: extract, store by product, then publish the feedback event.

    Stored before published, so a consumer that reacts to the event finds the item; a failed
    publish fails the step (the workflow catches it) with the item already stored, which a
    re-run overwrites under the same key.
    """
    found = extractor.extract(review)
    feedback = ProductFeedback(
        review_id=review.review_id,
        product_id=review.product_id,
        product_name=review.product_name,
        execution_id=execution_id,
        language=review.language,
        rating=review.rating,
        extracted_at=extracted_at,
        extractor=found.extractor,
        prompt_version=found.prompt_version,
        insights=found.insights,
        dropped=found.dropped,
    )
    store.put(feedback, ttl_epoch=ttl_epoch)
    publisher.publish(feedback)
    add_metric("Insights.Extracted", len(feedback.insights))
    if feedback.dropped:
        add_metric("Insights.Dropped", feedback.dropped)
    get_logger().info(
        "product feedback extracted",
        extra={
            "product_id": feedback.product_id,
            "insights": len(feedback.insights),
            "dropped": feedback.dropped,
            "extractor": feedback.extractor,
        },
    )
    return feedback
