"""DetectSentiment task: the review's sentiment from the configured provider (LLM or VADER)."""

from __future__ import annotations

from typing import Any

from reviewflow.domain.sentiment import detect_sentiment
from reviewflow.models.steps import SentimentRequest, parse_step_input
from reviewflow.observability import lambda_entry
from reviewflow.providers import registry


@lambda_entry
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    request = parse_step_input(SentimentRequest, event, subject="sentiment request")
    result = detect_sentiment(request, provider=registry.sentiment_provider())
    return result.model_dump(mode="json")
