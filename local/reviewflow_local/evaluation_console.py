"""What ``reviewflow eval`` shows: the progress line and the comparison table of the candidates."""

from __future__ import annotations

import sys
import time
from typing import IO, Any

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


def comparison_table(report: dict[str, Any]) -> str:
    """One row per candidate of ``report.json``: pass rate with its interval, route accuracy,
    latency percentiles and cost per 1,000 reviews."""
    rows = [COLUMNS] + [_row(candidate) for candidate in report["candidates"]]
    widths = [max(len(row[i]) for row in rows) for i in range(len(COLUMNS))]
    lines = ["  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)).rstrip() for row in rows]
    lines.insert(1, "  ".join("-" * width for width in widths))
    return "\n".join(lines)


def _row(candidate: dict[str, Any]) -> tuple[str, str, str, str, str]:
    low, high = candidate["pass_rate_ci"]
    latency = candidate["latency_ms"]
    return (
        str(candidate["name"]),
        f"{candidate['pass_rate']:.1%} [{low:.1%}, {high:.1%}]",
        f"{candidate['route_accuracy']:.1%}",
        f"{latency['p50']:.0f} / {latency['p95']:.0f} ms",
        f"${candidate['cost_per_1k_usd']:.2f}",
    )
