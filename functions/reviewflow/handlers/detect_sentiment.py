"""DetectSentiment task: the review's sentiment from the configured provider (LLM or VADER)."""

from __future__ import annotations

from typing import Any

from reviewflow.models.steps import SentimentRequest, parse_step_input
from reviewflow.observability import add_metric, get_logger, lambda_entry
from reviewflow.providers import registry


@lambda_entry
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    request = parse_step_input(SentimentRequest, event, subject="sentiment request")
    result = registry.sentiment_provider().detect(request.review)
    get_logger().info(
        "sentiment detected",
        extra={
            "sentiment": result.sentiment,
            "model_id": result.model_id,
            "prompt_version": result.prompt_version,
            "attempts": result.attempts,
            "input_tokens": result.usage.input_tokens,
            "output_tokens": result.usage.output_tokens,
        },
    )
    add_metric("SentimentInputTokens", result.usage.input_tokens)
    add_metric("SentimentOutputTokens", result.usage.output_tokens)
    return result.model_dump(mode="json")
