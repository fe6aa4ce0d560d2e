"""The evaluation report for machines (JSON) and for people (Markdown tables, an SVG chart).

All three are deterministic: the same report gives the same text. Text that came from a model or
a golden case (reasons, tags, model ids) is put in table cells with pipes, line breaks and HTML
characters escaped, so it cannot break a table or inject markup.
"""

from __future__ import annotations

from reviewflow.domain.evaluation.report_svg import to_svg
from reviewflow.models.evaluation_report import (
    ACTUAL_COLUMNS,
    CandidateReport,
    CostEstimate,
    EvaluationReport,
    PassRate,
)

__all__ = ["to_json", "to_markdown", "to_svg"]


def to_json(report: EvaluationReport) -> str:
    """The report as indented JSON, fields in model order, ending in a newline."""
    return report.model_dump_json(indent=2) + "\n"


def _cell(value: object) -> str:
    text = " ".join(str(value).split())
    for raw, safe in (("&", "&amp;"), ("<", "&lt;"), (">", "&gt;"), ("|", "\\|")):
        text = text.replace(raw, safe)
    return text or " "


def _row(*cells: object) -> str:
    return "| " + " | ".join(_cell(cell) for cell in cells) + " |"


def _table(header: list[str], rows: list[list[object]]) -> list[str]:
    return [_row(*header), "|" + "|".join("---" for _ in header) + "|", *(_row(*row) for row in rows), ""]


def _rate(rate: PassRate) -> str:
    return f"{rate.rate:.1%} ({rate.passed}/{rate.total})"


def _ci(rate: PassRate) -> str:
    return f"{rate.ci_low:.1%} - {rate.ci_high:.1%}"


def _ms(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.0f}"


def _cost(cost: CostEstimate) -> str:
    if cost.status == "unpriced":
        return f"unpriced (0 {cost.currency})"
    return f"{cost.per_1k_reviews:.4f} {cost.currency}"


def _summary(report: EvaluationReport) -> list[str]:
    header = [
        "candidate", "model", "prompt", "cases", "evaluated", "failed", "pass rate", "95% CI",
        "p50 ms", "p95 ms", "tokens in / out per case", "cost per 1,000 reviews",
    ]  # fmt: skip
    rows: list[list[object]] = [
        [
            s.candidate.name,
            f"`{s.candidate.model_id}`",
            s.candidate.prompt_version,
            s.cases,
            s.evaluated,
            s.failed,
            _rate(s.pass_rate),
            _ci(s.pass_rate),
            _ms(s.latency.p50_ms),
            _ms(s.latency.p95_ms),
            f"{s.tokens.input_per_case:.0f} / {s.tokens.output_per_case:.0f}",
            _cost(s.cost),
        ]
        for s in report.candidates
    ]
    return _table(header, rows)


def _section(section: CandidateReport) -> list[str]:
    candidate = section.candidate
    lines = [f"## {_cell(candidate.name)}", ""]
    lines += [f"Model `{_cell(candidate.model_id)}`, prompt `{_cell(candidate.prompt_version)}`.", ""]
    lines += ["### Criteria", ""]
    lines += _table(
        ["criterion", "judge", "passed", "judged", "pass rate"],
        [[c.criterion, c.judge, c.passed, c.judged, f"{c.pass_rate:.1%}"] for c in section.criteria],
    )
    lines += ["### Routing (rows: expected route, columns: route taken)", ""]
    lines += _table(
        ["expected \\ actual", *ACTUAL_COLUMNS],
        [
            [expected, *(row[column] for column in ACTUAL_COLUMNS)]
            for expected, row in section.routing.counts.items()
        ],
    )
    if section.failure_reasons:
        lines += ["### Failed cases", ""]
        lines += _table(["reason", "cases"], [[reason, n] for reason, n in section.failure_reasons.items()])
    lines += ["### Cost", ""]
    tokens = section.tokens
    lines += [
        f"Tokens: {tokens.input_total} in, {tokens.output_total} out "
        f"({tokens.input_per_case:.1f} / {tokens.output_per_case:.1f} per case). "
        f"Per 1,000 reviews: {_cell(_cost(section.cost))}"
        + (f", priced as `{_cell(section.cost.priced_as)}`." if section.cost.priced_as else "."),
        "",
    ]
    lines += [f"- {_cell(note)}" for note in section.cost.notes] + ([""] if section.cost.notes else [])
    lines += ["### Worst cases", ""]
    if not section.worst_cases:
        return [*lines, "Every case passed.", ""]
    lines += _table(
        ["case", "status", "failed criteria", "reasons", "tags"],
        [
            [
                w.case_id,
                w.status,
                ", ".join(w.failed_criteria) or ("n/a" if w.status == "failed" else "none"),
                "; ".join(w.reasons),
                ", ".join(w.tags),
            ]
            for w in section.worst_cases
        ],
    )
    return lines


def to_markdown(report: EvaluationReport) -> str:
    """The report as Markdown: a summary table, then one section per candidate."""
    pricing = report.pricing
    lines = [f"# Evaluation {_cell(report.evaluation_id)}", ""]
    lines += [
        f"Judge: `{_cell(report.judge)}`. Pass rate over all cases (a failed case is not a pass), with "
        "the Wilson 95% interval; latency percentiles by nearest rank over the evaluated cases; cost "
        f"is model tokens only, at the prices of the pricing table dated {_cell(pricing.date or 'unknown')} "
        f"({_cell(pricing.region or 'no region')}, {_cell(pricing.currency)}).",
        "",
    ]
    if not report.candidates:
        return "\n".join([*lines, "No candidates.", ""])
    lines += _summary(report)
    for section in report.candidates:
        lines += _section(section)
    return "\n".join(lines).rstrip("\n") + "\n"
