"""The evaluation report: statistics, cost, worst cases, baseline comparison, and its renderings."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

from reviewflow.domain.evaluation.pricing import load_pricing, pricing_path, token_prices
from reviewflow.domain.evaluation.report import (
    build_report,
    compare_to_baseline,
    nearest_rank,
    wilson_interval,
)
from reviewflow.domain.evaluation.report_render import to_json, to_markdown, to_svg
from reviewflow.errors import ConfigurationError
from reviewflow.models.evaluation import Candidate, CaseResult, Verdict
from reviewflow.models.evaluation_report import EvaluationReport

ROOT = Path(__file__).resolve().parents[3]
PRICING: dict[str, Any] = {
    "currency": "USD",
    "date": "2026-11-23",
    "region": "us-east-1",
    "bedrock": {"per_1k_tokens": {"model-a": {"input": 0.001, "output": 0.002}}},
}
PRICED = Candidate(name="nova", model_id="model-a", prompt_version="v1")
LOCAL = Candidate(name="template", model_id="local/template-responder", prompt_version="v1")


def verdict(criterion: str, passed: bool = True, judge: str = "rule", reason: str = "ok") -> Verdict:
    return Verdict(criterion=criterion, passed=passed, judge=judge, reason=reason)


def result(
    case_id: str,
    candidate: str = "nova",
    *,
    passed: bool = True,
    expected: str = "auto",
    actual: str | None = "auto",
    failed: str | None = None,
    verdicts: list[Verdict] | None = None,
    latency: float = 100.0,
    tokens: tuple[int, int] = (0, 0),
) -> CaseResult:
    if failed is not None:
        return CaseResult(
            case_id=case_id,
            candidate=candidate,
            status="failed",
            expected_route=expected,
            failure_reason=failed,
            input_tokens=tokens[0],
            output_tokens=tokens[1],
        )
    if verdicts is None:
        verdicts = [verdict("route", passed)]
    return CaseResult(
        case_id=case_id,
        candidate=candidate,
        status="evaluated",
        expected_route=expected,
        actual_route=actual,
        verdicts=verdicts,
        passed=passed,
        latency_ms=latency,
        input_tokens=tokens[0],
        output_tokens=tokens[1],
    )


def report_of(
    results: list[CaseResult], candidates: list[Candidate] | None = None, evaluation_id: str = "ev-1"
):
    return build_report(
        results,
        [PRICED] if candidates is None else candidates,
        pricing=PRICING,
        evaluation_id=evaluation_id,
        judge="rule",
    )


# ------------------------------------------------------------------ statistics


@pytest.mark.parametrize(
    ("passed", "total", "low", "high"),
    [
        (8, 10, 0.490, 0.943),
        (0, 10, 0.0, 0.278),
        (10, 10, 0.722, 1.0),
        (50, 100, 0.404, 0.596),
        (1, 1, 0.207, 1.0),
    ],
)
def test_wilson_interval_matches_known_values(passed, total, low, high):
    got_low, got_high = wilson_interval(passed, total)
    assert got_low == pytest.approx(low, abs=5e-4)
    assert got_high == pytest.approx(high, abs=5e-4)


def test_wilson_interval_of_nothing_is_everything():
    assert wilson_interval(0, 0) == (0.0, 1.0)


@pytest.mark.parametrize(
    ("values", "p50", "p95"),
    [
        ([float(v) for v in range(1, 11)], 5.0, 10.0),
        ([float(v) for v in range(1, 21)], 10.0, 19.0),
        ([40.0, 10.0, 30.0, 20.0], 20.0, 40.0),
        ([7.0], 7.0, 7.0),
    ],
)
def test_nearest_rank_percentiles_are_observed_values(values, p50, p95):
    assert nearest_rank(values, 50) == p50
    assert nearest_rank(values, 95) == p95


def test_nearest_rank_of_nothing_is_none():
    assert nearest_rank([], 50) is None


def test_latency_percentiles_over_evaluated_cases_only():
    results = [result(f"c{i}", latency=float(i * 100)) for i in range(1, 21)]
    results.append(result("broken", failed="provider_error"))
    latency = report_of(results).candidates[0].latency
    assert (latency.cases, latency.p50_ms, latency.p95_ms) == (20, 1000.0, 1900.0)


# ------------------------------------------------------------------ counts, rates, routing


def test_failed_cases_are_counted_with_their_reasons_and_never_pass():
    results = [result(f"ok{i}") for i in range(6)]
    results += [result("bad", passed=False, actual="person")]
    results += [result("f1", failed="provider_error"), result("f2", failed="provider_error")]
    results += [result("f3", failed="timeout")]
    section = report_of(results).candidates[0]
    assert (section.cases, section.evaluated, section.failed) == (10, 7, 3)
    assert section.failure_reasons == {"provider_error": 2, "timeout": 1}
    assert list(section.failure_reasons) == ["provider_error", "timeout"]
    assert (section.pass_rate.passed, section.pass_rate.total, section.pass_rate.rate) == (6, 10, 0.6)
    assert section.pass_rate.ci_low == pytest.approx(0.3127, abs=1e-4)
    assert section.pass_rate.ci_high == pytest.approx(0.8318, abs=1e-4)


def test_routing_confusion_matrix_has_a_failed_column():
    results = [
        result("a1", expected="auto", actual="auto"),
        result("a2", expected="auto", actual="person", passed=False),
        result("p1", expected="person", actual="person"),
        result("h1", expected="harmful", actual="harmful"),
        result("h2", expected="harmful", actual="auto", passed=False),
        result("h3", expected="harmful", failed="provider_error"),
    ]
    counts = report_of(results).candidates[0].routing.counts
    assert counts == {
        "auto": {"auto": 1, "person": 1, "harmful": 0, "failed": 0},
        "person": {"auto": 0, "person": 1, "harmful": 0, "failed": 0},
        "harmful": {"auto": 1, "person": 0, "harmful": 1, "failed": 1},
    }


def test_per_criterion_pass_rates_keep_rule_and_llm_apart():
    results = [
        result("c1", verdicts=[verdict("route"), verdict("language"), verdict("language", False, "llm:m")]),
        result(
            "c2", verdicts=[verdict("route"), verdict("language", False), verdict("language", True, "llm:m")]
        ),
        result("c3", verdicts=[verdict("route"), verdict("tone", False, "llm:m")]),
    ]
    criteria = report_of(results).candidates[0].criteria
    assert [(c.criterion, c.judge, c.passed, c.judged, c.pass_rate) for c in criteria] == [
        ("language", "rule", 1, 2, 0.5),
        ("route", "rule", 3, 3, 1.0),
        ("language", "llm:m", 1, 2, 0.5),
        ("tone", "llm:m", 0, 1, 0.0),
    ]


def test_worst_cases_failed_first_then_most_criteria_failed_at_most_ten():
    results = [result(f"pass{i}") for i in range(5)]
    results += [
        result(
            f"one{i:02d}", passed=False, verdicts=[verdict("route"), verdict("tone", False, reason="curt")]
        )
        for i in range(12)
    ]
    results += [
        result(
            "three",
            passed=False,
            verdicts=[
                verdict("route", False, reason="took person"),
                verdict("thanks", False),
                verdict("length", False),
            ],
        ),
        result("crash", failed="provider_error"),
    ]
    worst = report_of(results).candidates[0].worst_cases
    assert len(worst) == 10
    assert [w.case_id for w in worst[:4]] == ["crash", "three", "one00", "one01"]
    assert worst[0].status == "failed" and worst[0].reasons == ["failed: provider_error"]
    assert worst[1].failed_criteria == ["route", "thanks", "length"]
    assert worst[1].reasons[0] == "route (rule): took person"
    assert all(not w.case_id.startswith("pass") for w in worst)


def test_results_of_a_candidate_not_in_the_evaluation_are_refused():
    with pytest.raises(ValueError, match="ghost"):
        report_of([result("c1", candidate="ghost")])


def test_candidates_keep_their_order_and_a_candidate_without_results_is_empty():
    report = report_of([result("c1")], candidates=[LOCAL, PRICED])
    assert [s.candidate.name for s in report.candidates] == ["template", "nova"]
    empty = report.candidates[0]
    assert (empty.cases, empty.pass_rate.total, empty.pass_rate.ci_low, empty.pass_rate.ci_high) == (
        0,
        0,
        0,
        1,
    )
    assert empty.latency.p50_ms is None


# ------------------------------------------------------------------ tokens and cost


def test_tokens_and_cost_per_1000_reviews_from_the_pricing_table():
    results = [result("c1", tokens=(1000, 200)), result("c2", tokens=(3000, 600)), result("f", failed="x")]
    section = report_of(results).candidates[0]
    tokens = section.tokens
    assert (tokens.input_total, tokens.output_total) == (4000, 800)
    assert (tokens.input_per_case, tokens.output_per_case) == (pytest.approx(1333.3), pytest.approx(266.7))
    cost = section.cost
    assert cost.status == "priced" and cost.priced_as == "model-a" and cost.currency == "USD"
    # per review, from the exact means: 4000 / 3 / 1000 * 0.001 + 800 / 3 / 1000 * 0.002 = 0.00186667;
    # times 1,000 reviews.
    assert cost.per_1k_reviews == pytest.approx(1.866667, abs=1e-6)


def test_a_model_missing_from_the_table_is_unpriced_with_a_note():
    section = report_of(
        [result("c1", candidate="template", tokens=(500, 80))], candidates=[LOCAL]
    ).candidates[0]
    assert section.cost.status == "unpriced"
    assert section.cost.per_1k_reviews == 0.0
    assert section.tokens.input_total == 500
    assert section.cost.notes == [
        "local/template-responder is not in the pricing table: its tokens are counted, not priced"
    ]


def test_an_inference_profile_arn_is_priced_by_its_profile_id_and_a_sentiment_model_is_noted():
    arn = "arn:aws:bedrock:us-east-1:123456789012:inference-profile/model-a"
    candidate = Candidate(name="arn", model_id=arn, prompt_version="v1", sentiment_model_id="model-b")
    section = report_of(
        [result("c1", candidate="arn", tokens=(1000, 1000))], candidates=[candidate]
    ).candidates[0]
    assert section.cost.priced_as == "model-a"
    assert section.cost.per_1k_reviews == pytest.approx(3.0)
    assert section.cost.notes == [
        "sentiment tokens (model-b) are priced as model-a: results do not split them"
    ]


def test_the_pricing_table_lives_in_the_lambda_asset_and_bench_reads_the_same_file():
    from bench import common

    assert pricing_path() == (ROOT / "functions" / "pricing" / "pricing.json").resolve()
    assert common.PRICING.resolve() == pricing_path()
    assert not (ROOT / "bench" / "pricing.json").exists()
    pricing = load_pricing()
    default = pricing["bedrock"]["default_model"]
    prices = token_prices(pricing, default)
    assert prices is not None and prices.input_per_1k > 0 and prices.output_per_1k > 0
    assert token_prices(pricing, "local/template-responder") is None
    load_pricing()["bedrock"].clear()
    assert load_pricing()["bedrock"]["per_1k_tokens"]  # every call gets a fresh copy


def test_a_missing_or_broken_pricing_table_is_a_configuration_error(tmp_path):
    with pytest.raises(ConfigurationError, match="not found"):
        load_pricing(tmp_path / "nope.json")
    (tmp_path / "bad.json").write_text("[1, 2]")
    with pytest.raises(ConfigurationError, match="not a JSON object"):
        load_pricing(tmp_path / "bad.json")


# ------------------------------------------------------------------ baseline comparison


def _rated(passed: int, total: int, name: str = "nova", evaluation_id: str = "ev") -> EvaluationReport:
    results = [result(f"c{i:03d}", candidate=name, passed=i < passed) for i in range(total)]
    candidate = Candidate(name=name, model_id="model-a", prompt_version="v1")
    return report_of(results, candidates=[candidate], evaluation_id=evaluation_id)


def test_a_pass_rate_below_the_baseline_beyond_its_interval_is_a_regression():
    baseline = _rated(95, 100, evaluation_id="baseline-1")
    now = _rated(80, 100)  # 95% CI 71.1% - 86.7%, entirely below 95%
    (message,) = compare_to_baseline(now, baseline)
    assert message == (
        "nova: pass rate 80.0% (80/100, 95% CI 71.1%-86.7%) is below the baseline's 95.0% "
        "(95/100, baseline-1) beyond its confidence interval"
    )


def test_a_dip_inside_the_interval_is_not_a_regression():
    assert compare_to_baseline(_rated(8, 10), _rated(9, 10)) == []  # CI 49%-94% covers 90%
    assert compare_to_baseline(_rated(95, 100), _rated(80, 100)) == []  # better is never a regression


def test_candidates_without_a_baseline_or_without_cases_are_not_compared():
    assert compare_to_baseline(_rated(1, 100, name="new"), _rated(100, 100)) == []
    assert compare_to_baseline(_rated(0, 0), _rated(100, 100)) == []


# ------------------------------------------------------------------ renderings


def _mixed_report() -> EvaluationReport:
    results = [
        result("c1", tokens=(900, 100), latency=120.0),
        result(
            "c2",
            passed=False,
            verdicts=[
                verdict("route"),
                verdict("tone", False, "llm:model-a", "too | curt <b>bold</b>\nreally"),
            ],
            tokens=(1100, 140),
            latency=300.0,
        ),
        result("c3", failed="provider_error"),
        result("c1", candidate="template", tokens=(0, 0)),
    ]
    return report_of(results, candidates=[PRICED, LOCAL])


def test_json_round_trips_and_is_deterministic():
    report = _mixed_report()
    text = to_json(report)
    assert EvaluationReport.model_validate_json(text) == report
    assert to_json(_mixed_report()) == text
    assert json.loads(text)["candidates"][1]["cost"]["status"] == "unpriced"


def test_markdown_has_the_candidates_in_tables_and_escapes_untrusted_text():
    text = to_markdown(_mixed_report())
    assert text == to_markdown(_mixed_report())
    assert text.startswith("# Evaluation ev-1\n")
    assert "## nova" in text and "## template" in text
    assert "| nova | `model-a` | v1 | 3 | 2 | 1 | 33.3% (1/3) |" in text
    assert "unpriced (0 USD)" in text
    assert "| provider_error | 1 |" in text
    assert "| c3 | failed | n/a | failed: provider_error |" in text
    assert "too \\| curt &lt;b&gt;bold&lt;/b&gt; really" in text
    assert "<b>" not in text
    assert "| harmful | 0 | 0 | 0 | 0 |" in text


def test_svg_is_well_formed_deterministic_and_has_one_bar_per_candidate():
    text = to_svg(_mixed_report())
    assert text == to_svg(_mixed_report())
    root = ET.fromstring(text)
    ns = "{http://www.w3.org/2000/svg}"
    bars = root.findall(f"{ns}g")
    assert len(bars) == 2
    titles = [bar.find(f"{ns}title").text for bar in bars]
    assert titles[0].startswith("nova: 33.3% (1/3), 95% CI")
    assert titles[1].startswith("template: 100.0% (1/1)")
    assert "nova" in text and "template" in text


def test_svg_shortens_long_names_on_the_axis_and_keeps_them_whole_in_the_tooltip():
    name = "nova-lite-response-v2-strict"
    candidate = Candidate(name=name, model_id="model-a", prompt_version="v2")
    text = to_svg(report_of([result("c1", candidate=name)], candidates=[candidate]))
    assert f"<title>{name}: 100.0% (1/1)" in text
    assert ">nova-l\u2026-strict</text>" in text


def test_svg_and_markdown_of_an_evaluation_without_candidates():
    empty = report_of([], candidates=[])
    assert "no candidates" in to_svg(empty)
    assert ET.fromstring(to_svg(empty)) is not None
    assert to_markdown(empty).endswith("No candidates.\n")
