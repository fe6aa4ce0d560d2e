"""GenerateResponse task: a reply to the review from the configured writer (LLM or template)."""

from __future__ import annotations

from typing import Any

from reviewflow.models.steps import ResponseRequest, parse_step_input
from reviewflow.observability import add_metric, get_logger, lambda_entry
from reviewflow.providers import registry


@lambda_entry
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    request = parse_step_input(ResponseRequest, event, subject="response request")
    response = registry.response_writer().write(request.review, request.sentiment)
    get_logger().info(
        "response generated",
        extra={
            "model_id": response.model_id,
            "prompt_version": response.prompt_version,
            "response_chars": len(response.response_text),
            "input_tokens": response.usage.input_tokens,
            "output_tokens": response.usage.output_tokens,
        },
    )
    add_metric("ResponseInputTokens", response.usage.input_tokens)
    add_metric("ResponseOutputTokens", response.usage.output_tokens)
    return response.model_dump(mode="json")
