"""EvaluateCase / RecordCaseFailure: one golden case for one candidate, written to S3.

``mode: evaluate`` runs the case through the candidate's review steps and the judge
(``domain/evaluation/run_case.py``); ``mode: record_failure`` writes the failed result of a pair
whose evaluation failed after the workflow's retries, with the error name only. Either way the
result lands at ``results/<evaluation_id>/<candidate>/<case_id>.json`` and the task returns a
small status. The dataset is read once per process and version (its ETag).
"""

from __future__ import annotations

import functools
from typing import Any

from reviewflow.domain.evaluation.judges import build_judge
from reviewflow.domain.evaluation.run_case import (
    DatasetCache,
    case_of,
    evaluate_case,
    failed_result,
    store_result,
)
from reviewflow.domain.ports import ReplyJudge
from reviewflow.models.evaluation import JudgeName
from reviewflow.models.evaluation_steps import CaseTask
from reviewflow.models.steps import parse_step_input
from reviewflow.observability import add_metric, get_logger, lambda_entry
from reviewflow.providers import registry

_datasets = DatasetCache()


@lambda_entry
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    task = parse_step_input(CaseTask, event, subject="case task")
    store = registry.evaluation_store()
    case = case_of(_datasets.cases(store, task), task)
    if task.mode == "record_failure":
        result = failed_result(case, task.candidate.name, task.error or "unknown error")
    else:
        assert task.bands is not None  # the model requires them in this mode
        result = evaluate_case(
            case,
            task.candidate,
            toxicity=registry.toxicity_provider(),
            reply_toxicity=registry.reply_toxicity_provider(),
            sentiment=registry.sentiment_provider_for(task.candidate),
            writer=registry.response_writer_for(task.candidate),
            policy=registry.reply_policy(),
            judge=judge(task.judge, task.judge_model_id),
            bands=task.bands,
        )
    status = store_result(store, task.evaluation_id, result)
    get_logger().info(
        "case evaluated" if task.mode == "evaluate" else "case failure recorded",
        extra={
            "evaluation_id": task.evaluation_id,
            "case_id": status.case_id,
            "candidate": status.candidate,
            "status": status.status,
            "passed": status.passed,
            "failure_reason": result.failure_reason,
            "latency_ms": round(result.latency_ms, 1),
        },
    )
    add_metric(f"EvaluationCase.{status.status}")
    return status.model_dump(mode="json")


@functools.cache
def judge(name: JudgeName, model_id: str | None) -> ReplyJudge:
    """The judge the evaluation asked for, on the deployment's reply policy (built once per process)."""
    chat_model = registry.chat_model(model_id) if name == "llm" and model_id else None
    return build_judge(name, chat_model, policy_version=registry.runtime_settings().reply_policy_version)
