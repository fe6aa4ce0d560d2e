"""AggregateEvaluation: every result of an evaluation into the report, and the completion detail.

Reads the dataset and every result under ``results/<evaluation_id>/``, counts each case and
candidate without a result as failed ("no result recorded"), writes ``report.json``,
``report.md`` and ``chart.svg`` under ``reports/<evaluation_id>/`` and returns the detail of the
``EVALUATION_COMPLETED`` event (pass rates and where the report is, never a reply).
"""

from __future__ import annotations

from typing import Any

from reviewflow.domain.evaluation.pricing import load_pricing
from reviewflow.domain.evaluation.run_case import DatasetCache, aggregate_evaluation
from reviewflow.models.evaluation_steps import AggregateRequest
from reviewflow.models.steps import parse_step_input
from reviewflow.observability import get_logger, lambda_entry
from reviewflow.providers import registry

_datasets = DatasetCache()


@lambda_entry
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    request = parse_step_input(AggregateRequest, event, subject="aggregate request")
    store = registry.evaluation_store()
    completed = aggregate_evaluation(
        request, store=store, cases=_datasets.cases(store, request), pricing=load_pricing()
    )
    get_logger().info(
        "evaluation aggregated",
        extra={
            "evaluation_id": completed.evaluation_id,
            "cases": completed.case_count,
            "missing": completed.missing,
            "pass_rates": {c.name: round(c.pass_rate, 4) for c in completed.candidates},
        },
    )
    return completed.model_dump(mode="json", exclude_none=True)
