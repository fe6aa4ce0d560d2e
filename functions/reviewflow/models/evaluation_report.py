"""The evaluation report: per candidate, how its replies were judged and what they cost.

Built by ``reviewflow.domain.evaluation.report.build_report`` from the per-case results, rendered
as JSON, Markdown and SVG by ``report_render``. Every figure is computed from the results alone,
so the same results give the same report, byte for byte.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from reviewflow.models.evaluation import Candidate, Route

#: Rows of the routing matrix (the expected route) and its columns (the route taken, or
#: ``failed`` when the chain did not finish for that case).
EXPECTED_ROUTES: tuple[Route, ...] = ("auto", "person", "harmful")
ACTUAL_COLUMNS: tuple[str, ...] = ("auto", "person", "harmful", "failed")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class PassRate(_Strict):
    """``passed`` of ``total`` cases, with the Wilson score interval at 95 %."""

    passed: int = Field(ge=0)
    total: int = Field(ge=0)
    rate: float = Field(ge=0, le=1)
    ci_low: float = Field(ge=0, le=1)
    ci_high: float = Field(ge=0, le=1)


class CriterionStats(_Strict):
    """One criterion as one judge gave it, over the evaluated cases that have it."""

    criterion: str
    judge: str
    judged: int = Field(ge=0)
    passed: int = Field(ge=0)
    pass_rate: float = Field(ge=0, le=1)


class RoutingMatrix(_Strict):
    """``counts[expected][actual]``: how many cases expected one route and took another."""

    counts: dict[str, dict[str, int]]


class LatencyStats(_Strict):
    """Nearest-rank percentiles of the evaluated cases' latency (``None`` without any)."""

    cases: int = Field(ge=0)
    p50_ms: float | None = None
    p95_ms: float | None = None


class TokenStats(_Strict):
    """Model tokens of every case (failed ones included: what they spent is spent)."""

    input_total: int = Field(ge=0)
    output_total: int = Field(ge=0)
    input_per_case: float = Field(ge=0)
    output_per_case: float = Field(ge=0)


class CostEstimate(_Strict):
    """The model tokens of 1,000 reviews like these cases, at the pricing table's prices."""

    status: Literal["priced", "unpriced"]
    model_id: str
    priced_as: str | None = None  # the pricing table's key the prices were found under
    currency: str
    input_per_1k_tokens: float | None = None
    output_per_1k_tokens: float | None = None
    per_1k_reviews: float = Field(ge=0)
    notes: list[str] = Field(default_factory=list)


class WorstCase(_Strict):
    case_id: str
    status: Literal["evaluated", "failed"]
    failed_criteria: list[str] = Field(default_factory=list)
    reasons: list[str] = Field(default_factory=list)
    tags: list[str] = Field(default_factory=list)


class CandidateReport(_Strict):
    candidate: Candidate
    cases: int = Field(ge=0)
    evaluated: int = Field(ge=0)
    failed: int = Field(ge=0)
    failure_reasons: dict[str, int] = Field(default_factory=dict)
    pass_rate: PassRate
    criteria: list[CriterionStats] = Field(default_factory=list)
    routing: RoutingMatrix
    latency: LatencyStats
    tokens: TokenStats
    cost: CostEstimate
    worst_cases: list[WorstCase] = Field(default_factory=list, max_length=10)


class PricingSource(_Strict):
    """Which pricing table priced the report."""

    date: str | None = None
    region: str | None = None
    currency: str = "USD"


class EvaluationReport(_Strict):
    evaluation_id: str
    judge: str
    pricing: PricingSource
    candidates: list[CandidateReport] = Field(default_factory=list)
