"""Orchestration overhead: the local pipeline against the same handlers called directly.

For each N, both modes process the same N deterministic auto-path reviews (safe, English, no
person). Every sample runs in its own child process (fresh interpreter, fresh moto stack), so
runs do not share caches and the child's peak RSS (``getrusage(RUSAGE_SELF).ru_maxrss``) is the
memory figure. Each child first processes one warm-up review (ASL parser warm-up, classifier and
Powertools loading) and then times the N reviews only:

- pipeline: ``put_events`` the N reviews to the local bus, wait until N outcome events arrived;
- direct:   ``DirectChain.run`` for each review, one after the other.

The ratio of the medians is the cost of orchestration on this machine. It is a property of the
local runtime (moto's interpreter and plumbing), not a prediction of AWS latency.
"""

from __future__ import annotations

import contextlib
import json
import os
import resource
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench import common
from reviewflow.contracts import OutcomeType

DEFAULT_RUNS = {10: 5, 100: 3, 1000: 1}


def _maxrss_mb() -> float:
    # Linux reports kilobytes (macOS bytes; the bench targets Linux CI and dev machines).
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _direct(reviews: list[dict[str, Any]], warmup: dict[str, Any]) -> dict[str, Any]:
    os.environ.update(common.LOCAL_ENV)
    from bench.direct import DirectChain

    with open(os.devnull, "w") as sink, contextlib.redirect_stdout(sink):
        chain = DirectChain()
        chain.run(common.eventbridge_event(warmup), "arn:aws:states:::execution:bench:warmup")
        rss_before = _maxrss_mb()
        cpu_before = _cpu_seconds()
        started = time.perf_counter()
        outcomes = [
            chain.run(common.eventbridge_event(review, i), f"arn:aws:states:::execution:bench:{i}")
            for i, review in enumerate(reviews)
        ]
        elapsed = time.perf_counter() - started
        cpu = _cpu_seconds() - cpu_before
    handler_seconds = sum(sum(v[1:]) for k, v in chain.durations.items() if ":" not in k)
    return {
        "seconds": elapsed,
        "cpu_seconds": cpu,
        "handler_seconds": handler_seconds,
        "rss_before_mb": rss_before,
        "outcome_types": sorted({o["detail_type"] for o in outcomes}),
        "decided_by": sorted({o["detail"]["decided_by"] for o in outcomes}),
        "outcomes": len(outcomes),
    }


def _pipeline(reviews: list[dict[str, Any]], warmup: dict[str, Any]) -> dict[str, Any]:
    from reviewflow_local.pipeline import LocalPipeline
    from reviewflow_local.synth import synthesize

    assembly = synthesize(common.ROOT)
    with tempfile.TemporaryDirectory(prefix="reviewflow-bench-") as workdir, open(os.devnull, "w") as sink:
        stack = LocalPipeline(assembly, workdir=Path(workdir), log_stream=sink).start()
        try:
            start_seconds = stack.timings.total_seconds
            stack.post_reviews([warmup])
            stack.wait_for(lambda events: len(events) >= 1, timeout=120)
            warm_calls = len(stack.runner.invocations)
            rss_before = _maxrss_mb()
            cpu_before = _cpu_seconds()
            started = time.perf_counter()
            stack.post_reviews(reviews)
            events = stack.wait_for(
                lambda events: len(events) >= len(reviews) + 1, timeout=60 + 3 * len(reviews)
            )
            elapsed = time.perf_counter() - started
            cpu = _cpu_seconds() - cpu_before
            handler_seconds = sum(i.duration_ms for i in stack.runner.invocations[warm_calls:]) / 1000
            timed = [e for e in events if e["detail"].get("review_id") != warmup["review_id"]]
        finally:
            stack.stop()
    return {
        "seconds": elapsed,
        "cpu_seconds": cpu,
        "handler_seconds": handler_seconds,
        "rss_before_mb": rss_before,
        "stack_start_seconds": start_seconds,
        "outcome_types": sorted({e["detail-type"] for e in timed}),
        "decided_by": sorted({e["detail"]["decided_by"] for e in timed}),
        "outcomes": len(timed),
    }


def child_main(mode: str, count: int, out: str) -> None:
    """Entry point of one sample (runs in a fresh interpreter)."""
    common.add_source_paths()
    reviews = common.auto_path_reviews(count, seed=count)
    warmup = common.auto_path_reviews(1, seed=999_999, prefix="warmup")[0]
    measured = _direct(reviews, warmup) if mode == "direct" else _pipeline(reviews, warmup)
    measured["peak_rss_mb"] = _maxrss_mb()
    Path(out).write_text(json.dumps(measured))


