"""The evaluation report, computed from per-case results, and the comparison with a baseline.

Per candidate (``models/evaluation_report.py`` holds the shape):

- **cases, evaluated, failed** — a failed case (the chain did not finish) is counted and its
  ``failure_reason`` tallied, never dropped.
- **pass rate** over *all* cases — a failed case counts as not passed — with the Wilson score
  interval at 95 % (``wilson_interval``), which stays inside [0, 1] and behaves at 0 % and 100 %.
- **criteria** — pass rate of each (criterion, judge) pair over the evaluated cases that have it.
- **routing** — expected route by route taken, with a ``failed`` column.
- **latency** — p50 and p95 of the evaluated cases by the nearest-rank method: the smallest
  value with at least p % of the values at or below it (``sorted[ceil(p / 100 * n) - 1]``), always
  an observed latency, never an interpolation.
- **tokens** — totals over every case, and per case (totals / cases).
- **cost per 1,000 reviews** — ``1000 * (input per case / 1000 * input price + output per case / 1000
  * output price)`` with the pricing table's Bedrock per-1k-token prices of the candidate's model.
  Only model tokens are priced (the rest of the pipeline is the cost benchmark's). A model the
  table does not list is ``unpriced``: 0 with a note, not a guess.
- **worst cases** — the cases that did not pass: failed ones first, then the most criteria
  failed, then by case id; at most ``WORST_CASES``, each with its reasons.

``compare_to_baseline`` flags a candidate whose pass rate fell below the baseline's beyond its
own uncertainty: the upper bound of its 95 % interval is below the baseline's observed pass rate
(see its docstring).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from typing import Any

from reviewflow.domain.evaluation.pricing import token_prices
from reviewflow.models.evaluation import Candidate, CaseResult
from reviewflow.models.evaluation_report import (
    ACTUAL_COLUMNS,
    EXPECTED_ROUTES,
    CandidateReport,
    CostEstimate,
    CriterionStats,
    EvaluationReport,
    LatencyStats,
    PassRate,
    PricingSource,
    RoutingMatrix,
    TokenStats,
    WorstCase,
)

#: The two-sided 95 % normal quantile.
Z_95 = 1.959963984540054
WORST_CASES = 10
REVIEWS_PER_ESTIMATE = 1000


def wilson_interval(passed: int, total: int, z: float = Z_95) -> tuple[float, float]:
    """The Wilson score interval of ``passed / total``; (0, 1) when nothing was counted."""
    if total <= 0:
        return 0.0, 1.0
    p = passed / total
    z2 = z * z
    denominator = 1 + z2 / total
    centre = (p + z2 / (2 * total)) / denominator
    half = z * math.sqrt(p * (1 - p) / total + z2 / (4 * total * total)) / denominator
    return max(0.0, centre - half), min(1.0, centre + half)


def nearest_rank(values: Sequence[float], percent: float) -> float | None:
    """The nearest-rank ``percent`` percentile of ``values``; ``None`` when there are none."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(percent / 100 * len(ordered)))
    return ordered[rank - 1]


def pass_rate(passed: int, total: int) -> PassRate:
    low, high = wilson_interval(passed, total)
    rate = passed / total if total else 0.0
    return PassRate(
        passed=passed, total=total, rate=round(rate, 4), ci_low=round(low, 4), ci_high=round(high, 4)
    )


def _criteria(results: Sequence[CaseResult]) -> list[CriterionStats]:
    judged: Counter[tuple[str, str]] = Counter()
    passed: Counter[tuple[str, str]] = Counter()
    for result in results:
        for verdict in result.verdicts:
            key = (verdict.criterion, verdict.judge)
            judged[key] += 1
            passed[key] += verdict.passed
    ordered = sorted(judged, key=lambda key: (key[1] != "rule", key[1], key[0]))
    return [
        CriterionStats(
            criterion=criterion,
            judge=judge,
            judged=judged[(criterion, judge)],
            passed=passed[(criterion, judge)],
            pass_rate=round(passed[(criterion, judge)] / judged[(criterion, judge)], 4),
        )
        for criterion, judge in ordered
    ]


def routing_matrix(results: Sequence[CaseResult]) -> RoutingMatrix:
    counts: dict[str, dict[str, int]] = {route: dict.fromkeys(ACTUAL_COLUMNS, 0) for route in EXPECTED_ROUTES}
    for result in results:
        column = "failed" if result.status == "failed" or result.actual_route is None else result.actual_route
        counts[result.expected_route][column] += 1
    return RoutingMatrix(counts=counts)


def _tokens(results: Sequence[CaseResult]) -> TokenStats:
    input_total = sum(result.input_tokens for result in results)
    output_total = sum(result.output_tokens for result in results)
    cases = len(results) or 1
    return TokenStats(
        input_total=input_total,
        output_total=output_total,
        input_per_case=round(input_total / cases, 1),
        output_per_case=round(output_total / cases, 1),
    )


