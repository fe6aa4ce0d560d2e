"""PrepareEvaluation: check the evaluation request and its candidates, read and pin the dataset.

Returns the case indexes, never the cases: the workflow's payloads stay small however large the
golden set (docs/evaluation.md). Every candidate's providers and the judge are built here once
(no model is called), so a candidate or judge the deployment cannot run (an offline model id, a
template version that does not exist, an LLM judge without a model provider) fails the
evaluation in seconds, not after a thousand failed cases.
"""

from __future__ import annotations

from typing import Any

from reviewflow.domain.evaluation.judges import build_judge
from reviewflow.domain.evaluation.run_case import prepare_evaluation
from reviewflow.models.evaluation import EvaluationRequest
from reviewflow.models.evaluation_steps import PrepareRequest
from reviewflow.models.steps import parse_step_input
from reviewflow.observability import get_logger, lambda_entry
from reviewflow.providers import registry


@lambda_entry
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    raw = parse_step_input(PrepareRequest, event, subject="evaluation request").request
    request = parse_step_input(EvaluationRequest, raw, subject="evaluation request")
    for candidate in request.candidates:
        registry.sentiment_provider_for(candidate)
        registry.response_writer_for(candidate)
    judge_model = registry.chat_model(request.judge_model_id) if request.judge_model_id else None
    build_judge(request.judge, judge_model, policy_version=registry.runtime_settings().reply_policy_version)
    prepared = prepare_evaluation(request, registry.evaluation_store())
    get_logger().info(
        "evaluation prepared",
        extra={
            "evaluation_id": prepared.evaluation_id,
            "cases": prepared.case_count,
            "candidates": [candidate.name for candidate in prepared.candidates],
            "judge": prepared.judge,
        },
    )
    return prepared.model_dump(mode="json")