def _sample(mode: str, count: int) -> dict[str, Any]:
    started = time.perf_counter()
    measured = common.run_child("bench.overhead", mode, count, f"{mode} N={count}")
    measured["process_seconds"] = time.perf_counter() - started
    if measured["outcomes"] != count or measured["outcome_types"] != [OutcomeType.RESPONSE_CREATED]:
        raise RuntimeError(f"{mode} N={count} left the auto path: {measured}")
    return measured


def _warm_synth_cache() -> None:
    """Synthesize once here so the children only read the cached assembly.

    ``synth.synthesize`` stages into ``<key>.tmp`` and renames it; two processes synthesizing the
    same key at once (another test run in the same checkout) can collide, so try twice.
    """
    common.add_source_paths()
    from reviewflow_local.synth import synthesize

    for attempt in (1, 2):
        try:
            synthesize(common.ROOT)
            return
        except (OSError, RuntimeError):
            if attempt == 2:
                raise


def run(sizes: dict[int, int] | None = None, plot: bool = True) -> dict[str, Any]:
    sizes = sizes or DEFAULT_RUNS
    _warm_synth_cache()
    rows: dict[str, Any] = {}
    for count, runs in sizes.items():
        samples: dict[str, list[dict[str, Any]]] = {"pipeline": [], "direct": []}
        for index in range(runs):
            for mode in ("pipeline", "direct"):  # interleaved: a noisy minute hits both
                samples[mode].append(_sample(mode, count))
                print(
                    f"  N={count} run {index + 1}/{runs} {mode}: {samples[mode][-1]['seconds']:.2f} s",
                    file=sys.stderr,
                    flush=True,
                )
        row: dict[str, Any] = {"runs": runs}
        for mode, values in samples.items():
            seconds = common.median(v["seconds"] for v in values)
            row[mode] = {
                "median_seconds": seconds,
                "per_review_ms": seconds / count * 1000,
                "cpu_per_review_ms": common.median(v["cpu_seconds"] for v in values) / count * 1000,
                "reviews_per_second": count / seconds,
                "median_cpu_seconds": common.median(v["cpu_seconds"] for v in values),
                "median_handler_seconds": common.median(v["handler_seconds"] for v in values),
                "peak_rss_mb": common.median(v["peak_rss_mb"] for v in values),
                "rss_growth_mb": common.median(v["peak_rss_mb"] - v["rss_before_mb"] for v in values),
                "samples": values,
            }
        # Ratio per run (same minute, same machine state), then the median of those ratios.
        ratios = [
            p["seconds"] / d["seconds"] for p, d in zip(samples["pipeline"], samples["direct"], strict=True)
        ]
        row["ratio_median"] = common.median(ratios)
        row["ratios"] = ratios
        row["cpu_ratio_median"] = common.median(
            p["cpu_seconds"] / d["cpu_seconds"]
            for p, d in zip(samples["pipeline"], samples["direct"], strict=True)
        )
        row["pipeline"]["stack_start_seconds"] = common.median(
            v["stack_start_seconds"] for v in samples["pipeline"]
        )
        rows[str(count)] = row
    result = {"memory_measure": "peak RSS of the child process (getrusage ru_maxrss)", "sizes": rows}
    print(render(result))
    if plot:
        from bench.plot import per_review_plot

        png = per_review_plot(result, common.RESULTS_DIR / "per_review_time.png")
        if png:
            result["plot"] = common.shown(png)
            print(f"\n(plot: {result['plot']})")
    path = common.write_result("overhead", result)
    print(f"(wrote {common.shown(path)})")
    return result


def render(result: dict[str, Any]) -> str:
    rows = []
    for count, row in result["sizes"].items():
        p, d = row["pipeline"], row["direct"]
        rows.append(
            [
                int(count),
                row["runs"],
                p["median_seconds"],
                d["median_seconds"],
                row["ratio_median"],
                row["cpu_ratio_median"],
                p["per_review_ms"],
                p["cpu_per_review_ms"],
                d["per_review_ms"],
                d["cpu_per_review_ms"],
                p["reviews_per_second"],
                d["reviews_per_second"],
                100 * (1 - p["median_handler_seconds"] / p["median_seconds"]),
                p["peak_rss_mb"],
                d["peak_rss_mb"],
                p["rss_growth_mb"],
            ]
        )
    return common.table(
        "Orchestration overhead, auto path (local runtime vs direct handler calls; medians)",
        [
            "N",
            "runs",
            "pipeline s",
            "direct s",
            "wall ratio",
            "CPU ratio",
            "pipeline ms/rev",
            "pipeline CPU ms/rev",
            "direct ms/rev",
            "direct CPU ms/rev",
            "pipeline rev/s",
            "direct rev/s",
            "% pipeline outside handlers",
            "pipeline peak MB",
            "direct peak MB",
            "pipeline MB growth",
        ],
        rows,
    )
