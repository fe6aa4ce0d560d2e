"""First step of the workflow: read the delivered event into a review, or say why it is not one."""

from __future__ import annotations

from typing import Any

from reviewflow.domain.validation import validate_review
from reviewflow.models.steps import ValidateRequest, parse_step_input
from reviewflow.observability import add_metric, get_logger, lambda_entry
from reviewflow.providers import registry


@lambda_entry
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    request = parse_step_input(ValidateRequest, event, subject="validation request")
    result = validate_review(
        request.event, request.execution_id, ledger_ttl_days=registry.runtime_settings().ledger_ttl_days
    )
    if not result.valid:
        add_metric("InvalidReviews")
        # Field names and rules only: the rejected values may be anything a client sent.
        get_logger().warning(
            "review rejected by validation",
            extra={"dedup_key": result.review_id, "errors": [e.field for e in result.errors]},
        )
    return result.model_dump(mode="json")
