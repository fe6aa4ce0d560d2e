"""Soak speed: ``reviewflow soak`` without faults, reviews per second and peak memory by N.

For each N (default 10, 100 and 1,000 distinct reviews, plus N/10 duplicate deliveries, as the
soak's defaults have it) and each mode, a child process (fresh interpreter, fresh moto stack):

- ``on``:  the local runtime as it ships (``moto_patches.apply()``);
- ``off``: the same without the speed-up patches (``moto_patches.apply(speedups=False)``): moto's
  own per-execution parsing, per-path JSONPath compilation, per-attempt clients and unbounded
  execution memory. The soak driver and the tap are the same in both modes.

Each child starts the pipeline, runs a small warm-up soak (one review of every path: the ASL
parser's warm-up, the classifier's load, botocore's service models) and then the measured soak,
with the fault plan ``reviewflow soak --fault-rate 0`` uses. A sample whose soak reports a
violation (a lost or doubled review, an execution not ended) fails the benchmark. Reviews per
second is N over the measured soak's wall time; the start-up and the warm-up are reported apart.
Peak memory is the child's ``ru_maxrss``.

The machine is shared: on and off samples are interleaved, each ratio is taken within one pair
(same minute, same load), and the table shows medians. Absolute figures are upper bounds of what
a quiet machine does; the ratios are the comparison.
"""

from __future__ import annotations

import json
import os
import resource
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from bench import common

MODES = ("on", "off")
DEFAULT_RUNS = {10: 3, 100: 3, 1000: 1}
QUICK_RUNS = {10: 1, 100: 1}
WARMUP_REVIEWS = 7  # one of every path (soak_reviews.KIND_WEIGHTS)
WARMUP_SEED = 999
#: The issue's bounds: at least this many reviews/s with the speed-ups, peak RSS at the largest N
#: within this factor of the next smaller N (1,000 against 100).
TARGET_REVIEWS_PER_SECOND = 10.0
MEMORY_BOUND = 1.2


