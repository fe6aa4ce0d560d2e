"""The evaluation's steps around one case (``domain/evaluation/run_case.py``): missing results,
preparing the dataset by version, reading it once, aggregating into the report."""

from __future__ import annotations

import json

import pytest

from reviewflow.domain.evaluation import run_case
from reviewflow.domain.evaluation.run_case import (
    NO_RESULT,
    DatasetCache,
    aggregate_evaluation,
    evaluate_case,
    prepare_evaluation,
    with_missing,
)
from reviewflow.errors import InvalidInputError
from reviewflow.models.evaluation import Candidate, CaseResult, DatasetLocation, GoldenCase
from reviewflow.models.evaluation_steps import AggregateRequest, CaseTask
from tests.unit.evaluation.evaluation_fakes import (
    BANDS,
    CANDIDATE,
    POLICY,
    FixedSentiment,
    FixedWriter,
    RouteJudge,
    TableToxicity,
    case,
    request,
    store_with,
)


def cases(n: int) -> list[GoldenCase]:
    return [case(case_id=f"c-{i}") for i in range(n)]


def test_missing_pairs_count_as_failed_in_dataset_order() -> None:
    golden, other = cases(3), Candidate(name="other", model_id="m", prompt_version="v1")
    recorded = [CaseResult(case_id="c-1", candidate="cand", status="evaluated", expected_route="auto")]
    complete, missing = with_missing(golden, [CANDIDATE, other], recorded)
    assert missing == 5 and len(complete) == 6
    assert [(r.candidate, r.case_id) for r in complete][:3] == [
        ("cand", "c-0"),
        ("cand", "c-1"),
        ("cand", "c-2"),
    ]
    assert complete[1] is recorded[0]
    failed = [r for r in complete if r.status == "failed"]
    assert {r.failure_reason for r in failed} == {NO_RESULT} and not any(r.passed for r in failed)


def test_preparing_pins_the_dataset_version_and_hands_out_indexes_only() -> None:
    store = store_with(cases(3))
    prepared = prepare_evaluation(request(), store)
    assert (prepared.case_count, prepared.case_indexes, prepared.dataset_etag) == (3, [0, 1, 2], '"v1"')
    assert "review" not in json.dumps(prepared.model_dump())
    with pytest.raises(InvalidInputError, match="datasets/"):
        prepare_evaluation(request(dataset={"bucket": "evaluations", "key": "elsewhere/d.jsonl"}), store)


def test_the_dataset_is_read_once_per_version() -> None:
    store, cache = store_with(cases(2)), DatasetCache()
    task = CaseTask(
        mode="evaluate",
        evaluation_id="ev-1",
        dataset=DatasetLocation(bucket="evaluations", key="datasets/d.jsonl"),
        dataset_etag='"v1"',
        case_index=1,
        candidate=CANDIDATE,
        bands=BANDS,
    )
    assert [c.case_id for c in cache.cases(store, task)] == ["c-0", "c-1"]
    cache.cases(store, task.model_copy(update={"case_index": 0}))
    assert store.reads == 1
    with pytest.raises(InvalidInputError):
        cache.cases(store, task.model_copy(update={"dataset_etag": '"v2"'}))


def test_aggregating_writes_the_report_three_ways_and_counts_what_is_missing() -> None:
    golden = cases(2)
    store = store_with(golden)
    result = evaluate_case(
        golden[0],
        CANDIDATE,
        toxicity=TableToxicity(),
        sentiment=FixedSentiment(),
        writer=FixedWriter(),
        policy=POLICY,
        judge=RouteJudge(),
        bands=BANDS,
    )
    run_case.store_result(store, "ev-1", result)
    aggregate = AggregateRequest(
        evaluation_id="ev-1",
        execution_id="arn:aws:states:us-east-1:123456789012:execution:e:ev-1",
        dataset=DatasetLocation(bucket="evaluations", key="datasets/d.jsonl"),
        dataset_etag='"v1"',
        candidates=[CANDIDATE],
        judge="rule",
    )
    completed = aggregate_evaluation(aggregate, store=store, cases=golden, pricing={})
    assert completed.status == "completed" and (completed.case_count, completed.missing) == (2, 1)
    assert completed.report is not None
    for key in (completed.report.json_key, completed.report.markdown_key, completed.report.svg_key):
        assert key.startswith("reports/ev-1/") and store.objects[key]
    (summary,) = completed.candidates
    assert (summary.name, summary.cases, summary.evaluated, summary.failed) == ("cand", 2, 1, 1)
    assert summary.pass_rate == 0.5
    low, high = summary.pass_rate_ci
    assert 0 <= low < 0.5 < high <= 1
