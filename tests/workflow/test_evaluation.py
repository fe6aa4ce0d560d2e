"""The evaluation workflow in the local runtime: the synthesized template's state machine, bucket
and functions, driven as on AWS (upload the dataset, start the execution, read the report).

The two template versions over the golden set get one result per case each, a report with both
and an ``EVALUATION_COMPLETED`` event on the bus that no review-outcome consumer takes; a
candidate whose writer times out on some cases (a small fixture set, for time) still gets a
complete report, those cases counted as failed with their reason; a request the workflow refuses
is announced as failed; and ``reviewflow eval`` is the gate: 0 against ``evals/baseline.json``,
1 on a regression, 2 with one line for a bad argument.
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
from reviewflow.models.evaluation_report import EvaluationReport, PassRate
from reviewflow.models.events import ReviewPosted
from reviewflow.models.steps import GeneratedResponse, SentimentResult
from reviewflow.providers import registry
from reviewflow_local.evaluation_runs import EvaluationRun, LocalEvaluations
from reviewflow_local.pipeline import LocalPipeline

REPO = Path(__file__).resolve().parents[2]
GOLDEN = REPO / "evals" / "golden" / "v1.jsonl"
BASELINE = REPO / "evals" / "baseline.json"
FIXTURE = REPO / "tests" / "workflow" / "evaluation_cases.jsonl"
V1 = Candidate(name="template-v1", model_id="local/template-responder", prompt_version="v1")
V2 = Candidate(name="template-v2", model_id="local/template-responder", prompt_version="v2")
FLAKY = Candidate(name="flaky", model_id="local/template-responder", prompt_version="v2")
TIMEOUT = 300.0
ROUTES = ("auto", "person", "harmful")


@pytest.fixture(scope="module")
def stack(stack_factory: Callable[..., LocalPipeline]) -> LocalPipeline:
    return stack_factory()


@pytest.fixture(scope="module")
def evaluations(stack: LocalPipeline) -> LocalEvaluations:
    return LocalEvaluations(stack)


@pytest.fixture(scope="module")
def golden() -> list[GoldenCase]:
    return load_dataset(GOLDEN)


def evaluate(evaluations: LocalEvaluations, dataset: Path, candidates: list[Candidate]) -> EvaluationRun:
    text = dataset.read_text(encoding="utf-8")
    run = evaluations.start(text, candidates=candidates, case_count=len(load_dataset(dataset)))
    assert evaluations.wait(run, TIMEOUT) == "SUCCEEDED"
    return run


@pytest.fixture(scope="module")
def two_candidates(
    evaluations: LocalEvaluations, tmp_path_factory: pytest.TempPathFactory
) -> tuple[EvaluationRun, EvaluationReport]:
    run = evaluate(evaluations, GOLDEN, [V1, V2])
    return run, evaluations.download_report(run, [tmp_path_factory.mktemp("report")])


def test_every_case_of_every_candidate_has_a_result(
    evaluations: LocalEvaluations,
    golden: list[GoldenCase],
    two_candidates: tuple[EvaluationRun, EvaluationReport],
) -> None:
    run, _ = two_candidates
    results = evaluations.results(run)
    assert sorted((r.candidate, r.case_id) for r in results) == sorted(
        (c.name, g.case_id) for c in (V1, V2) for g in golden
    )
    assert {r.status for r in results} == {"evaluated"}
    by_pair = {(r.candidate, r.case_id): r for r in results}
    for case in golden:
        first, second = (by_pair[(c.name, case.case_id)] for c in (V1, V2))
        # The candidates differ in their replies only: both take every case down the same route.
        assert first.actual_route == second.actual_route, case.case_id
        for result in (first, second):
            assert (result.reply_text is None) == (result.actual_route == "harmful"), case.case_id


def test_the_report_compares_both_candidates_over_every_case(
    golden: list[GoldenCase], two_candidates: tuple[EvaluationRun, EvaluationReport]
) -> None:
    _, report = two_candidates
    by_name = {section.candidate.name: section for section in report.candidates}
    assert list(by_name) == ["template-v1", "template-v2"]
    expected = {route: sum(c.expected_route == route for c in golden) for route in ROUTES}
    for section in by_name.values():
        counts = section.routing.counts
        assert {route: sum(counts[route].values()) for route in ROUTES} == expected  # rows: every case
        assert (section.cases, section.evaluated, section.failed) == (len(golden), len(golden), 0)
        assert section.pass_rate.total == len(golden)
    # Reading the stars (v2) apologises to low ratings that v1 answers by the label alone.
    apologies = {
        name: next(c for c in section.criteria if c.criterion == "apologises")
        for name, section in by_name.items()
    }
    assert apologies["template-v2"].passed > apologies["template-v1"].passed
    assert by_name["template-v2"].pass_rate.passed > by_name["template-v1"].pass_rate.passed


def test_the_completion_event_is_on_the_bus_and_no_outcome_consumer_took_it(
    stack: LocalPipeline,
    evaluations: LocalEvaluations,
    two_candidates: tuple[EvaluationRun, EvaluationReport],
) -> None:
    run, report = two_candidates
    completion = evaluations.completion(run)
    assert completion is not None
    assert (completion.status, completion.evaluation_id, completion.missing) == (
        "completed",
        run.evaluation_id,
        0,
    )
    assert completion.execution_id == run.execution_arn
    assert completion.report is not None
    assert completion.report.json_key == f"reports/{run.evaluation_id}/report.json"
    assert [(c.name, c.pass_rate) for c in completion.candidates] == [
        (s.candidate.name, s.pass_rate.rate) for s in report.candidates
    ]
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
    evaluations: LocalEvaluations, tmp_path: Path
) -> None:
    cases = load_dataset(FIXTURE)
    failing = {case.review.review_id for case in cases if case.expected_route == "auto"}
    writers: list[TimesOutOn] = []

    def factory(candidate: Candidate) -> TimesOutOn:
        writers.append(TimesOutOn(registry.configured("response_writer_for", candidate), failing))
        return writers[-1]

    with registry.override(response_writer_for={"flaky": factory}):
        run = evaluate(evaluations, FIXTURE, [V2, FLAKY])
    report = evaluations.download_report(run, [tmp_path])
    flaky, steady = (
        next(s for s in report.candidates if s.candidate.name == n) for n in ("flaky", "template-v2")
    )
    assert flaky.cases == steady.cases == len(cases)
    assert (flaky.failed, steady.failed) == (len(failing), 0)
    assert flaky.failure_reasons == {"ProviderTimeoutError": len(failing)}
    assert flaky.routing.counts["auto"]["failed"] == len(failing)
    assert flaky.pass_rate.total == len(cases)  # a failed case counts, as not passed
    results = {r.case_id: r for r in evaluations.results(run) if r.candidate == "flaky"}
    for case in cases:
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
    arn = stack.client("stepfunctions").start_execution(
        stateMachineArn=evaluations.state_machine_arn,
        name="bad-request",
        input=json.dumps({"evaluation_id": "bad-request", "dataset": {"bucket": "nope", "key": "x"}}),
    )["executionArn"]
    run = EvaluationRun("bad-request", arn, [], 0)
    assert evaluations.wait(run, TIMEOUT) == "FAILED"
    completion = evaluations.completion(run)
    assert completion is not None
    assert (completion.evaluation_id, completion.status, completion.failed_step, completion.error_type) == (
        "bad-request",
        "failed",
        "PrepareEvaluation",
        "InvalidInputError",
    )


# ------------------------------------------------------------------------------ reviewflow eval


def reviewflow_eval(*args: str, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    """The command in a child process, as a user runs it (its own local pipeline)."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO / "local"), str(REPO / "functions")])}
    return subprocess.run(
        [sys.executable, "-m", "reviewflow_local.cli", "eval", *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def test_the_gate_passes_against_the_committed_baseline(tmp_path: Path) -> None:
    out, work = tmp_path / "out", tmp_path / "work"
    result = reviewflow_eval("--baseline", "evals/baseline.json", "--out", str(out), "--workdir", str(work))
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-3000:]
    table = result.stdout.splitlines()
    assert table[0].split()[:3] == ["candidate", "pass", "rate"]
    assert [line.split()[0] for line in table[2:4]] == ["template-v1", "template-v2"]
    assert "No regression against evals/baseline.json" in result.stdout
    assert {p.name for p in out.iterdir()} == {"report.json", "report.md", "chart.svg"}
    report = EvaluationReport.model_validate_json((out / "report.json").read_bytes())
    assert [s.cases for s in report.candidates] == [len(load_dataset(GOLDEN))] * 2


def test_the_gate_exits_1_and_names_a_candidate_that_regressed(tmp_path: Path) -> None:
    """v1 fails some of the fixture's 8 cases (the sarcastic 1-star review among them), so the top of
    its 95% interval stays below a baseline that claims it passed every case."""
    baseline = EvaluationReport.model_validate_json(BASELINE.read_bytes())
    perfect = PassRate(passed=153, total=153, rate=1.0, ci_low=0.976, ci_high=1.0)
    sections = [
        s.model_copy(update={"pass_rate": perfect}) if s.candidate.name == "template-v1" else s
        for s in baseline.candidates
    ]
    claimed = tmp_path / "claimed.json"
    claimed.write_text(
        baseline.model_copy(update={"candidates": sections}).model_dump_json(), encoding="utf-8"
    )
    result = reviewflow_eval(
        "--dataset", str(FIXTURE), "--baseline", str(claimed), "--workdir", str(tmp_path)
    )
    assert result.returncode == 1, result.stdout[-2000:] + result.stderr[-3000:]
    regressions = result.stdout.split("Regressions against", 1)[1]
    (line,) = regressions.strip().splitlines()[1:]
    assert line.strip().startswith("template-v1: pass rate ") and "below the baseline's 100.0%" in line


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--candidate", "no-equals-sign"], "expected NAME=MODEL_ID@PROMPT_VERSION"),
        (["--candidate", "Bad Name=local/template-responder@v1"], "invalid name"),
        (["--candidate", "nova=amazon.nova-lite-v1:0@v1"], "with --llm local the only model is"),
        (
            ["--candidate", "a=local/template-responder@v1", "--candidate", "a=local/template-responder@v2"],
            "distinct",
        ),
        (["--judge", "llm"], "needs a language model"),
        (["--dataset", "does/not/exist.jsonl"], "cannot read the dataset"),
        (["--dataset", "samples/reviews.jsonl"], "problem(s), the first: line 1"),
        (["--baseline", "does/not/exist.json"], "cannot read the baseline"),
        (["--baseline", "samples/reviews.jsonl"], "is not a report.json"),
        (["--timeout", "0"], "is not a positive number of seconds"),
    ],
)
def test_a_usage_error_exits_2_with_one_line_before_anything_boots(
    args: list[str], says: str, tmp_path: Path
) -> None:
    dataset = [] if "--dataset" in args else ["--dataset", str(FIXTURE)]
    result = reviewflow_eval(*dataset, *args, "--workdir", str(tmp_path / "work"), timeout=120)
    assert result.returncode == 2, result.stdout + result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and says in lines[0], result.stderr
    assert not (tmp_path / "work").exists()  # refused before a run folder or a pipeline
