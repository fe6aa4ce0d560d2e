"""Per-review time against N, as a PNG (matplotlib, a dev dependency; skipped without it)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any


def per_review_plot(result: dict[str, Any], path: Path) -> Path | None:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("(matplotlib is not installed: no plot; pip install matplotlib)", file=sys.stderr)
        return None
    sizes = sorted(int(n) for n in result["sizes"])
    figure, axis = plt.subplots(figsize=(6.4, 4.0), dpi=100)
    for mode, marker, color in (("pipeline", "o", "tab:blue"), ("direct", "s", "tab:green")):
        values = [result["sizes"][str(n)][mode]["per_review_ms"] for n in sizes]
        label = (
            "local pipeline (EventBridge + Step Functions in moto)"
            if mode == "pipeline"
            else "handlers called directly"
        )
        axis.plot(sizes, values, marker=marker, color=color, label=label)
        for n, value in zip(sizes, values, strict=True):
            axis.annotate(f"{value:.0f}", (n, value), textcoords="offset points", xytext=(4, 4), fontsize=8)
        cpu = [result["sizes"][str(n)][mode].get("cpu_per_review_ms") for n in sizes]
        if all(v is not None for v in cpu):
            axis.plot(
                sizes, cpu, linestyle="--", marker=marker, alpha=0.5, label=f"{mode}: CPU time per review"
            )
    axis.set_xscale("log")
    axis.set_yscale("log")
    axis.set_xlabel("reviews per run (N)")
    axis.set_ylabel("time per review (ms, median of runs; dashed: CPU)")
    axis.set_title("reviewflow: per-review time against N (auto path)")
    axis.grid(True, which="both", alpha=0.3)
    axis.legend(fontsize=8)
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path)
    plt.close(figure)
    return path
