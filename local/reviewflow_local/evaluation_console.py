"""What ``reviewflow eval`` shows: the progress line and the comparison table of the candidates."""

from __future__ import annotations

import sys
import time
from typing import IO

from reviewflow.models.evaluation_report import CandidateReport, EvaluationReport

COLUMNS = ("candidate", "pass rate [95% CI]", "route accuracy", "latency p50 / p95", "cost / 1k")


class EvaluationProgress:
    """``[####....] 120/240 case results · 12.3s``: one updating line on a terminal, plain lines
    (one per change) otherwise; always on stderr."""

    def __init__(self, total: int, stream: IO[str] = sys.stderr) -> None:
        self.total = total
        self.stream = stream
        self.tty = stream.isatty()
        self.started = time.monotonic()
        self._last = ""

    def __enter__(self) -> EvaluationProgress:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.tty and self._last:
            self.stream.write("\n")

    def show(self, done: int, total: int) -> None:
        elapsed = time.monotonic() - self.started
        if self.tty:
            width = 30
            filled = int(width * done / max(total, 1))
            line = f"\r[{'#' * filled}{'.' * (width - filled)}] {done}/{total} case results · {elapsed:.1f}s"
            self.stream.write(line.ljust(len(self._last)))
            self.stream.flush()
            self._last = line
            return
        line = f"{done}/{total} case results"
        if line != self._last:
            self.stream.write(f"[{elapsed:6.1f}s] {line}\n")
            self.stream.flush()
            self._last = line


def comparison_table(report: EvaluationReport) -> str:
    """One row per candidate: pass rate with its 95 % interval, how often the route was the
    expected one, latency percentiles and the model cost of 1,000 reviews."""
    rows = [COLUMNS] + [_row(section) for section in report.candidates]
    widths = [max(len(row[i]) for row in rows) for i in range(len(COLUMNS))]
    lines = ["  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)).rstrip() for row in rows]
    lines.insert(1, "  ".join("-" * width for width in widths))
    return "\n".join(lines)


def route_accuracy(section: CandidateReport) -> float:
    """Share of the candidate's cases that took the expected route (a failed case did not)."""
    counts = section.routing.counts
    right = sum(counts.get(route, {}).get(route, 0) for route in counts)
    return right / section.cases if section.cases else 0.0


def _row(section: CandidateReport) -> tuple[str, str, str, str, str]:
    rate, latency, cost = section.pass_rate, section.latency, section.cost
    p50, p95 = (f"{v:.0f}" if v is not None else "-" for v in (latency.p50_ms, latency.p95_ms))
    priced = f"{cost.per_1k_reviews:.4f} {cost.currency}" if cost.status == "priced" else "unpriced"
    return (
        section.candidate.name,
        f"{rate.rate:.1%} [{rate.ci_low:.1%}, {rate.ci_high:.1%}]",
        f"{route_accuracy(section):.1%}",
        f"{p50} / {p95} ms",
        priced,
    )