def _maxrss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: kilobytes


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def child_main(mode: str, count: int, out: str) -> None:
    """One sample, in a fresh interpreter: start, warm up, soak ``count`` reviews, write JSON."""
    common.add_source_paths()
    from reviewflow_local import moto_patches

    moto_patches.apply(speedups=mode == "on")  # the first call in a process decides
    from reviewflow_local.faults import FaultPlan
    from reviewflow_local.pipeline import LocalPipeline
    from reviewflow_local.soak import run_soak
    from reviewflow_local.synth import synthesize

    started = time.perf_counter()
    assembly = synthesize(common.ROOT)
    with (
        tempfile.TemporaryDirectory(prefix="reviewflow-soak-bench-") as workdir,
        open(os.devnull, "w") as sink,
    ):
        pipeline = LocalPipeline(
            assembly, workdir=Path(workdir), log_stream=sink, faults=FaultPlan.parse("0", count)
        ).start()
        try:
            start_seconds = time.perf_counter() - started
            warmup = run_soak(pipeline, reviews=WARMUP_REVIEWS, duplicates=1, seed=WARMUP_SEED, timeout=300)
            rss_before = _maxrss_mb()
            cpu_before = _cpu_seconds()
            report = run_soak(pipeline, reviews=count, duplicates=count // 10, seed=count, timeout=3600)
            cpu = _cpu_seconds() - cpu_before
        finally:
            pipeline.stop()
    measured = {
        "mode": mode,
        "reviews": count,
        "duplicates": count // 10,
        "seconds": report.wall_seconds,
        "cpu_seconds": cpu,
        "start_seconds": start_seconds,
        "warmup_seconds": warmup.wall_seconds,
        "rss_before_mb": rss_before,
        "peak_rss_mb": _maxrss_mb(),
        "lost": len(report.lost),
        "duplicated": len(report.duplicated),
        "violations": warmup.violations + report.violations,
        "patches": moto_patches.applied(),
    }
    Path(out).write_text(json.dumps(measured))


def _sample(mode: str, count: int) -> dict[str, Any]:
    measured = common.run_child("bench.soak_speed", mode, count, f"soak {mode} N={count}")
    if measured["violations"]:
        raise RuntimeError(f"soak {mode} N={count} broke the conservation law: {measured['violations']}")
    return measured


# ------------------------------------------------------------------------ pure summaries


def summarise_size(samples: Mapping[str, Sequence[Mapping[str, Any]]]) -> dict[str, Any]:
    """Medians per mode and the on/off ratios of one N (samples paired run by run)."""
    row: dict[str, Any] = {"runs": min(len(values) for values in samples.values())}
    for mode, values in samples.items():
        count = values[0]["reviews"]
        seconds = common.median(v["seconds"] for v in values)
        row[mode] = {
            "median_seconds": seconds,
            "reviews_per_second": count / seconds,
            "ms_per_review": seconds / count * 1000,
            "cpu_ms_per_review": common.median(v["cpu_seconds"] for v in values) / count * 1000,
            "peak_rss_mb": common.median(v["peak_rss_mb"] for v in values),
            "start_seconds": common.median(v["start_seconds"] for v in values),
            "warmup_seconds": common.median(v["warmup_seconds"] for v in values),
            "lost": sum(v["lost"] for v in values),
            "duplicated": sum(v["duplicated"] for v in values),
            "samples": list(values),
        }
    if {"on", "off"} <= samples.keys():
        pairs = list(zip(samples["on"], samples["off"], strict=False))
        row["speedup_ratios"] = [off["seconds"] / on["seconds"] for on, off in pairs]
        row["speedup_median"] = common.median(row["speedup_ratios"])
        row["memory_ratios"] = [on["peak_rss_mb"] / off["peak_rss_mb"] for on, off in pairs]
        row["memory_ratio_median"] = common.median(row["memory_ratios"])
    return row


def flatness(sizes: Mapping[str, Mapping[str, Any]], mode: str) -> dict[str, float]:
    """Per-review time at each N over the smallest N's (1.0 = flat; above 1 = slower per review)."""
    ordered = sorted(sizes, key=int)
    base = sizes[ordered[0]][mode]["ms_per_review"]
    return {n: sizes[n][mode]["ms_per_review"] / base for n in ordered}


def memory_growth(sizes: Mapping[str, Mapping[str, Any]], mode: str) -> float | None:
    """Peak RSS at the largest N over the next smaller N's (``None`` with fewer than two sizes)."""
    ordered = sorted(sizes, key=int)
    if len(ordered) < 2:
        return None
    return float(sizes[ordered[-1]][mode]["peak_rss_mb"] / sizes[ordered[-2]][mode]["peak_rss_mb"])


def verdicts(result: Mapping[str, Any]) -> list[str]:
    """The issue's bounds, each stated with the measured figure."""
    sizes = result["sizes"]
    lines = []
    for n in sorted(sizes, key=int):
        rate = sizes[n]["on"]["reviews_per_second"]
        met = "met" if rate >= TARGET_REVIEWS_PER_SECOND else "NOT met"
        lines.append(
            f"N={n}: {rate:.1f} reviews/s with the speed-ups (target >= {TARGET_REVIEWS_PER_SECOND:g}: {met})"
        )
    growth = result.get("memory_growth_on")
    if growth is not None:
        largest, smaller = sorted(sizes, key=int)[-1], sorted(sizes, key=int)[-2]
        met = "met" if growth <= MEMORY_BOUND else "NOT met"
        lines.append(
            f"peak RSS at N={largest} is {growth:.2f}x N={smaller}'s (bound {MEMORY_BOUND:g}x: {met})"
        )
    return lines


def render(result: Mapping[str, Any]) -> str:
    rows = []
    for n in sorted(result["sizes"], key=int):
        row = result["sizes"][n]
        on, off = row["on"], row.get("off")
        rows.append(
            [
                int(n),
                row["runs"],
                on["reviews_per_second"],
                off["reviews_per_second"] if off else "-",
                row.get("speedup_median", "-"),
                on["ms_per_review"],
                on["cpu_ms_per_review"],
                off["ms_per_review"] if off else "-",
                on["peak_rss_mb"],
                off["peak_rss_mb"] if off else "-",
                result["flatness_on"][n],
                on["lost"] + (off["lost"] if off else 0),
                on["duplicated"] + (off["duplicated"] if off else 0),
            ]
        )
    return common.table(
        "Soak speed, no faults, N/10 duplicates (speed-up patches on vs off; medians)",
        [
            "N",
            "runs",
            "on rev/s",
            "off rev/s",
            "speed-up (off/on time)",
            "on ms/rev",
            "on CPU ms/rev",
            "off ms/rev",
            "on peak MB",
            "off peak MB",
            "on ms/rev vs smallest N",
            "lost",
            "doubled",
        ],
        rows,
    )


def summarise(samples: Mapping[int, Mapping[str, Sequence[Mapping[str, Any]]]]) -> dict[str, Any]:
    sizes = {str(n): summarise_size(by_mode) for n, by_mode in sorted(samples.items())}
    result: dict[str, Any] = {
        "what": "reviewflow soak --fault-rate 0, N reviews + N/10 duplicates, after a warm-up soak",
        "memory_measure": "peak RSS of the child process (getrusage ru_maxrss)",
        "sizes": sizes,
        "flatness_on": flatness(sizes, "on"),
    }
    if all("off" in row for row in sizes.values()):
        result["flatness_off"] = flatness(sizes, "off")
    result["memory_growth_on"] = memory_growth(sizes, "on")
    result["verdicts"] = verdicts(result)
    return result


# ----------------------------------------------------------------------------------- run


def run(sizes: Mapping[int, int] | None = None, modes: Sequence[str] = MODES) -> dict[str, Any]:
    from bench.overhead import _warm_synth_cache

    sizes = sizes or DEFAULT_RUNS
    _warm_synth_cache()
    samples: dict[int, dict[str, list[dict[str, Any]]]] = {}
    for count, runs in sizes.items():
        samples[count] = {mode: [] for mode in modes}
        for index in range(runs):
            for mode in modes:  # interleaved: a noisy minute hits both
                measured = _sample(mode, count)
                samples[count][mode].append(measured)
                print(
                    f"  soak N={count} run {index + 1}/{runs} speed-ups {mode}: {measured['seconds']:.1f} s, "
                    f"{count / measured['seconds']:.1f} reviews/s, peak {measured['peak_rss_mb']:.0f} MB",
                    file=sys.stderr,
                    flush=True,
                )
    result = summarise(samples)
    print(render(result))
    print("\n".join(["", *result["verdicts"]]))
    path = common.write_result("soak_speed", result)
    print(f"(wrote {common.shown(path)})")
    return result
