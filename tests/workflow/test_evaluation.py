"""The evaluation workflow in the local runtime: the synthesized template's state machine, bucket
and functions, driven as on AWS (upload the dataset, start the execution, read the report).

Two candidates over the golden set get one result per case each, a report with both and an
``EVALUATION_COMPLETED`` event on the bus that no review-outcome consumer takes; a candidate whose
writer times out on some cases still gets a complete report, those cases counted as failed with
their reason; a request the workflow refuses is announced as failed; and ``reviewflow eval``
refuses bad arguments with one line and exit code 2.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from reviewflow.domain.evaluation.dataset import load_dataset
from reviewflow.errors import ProviderTimeoutError
from reviewflow.models.evaluation import Candidate, GoldenCase
from reviewflow.models.events import ReviewPosted
from reviewflow.models.steps import GeneratedResponse, SentimentResult
from reviewflow.providers import registry
from reviewflow_local.evaluation_runs import EvaluationRun, LocalEvaluations
from reviewflow_local.pipeline import LocalPipeline

REPO = Path(__file__).resolve().parents[2]
DATASET = REPO / "tests" / "workflow" / "evaluation_cases.jsonl"
V1 = Candidate(name="template-v1", model_id="local/template-responder", prompt_version="v1")
V2 = Candidate(name="template-v2", model_id="local/template-responder", prompt_version="v2")
FLAKY = Candidate(name="flaky", model_id="local/template-responder", prompt_version="v2")
TIMEOUT = 300.0


@pytest.fixture(scope="module")
def stack(stack_factory: Callable[..., LocalPipeline]) -> LocalPipeline:
    return stack_factory()


@pytest.fixture(scope="module")
def evaluations(stack: LocalPipeline) -> LocalEvaluations:
    return LocalEvaluations(stack)


@pytest.fixture(scope="module")
def golden() -> list[GoldenCase]:
    return load_dataset(DATASET)


def evaluate(
    evaluations: LocalEvaluations, golden: list[GoldenCase], candidates: list[Candidate]
) -> EvaluationRun:
    run = evaluations.start(
        DATASET.read_text(encoding="utf-8"), candidates=candidates, case_count=len(golden)
    )
    assert evaluations.wait(run, TIMEOUT) == "SUCCEEDED"
    return run


@pytest.fixture(scope="module")
def two_candidates(
    evaluations: LocalEvaluations, golden: list[GoldenCase], tmp_path_factory: pytest.TempPathFactory
) -> tuple[EvaluationRun, dict[str, Any]]:
    run = evaluate(evaluations, golden, [V1, V2])
    return run, evaluations.download_report(run, [tmp_path_factory.mktemp("report")])


def test_every_case_of_every_candidate_has_a_result(
    evaluations: LocalEvaluations,
    golden: list[GoldenCase],
    two_candidates: tuple[EvaluationRun, dict[str, Any]],
) -> None:
    run, _ = two_candidates
    results = evaluations.results(run)
    pairs = sorted((r.candidate, r.case_id) for r in results)
    assert pairs == sorted((c.name, g.case_id) for c in (V1, V2) for g in golden)
    assert {r.status for r in results} == {"evaluated"}
    by_case = {(r.candidate, r.case_id): r for r in results}
    for case in golden:
        assert by_case[("template-v2", case.case_id)].actual_route == case.expected_route, case.case_id
        if case.expected_route == "harmful":
            assert by_case[("template-v2", case.case_id)].reply_text is None
        else:
            assert by_case[("template-v2", case.case_id)].reply_text


def test_the_report_compares_both_candidates_over_every_case(
    golden: list[GoldenCase], two_candidates: tuple[EvaluationRun, dict[str, Any]]
) -> None:
    _, report = two_candidates
    by_name = {candidate["name"]: candidate for candidate in report["candidates"]}
    assert set(by_name) == {"template-v1", "template-v2"}
    for candidate in by_name.values():
        matrix = candidate["confusion"]
        assert sum(n for row in matrix.values() for n in row.values()) == len(golden)
    # The rating-aware templates answer the sarcastic 1-star review with an apology; v1 does not.
    assert by_name["template-v2"]["pass_rate"] > by_name["template-v1"]["pass_rate"]


def test_the_completion_event_is_on_the_bus_and_no_outcome_consumer_took_it(
    stack: LocalPipeline, evaluations: LocalEvaluations, two_candidates: tuple[EvaluationRun, dict[str, Any]]
) -> None:
    run, _ = two_candidates
    completion = evaluations.completion(run)
    assert completion is not None
    assert (completion.status, completion.evaluation_id, completion.missing) == (
        "completed",
        run.evaluation_id,
        0,
    )
    assert completion.execution_id == run.execution_arn
    assert (
        completion.report is not None
        and completion.report.json_key == f"reports/{run.evaluation_id}/report.json"
    )
    assert [c.name for c in completion.candidates] == ["template-v1", "template-v2"]
    # It started no review workflow, and the outcome tap did not take it for a review outcome.
    assert stack.flush_outcomes() == []
    assert list(stack.executions()) == []


class TimesOutOn:
    """The template writer, except that it times out on the given reviews, every attempt."""

    name = "flaky"

    def __init__(self, inner: Any, review_ids: set[str]) -> None:
        self.inner, self.review_ids, self.attempts = inner, review_ids, 0

    def write(self, review: ReviewPosted, sentiment: SentimentResult) -> GeneratedResponse:
        if review.review_id in self.review_ids:
            self.attempts += 1
            raise ProviderTimeoutError("injected: the model did not answer in time")
        return self.inner.write(review, sentiment)  # type: ignore[no-any-return]


def test_a_candidate_whose_provider_fails_still_gets_a_complete_report(
    evaluations: LocalEvaluations, golden: list[GoldenCase], tmp_path: Path
) -> None:
    failing = {case.review.review_id for case in golden if case.expected_route == "auto"}
    writers: list[TimesOutOn] = []

    def factory(candidate: Candidate) -> TimesOutOn:
        writers.append(TimesOutOn(registry.configured("response_writer_for", candidate), failing))
        return writers[-1]

    with registry.override(response_writer_for={"flaky": factory}):
        run = evaluate(evaluations, golden, [V2, FLAKY])
    report = evaluations.download_report(run, [tmp_path])
    flaky = next(c for c in report["candidates"] if c["name"] == "flaky")
    steady = next(c for c in report["candidates"] if c["name"] == "template-v2")
    assert flaky["cases"] == steady["cases"] == len(golden)
    assert flaky["failed"] == len(failing) and steady["failed"] == 0
    assert flaky["failures"] == {"ProviderTimeoutError": len(failing)}
    results = {r.case_id: r for r in evaluations.results(run) if r.candidate == "flaky"}
    for case in golden:
        expected = "failed" if case.review.review_id in failing else "evaluated"
        assert results[case.case_id].status == expected, case.case_id
    # The workflow's Retry ran before the Catch recorded the failure: the first attempt, then the
    # three retries of LAMBDA_TASK_RETRY's timeout retrier, per case.
    assert sum(writer.attempts for writer in writers) == (1 + 3) * len(failing)
    completion = evaluations.completion(run)
    assert completion is not None and completion.missing == 0
    assert next(c for c in completion.candidates if c.name == "flaky").failed == len(failing)


def test_an_invalid_request_is_announced_as_failed_and_fails_the_execution(
    stack: LocalPipeline, evaluations: LocalEvaluations
) -> None:
    sfn = stack.client("stepfunctions")
    arn = sfn.start_execution(
        stateMachineArn=evaluations.state_machine_arn,
        name="bad-request",
        input=json.dumps({"evaluation_id": "bad-request", "dataset": {"bucket": "nope", "key": "x"}}),
    )["executionArn"]
    run = EvaluationRun("bad-request", arn, [], 0)
    assert evaluations.wait(run, TIMEOUT) == "FAILED"
    completion = evaluations.completion(run)
    assert completion is not None
    assert (completion.status, completion.failed_step, completion.error_type) == (
        "failed",
        "PrepareEvaluation",
        "InvalidInputError",
    )
    assert completion.evaluation_id == "bad-request"


# ------------------------------------------------------------------------------ reviewflow eval


def reviewflow_eval(*args: str, cwd: Path = REPO, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO / "local"), str(REPO / "functions")])}
    return subprocess.run(
        [sys.executable, "-m", "reviewflow_local.cli", "eval", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--candidate", "no-equals-sign"], "expected NAME=MODEL_ID@PROMPT_VERSION"),
        (["--candidate", "nova=amazon.nova-lite-v1:0@v1"], "offline, the only model is"),
        (
            ["--candidate", "a=local/template-responder@v1", "--candidate", "a=local/template-responder@v2"],
            "distinct",
        ),
        (["--judge", "llm"], "needs a language model"),
        (["--dataset", "does/not/exist.jsonl"], "cannot read the dataset"),
        (["--baseline", "does/not/exist.json"], "cannot read the baseline"),
    ],
)
def test_usage_errors_exit_2_with_one_line(args: list[str], says: str) -> None:
    result = (
        reviewflow_eval("--dataset", str(DATASET), *args)
        if "--dataset" not in args
        else reviewflow_eval(*args)
    )
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and says in lines[0] and "Traceback" not in result.stderr
