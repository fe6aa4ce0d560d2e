"""ExtractInsights task: product feedback from a cleared review, stored by product and published.

Runs in the insight branch of the workflow's Parallel, beside the reply; the workflow catches
every error it raises, so a failure here never fails or changes the reply.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from reviewflow.domain.clock import iso_utc, utc_now
from reviewflow.domain.insights import InsightsRequest, InsightsSummary, extract_feedback
from reviewflow.models.steps import parse_step_input
from reviewflow.observability import lambda_entry
from reviewflow.providers import registry


@lambda_entry
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    request = parse_step_input(InsightsRequest, event, subject="insights request")
    now = utc_now()
    ttl = now + timedelta(days=registry.runtime_settings().insights_ttl_days)
    feedback = extract_feedback(
        request.review,
        extractor=registry.insight_extractor(),
        store=registry.insight_store(),
        publisher=registry.feedback_publisher(),
        extracted_at=iso_utc(now),
        execution_id=request.execution_id,
        ttl_epoch=int(ttl.timestamp()),
    )
    summary = InsightsSummary(
        extractor=feedback.extractor, insights=len(feedback.insights), dropped=feedback.dropped
    )
    return summary.model_dump(mode="json")
