"""Payloads between the evaluation workflow and its functions, and the completion event's detail.

The state machine (``statemachines/evaluation.asl.json``) builds each request with ``Parameters``
or ``ItemSelector``; these models are the functions' side of that contract, and
``tests/infra/test_evaluation_template.py`` checks the ASL against them. Payloads stay small on
purpose (Step Functions carries at most 256 KB between states): the cases travel as indexes
into the dataset, which each function reads from S3, and each case's result goes to S3 too.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from reviewflow.models.evaluation import Candidate, DatasetLocation, JudgeName
from reviewflow.models.replies import Bands

#: The folders of the evaluation bucket: what the functions read, and what they write.
DATASETS_PREFIX = "datasets/"
RESULTS_PREFIX = "results/"
REPORTS_PREFIX = "reports/"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class _Evaluation(_Strict):
    """What identifies an evaluation's run: its id and the exact dataset version (the ETag)."""

    evaluation_id: str
    dataset: DatasetLocation
    dataset_etag: str = Field(min_length=1)


class PrepareRequest(_Strict):
    """Input of ``prepare_evaluation``: the execution input, validated there as an EvaluationRequest."""

    request: Any


class PreparedEvaluation(_Evaluation):
    """Output of ``PrepareEvaluation``: the request, checked, and the indexes of the cases."""

    case_count: int = Field(ge=1)
    case_indexes: list[int]
    candidates: list[Candidate]
    judge: JudgeName
    judge_model_id: str | None = None


class CaseTask(_Evaluation):
    """Input of ``evaluate_case``: one case (by index) and one candidate.

    ``mode: evaluate`` runs the case (``bands`` are the toxicity thresholds of the deployment);
    ``mode: record_failure`` writes the failed result of a pair whose evaluation failed after the
    workflow's retries (``error`` is the error name, never its message).
    """

    mode: Literal["evaluate", "record_failure"]
    case_index: int = Field(ge=0)
    candidate: Candidate
    judge: JudgeName = "rule"
    judge_model_id: str | None = None
    bands: Bands | None = None
    error: str | None = Field(default=None, max_length=256)

    @model_validator(mode="after")
    def _what_each_mode_needs(self) -> CaseTask:
        if self.mode == "evaluate" and self.bands is None:
            raise ValueError("evaluate mode needs the bands")
        if self.mode == "record_failure" and not self.error:
            raise ValueError("record_failure mode needs the error name")
        return self


class CaseStatus(_Strict):
    """What ``evaluate_case`` returns: enough to read the history, never the reply."""

    case_id: str
    candidate: str
    status: Literal["evaluated", "failed"]
    passed: bool
    result_key: str


class AggregateRequest(_Evaluation):
    """Input of ``aggregate_evaluation``."""

    execution_id: str
    candidates: list[Candidate] = Field(min_length=1)
    judge: JudgeName
    judge_model_id: str | None = None


class CandidateSummary(_Strict):
    name: str
    cases: int = Field(ge=0)
    evaluated: int = Field(ge=0)
    failed: int = Field(ge=0)
    pass_rate: float = Field(ge=0.0, le=1.0)
    pass_rate_ci: tuple[float, float]  # 95 % interval of the pass rate


class ReportLocation(_Strict):
    bucket: str
    json_key: str
    markdown_key: str
    svg_key: str


class EvaluationCompleted(_Strict):
    """Detail of ``EVALUATION_COMPLETED``: the one event each evaluation ends with.

    ``completed`` carries where the report is and each candidate's pass rate; ``failed`` names
    the state that failed and the error name (never its message, which may echo the input).
    ``missing`` counts case-candidate pairs that recorded no result; the report counts them as
    failed, so a pass rate is never computed over fewer cases than the dataset holds.
    """

    evaluation_id: str | None = None
    execution_id: str
    status: Literal["completed", "failed"]
    case_count: int = Field(default=0, ge=0)
    missing: int = Field(default=0, ge=0)
    report: ReportLocation | None = None
    candidates: list[CandidateSummary] = Field(default_factory=list)
    failed_step: str | None = None
    error_type: str | None = None


def result_key(evaluation_id: str, candidate: str, case_id: str) -> str:
    """Where the result of one case for one candidate is written."""
    return f"{RESULTS_PREFIX}{evaluation_id}/{candidate}/{case_id}.json"


def results_prefix(evaluation_id: str) -> str:
    return f"{RESULTS_PREFIX}{evaluation_id}/"


def report_keys(bucket: str, evaluation_id: str) -> ReportLocation:
    folder = f"{REPORTS_PREFIX}{evaluation_id}/"
    return ReportLocation(
        bucket=bucket,
        json_key=f"{folder}report.json",
        markdown_key=f"{folder}report.md",
        svg_key=f"{folder}chart.svg",
    )
