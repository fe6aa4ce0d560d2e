"""GenerateResponse task: a reply to the review from the configured writer (LLM or template)."""

from __future__ import annotations

from typing import Any

from reviewflow.domain.responses import generate_response
from reviewflow.models.steps import ResponseRequest, parse_step_input
from reviewflow.observability import lambda_entry
from reviewflow.providers import registry


@lambda_entry
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    request = parse_step_input(ResponseRequest, event, subject="response request")
    response = generate_response(request, writer=registry.response_writer())
    return response.model_dump(mode="json")
