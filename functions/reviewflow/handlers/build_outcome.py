"""Last step before publishing: the outcome event, built and validated by the outcome models."""

from __future__ import annotations

from typing import Any

from reviewflow.domain.outcomes import build_outcome
from reviewflow.models.steps import OutcomeRequest, parse_step_input
from reviewflow.observability import add_metric, get_logger, lambda_entry


@lambda_entry
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    outcome = build_outcome(parse_step_input(OutcomeRequest, event, subject="outcome request"))
    reason = outcome.detail.get("reason")
    add_metric(f"Outcome.{outcome.detail_type.value}")
    get_logger().info(
        "outcome built",
        extra={
            "detail_type": outcome.detail_type.value,
            "reason": reason,
            "decided_by": outcome.detail["decided_by"],
        },
    )
    return outcome.model_dump(mode="json")