def estimate_cost(
    candidate: Candidate, tokens: TokenStats, cases: int, pricing: dict[str, Any]
) -> CostEstimate:
    """Model-token cost of 1,000 reviews at this candidate's mean token use over ``cases`` cases."""
    currency = str(pricing.get("currency", "USD"))
    prices = token_prices(pricing, candidate.model_id)
    if prices is None:
        note = f"{candidate.model_id} is not in the pricing table: its tokens are counted, not priced"
        return CostEstimate(
            status="unpriced",
            model_id=candidate.model_id,
            currency=currency,
            per_1k_reviews=0.0,
            notes=[note],
        )
    # From the exact totals, not the rounded per-case figures of ``tokens``.
    per_review = (
        tokens.input_total / 1000 * prices.input_per_1k + tokens.output_total / 1000 * prices.output_per_1k
    ) / max(cases, 1)
    notes = []
    sentiment = candidate.sentiment_model_id
    if sentiment and sentiment != candidate.model_id:
        notes.append(f"sentiment tokens ({sentiment}) are priced as {prices.key}: results do not split them")
    return CostEstimate(
        status="priced",
        model_id=candidate.model_id,
        priced_as=prices.key,
        currency=currency,
        input_per_1k_tokens=prices.input_per_1k,
        output_per_1k_tokens=prices.output_per_1k,
        per_1k_reviews=round(per_review * REVIEWS_PER_ESTIMATE, 6),
        notes=notes,
    )


def _worst(result: CaseResult) -> WorstCase:
    failed = [verdict for verdict in result.verdicts if not verdict.passed]
    if result.status == "failed":
        reasons = [f"failed: {result.failure_reason or 'no reason recorded'}"]
    else:
        reasons = [f"{verdict.criterion} ({verdict.judge}): {verdict.reason}" for verdict in failed]
    return WorstCase(
        case_id=result.case_id,
        status=result.status,
        failed_criteria=[verdict.criterion for verdict in failed],
        reasons=reasons,
        tags=list(result.tags),
    )


def worst_cases(results: Sequence[CaseResult], limit: int = WORST_CASES) -> list[WorstCase]:
    """The cases that did not pass, worst first (failed, then most criteria failed, then id)."""
    losing = [result for result in results if result.status == "failed" or not result.passed]
    ranked = sorted(
        losing,
        key=lambda r: (r.status != "failed", -sum(not v.passed for v in r.verdicts), r.case_id),
    )
    return [_worst(result) for result in ranked[:limit]]


def candidate_report(
    candidate: Candidate, results: Sequence[CaseResult], pricing: dict[str, Any]
) -> CandidateReport:
    """One candidate's section of the report, from its results (in any order)."""
    results = sorted(results, key=lambda r: r.case_id)
    evaluated = [result for result in results if result.status == "evaluated"]
    reasons = Counter(result.failure_reason or "unknown" for result in results if result.status == "failed")
    passed = sum(1 for result in evaluated if result.passed)
    latencies = [result.latency_ms for result in evaluated]
    p50, p95 = nearest_rank(latencies, 50), nearest_rank(latencies, 95)
    tokens = _tokens(results)
    return CandidateReport(
        candidate=candidate,
        cases=len(results),
        evaluated=len(evaluated),
        failed=len(results) - len(evaluated),
        failure_reasons=dict(sorted(reasons.items(), key=lambda item: (-item[1], item[0]))),
        pass_rate=pass_rate(passed, len(results)),
        criteria=_criteria(evaluated),
        routing=routing_matrix(results),
        latency=LatencyStats(
            cases=len(latencies),
            p50_ms=None if p50 is None else round(p50, 1),
            p95_ms=None if p95 is None else round(p95, 1),
        ),
        tokens=tokens,
        cost=estimate_cost(candidate, tokens, len(results), pricing),
        worst_cases=worst_cases(results),
    )


def build_report(
    results: list[CaseResult],
    candidates: list[Candidate],
    *,
    pricing: dict[str, Any],
    evaluation_id: str,
    judge: str,
) -> EvaluationReport:
    """The report of every candidate, in the order given; a result of no listed candidate is refused."""
    names = {candidate.name for candidate in candidates}
    strays = sorted({result.candidate for result in results} - names)
    if strays:
        raise ValueError(f"results for candidates not in the evaluation: {', '.join(strays)}")
    return EvaluationReport(
        evaluation_id=evaluation_id,
        judge=judge,
        pricing=PricingSource(
            date=pricing.get("date"),
            region=pricing.get("region"),
            currency=str(pricing.get("currency", "USD")),
        ),
        candidates=[
            candidate_report(candidate, [r for r in results if r.candidate == candidate.name], pricing)
            for candidate in candidates
        ],
    )


def compare_to_baseline(report: EvaluationReport, baseline_report: EvaluationReport) -> list[str]:
    """One message per candidate that regressed against the baseline candidate of the same name.

    A regression is a pass rate below the baseline's beyond the candidate's own uncertainty: the
    upper bound of the candidate's 95 % Wilson interval is below the baseline's observed pass
    rate. A dip the candidate's interval still covers is noise at this many cases, not reported.
    Candidates absent from the baseline, or either side with no cases, are not compared.
    """
    baseline = {section.candidate.name: section for section in baseline_report.candidates}
    messages = []
    for section in report.candidates:
        before = baseline.get(section.candidate.name)
        now = section.pass_rate
        if before is None or now.total == 0 or before.pass_rate.total == 0:
            continue
        if now.ci_high < before.pass_rate.rate:
            messages.append(
                f"{section.candidate.name}: pass rate {now.rate:.1%} ({now.passed}/{now.total}, 95% CI "
                f"{now.ci_low:.1%}-{now.ci_high:.1%}) is below the baseline's {before.pass_rate.rate:.1%} "
                f"({before.pass_rate.passed}/{before.pass_rate.total}, {baseline_report.evaluation_id}) "
                "beyond its confidence interval"
            )
    return messages
