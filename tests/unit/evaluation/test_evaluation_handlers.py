"""The evaluation workflow's three handlers, called like Lambda, with an in-memory bucket."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from reviewflow.errors import ConfigurationError, InvalidInputError
from reviewflow.handlers import aggregate_evaluation, evaluate_case, prepare_evaluation
from reviewflow.models.evaluation import CaseResult
from reviewflow.providers import registry
from tests.unit.evaluation.evaluation_fakes import MemoryStore, TableToxicity, case

BUCKET = "evaluations"
DATASET = {"bucket": BUCKET, "key": "datasets/ev-1/d.jsonl"}
TEMPLATE_V2 = {"name": "t-v2", "model_id": "local/template-responder", "prompt_version": "v2"}


@pytest.fixture
def store(runtime_env: pytest.MonkeyPatch) -> Iterator[MemoryStore]:
    runtime_env.setenv("REVIEWFLOW_LLM_PROVIDER", "local")
    runtime_env.setenv("REVIEWFLOW_EVALUATION_BUCKET", BUCKET)
    memory = MemoryStore(bucket=BUCKET)
    golden = [case("The kettle is fine.", case_id="c-0"), case("I will hurt you.", "harmful", case_id="c-1")]
    memory.objects[DATASET["key"]] = "\n".join(c.model_dump_json() for c in golden)
    toxicity = TableToxicity({"I will hurt you.": 0.95})
    with registry.override(evaluation_store=memory, toxicity_provider=toxicity):
        yield memory


def task(mode: str = "evaluate", **changes: Any) -> dict[str, Any]:
    return {
        "mode": mode,
        "evaluation_id": "ev-1",
        "dataset": DATASET,
        "dataset_etag": '"v1"',
        "case_index": 0,
        "candidate": TEMPLATE_V2,
        "judge": "rule",
        "judge_model_id": None,
        **({"bands": {"low": 0.4, "high": 0.6}} if mode == "evaluate" else {}),
        **changes,
    }


def test_prepare_returns_the_case_indexes_of_the_pinned_dataset(
    store: MemoryStore, lambda_context: Any
) -> None:
    event = {"request": {"evaluation_id": "ev-1", "dataset": DATASET, "candidates": [TEMPLATE_V2]}}
    prepared = prepare_evaluation.handler(event, lambda_context)
    assert prepared["case_indexes"] == [0, 1] and prepared["case_count"] == 2
    assert prepared["dataset_etag"] == '"v1"' and prepared["judge_model_id"] is None
    json.dumps(prepared)  # the state the workflow carries on


def test_prepare_refuses_a_bad_request_and_a_candidate_it_cannot_run(
    store: MemoryStore, lambda_context: Any
) -> None:
    with pytest.raises(InvalidInputError, match="evaluation request"):
        prepare_evaluation.handler({"request": {"evaluation_id": "Bad Id!"}}, lambda_context)
    nova = {**TEMPLATE_V2, "model_id": "amazon.nova-lite-v1:0"}
    with pytest.raises(ConfigurationError, match="only reply model"):
        prepare_evaluation.handler(
            {"request": {"evaluation_id": "ev-1", "dataset": DATASET, "candidates": [nova]}}, lambda_context
        )
    llm_judge = {"judge": "llm", "judge_model_id": "amazon.nova-pro-v1:0"}
    with pytest.raises(ConfigurationError, match="no chat model"):  # offline there is no model to judge with
        prepare_evaluation.handler(
            {
                "request": {
                    "evaluation_id": "ev-1",
                    "dataset": DATASET,
                    "candidates": [TEMPLATE_V2],
                    **llm_judge,
                }
            },
            lambda_context,
        )


def test_evaluate_case_writes_the_result_and_returns_a_small_status(
    store: MemoryStore, lambda_context: Any
) -> None:
    status = evaluate_case.handler(task(), lambda_context)
    assert status == {
        "case_id": "c-0",
        "candidate": "t-v2",
        "status": "evaluated",
        "passed": status["passed"],
        "result_key": "results/ev-1/t-v2/c-0.json",
    }
    result = CaseResult.model_validate_json(store.objects["results/ev-1/t-v2/c-0.json"])
    assert result.actual_route == "auto" and result.reply_text and result.reply_text.startswith("Hello,")


def test_record_failure_writes_a_failed_result_with_the_error_name_only(
    store: MemoryStore, lambda_context: Any
) -> None:
    status = evaluate_case.handler(
        task("record_failure", case_index=1, error="ProviderTimeoutError"), lambda_context
    )
    assert (status["status"], status["passed"]) == ("failed", False)
    result = CaseResult.model_validate_json(store.objects["results/ev-1/t-v2/c-1.json"])
    assert (result.failure_reason, result.expected_route, result.reply_text) == (
        "ProviderTimeoutError",
        "harmful",
        None,
    )


def test_a_case_index_outside_the_dataset_is_refused(store: MemoryStore, lambda_context: Any) -> None:
    with pytest.raises(InvalidInputError, match="outside the dataset"):
        evaluate_case.handler(task(case_index=2), lambda_context)
    with pytest.raises(InvalidInputError, match="case task"):
        evaluate_case.handler(task(bands=None), lambda_context)


def test_aggregate_reports_every_pair_and_returns_the_completion_detail(
    store: MemoryStore, lambda_context: Any
) -> None:
    evaluate_case.handler(task(), lambda_context)
    event = {
        "evaluation_id": "ev-1",
        "execution_id": "arn:aws:states:us-east-1:123456789012:execution:reviewflow-evaluation:ev-1",
        "dataset": DATASET,
        "dataset_etag": '"v1"',
        "candidates": [TEMPLATE_V2],
        "judge": "rule",
        "judge_model_id": None,
    }
    detail = aggregate_evaluation.handler(event, lambda_context)
    assert detail["status"] == "completed" and detail["missing"] == 1 and detail["case_count"] == 2
    assert "failed_step" not in detail and "error_type" not in detail  # no nulls in the event
    assert detail["report"]["json_key"] == "reports/ev-1/report.json"
    assert set(store.objects) >= {
        "reports/ev-1/report.json",
        "reports/ev-1/report.md",
        "reports/ev-1/chart.svg",
    }
    assert [c["name"] for c in detail["candidates"]] == ["t-v2"]
