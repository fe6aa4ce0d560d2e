"""``python -m bench``: cold start, cost model, orchestration overhead, soak speed (``make bench``).

The default is the issue's full set (N = 10, 100, 1,000) and takes about 30 minutes on 2 cores,
most of it the soak benchmark's 1,000 reviews without the speed-up patches; ``--quick`` is a
smoke run of a few minutes. Name benchmarks to run only those (``python -m bench soak``).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from bench import common

BENCHMARKS = ("coldstart", "cost", "overhead", "soak")


def _sizes(text: str) -> dict[int, int]:
    """``10:5,100:3,1000:1`` (N:runs) or ``10,100`` (runs from --runs)."""
    sizes: dict[int, int] = {}
    for part in text.split(","):
        count, _, runs = part.partition(":")
        sizes[int(count)] = int(runs) if runs else 0
    return sizes


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("benchmarks", nargs="*", help=f"any of {', '.join(BENCHMARKS)} (default: all)")
    parser.add_argument(
        "--quick", action="store_true", help="smoke run: N=10,50 once, fewer cold-start samples"
    )
    parser.add_argument(
        "--sizes", type=_sizes, help="overhead sizes as N:runs,... (default 10:5,100:3,1000:1)"
    )
    parser.add_argument(
        "--soak-sizes", type=_sizes, help="soak sizes as N:runs,... (default 10:3,100:3,1000:1)"
    )
    parser.add_argument(
        "--soak-modes",
        default="on,off",
        help="on,off (default: each N with the speed-up patches and without) or on (with them only)",
    )
    parser.add_argument("--runs", type=int, help="runs for sizes given without :runs")
    parser.add_argument("--import-runs", type=int, help="cold-start import samples per module (default 7)")
    parser.add_argument("--model", default="", help="Bedrock model priced (a key of bench/pricing.json)")
    parser.add_argument("--no-plot", action="store_true")
    parser.add_argument("--out", type=Path, help="write results here instead of bench/results/")
    args = parser.parse_args(argv)
    chosen = args.benchmarks or list(BENCHMARKS)
    unknown = sorted(set(chosen) - set(BENCHMARKS))
    if unknown:
        parser.error(f"unknown benchmark(s) {unknown}; choose from {', '.join(BENCHMARKS)}")
    common.add_source_paths()
    if args.out:
        common.RESULTS_DIR = args.out.resolve()
    started = time.perf_counter()
    if "coldstart" in chosen:
        from bench import coldstart

        runs = args.import_runs or (3 if args.quick else 7)
        coldstart.run(runs=runs, invoke_runs=1 if args.quick else 3)
    if "cost" in chosen:
        from bench import cost

        cost.run(model_id=args.model)
    if "overhead" in chosen:
        from bench import overhead

        sizes = args.sizes or ({10: 1, 50: 1} if args.quick else dict(overhead.DEFAULT_RUNS))
        sizes = {n: (r or args.runs or 1) for n, r in sizes.items()}
        overhead.run(sizes, plot=not args.no_plot)
    if "soak" in chosen:
        from bench import soak_speed

        modes = [m for m in args.soak_modes.split(",") if m]
        if "on" not in modes or set(modes) - set(soak_speed.MODES):
            parser.error(f"--soak-modes takes on,off or on, not {args.soak_modes!r}")
        soak_sizes = args.soak_sizes or dict(soak_speed.QUICK_RUNS if args.quick else soak_speed.DEFAULT_RUNS)
        soak_speed.run({n: (r or args.runs or 1) for n, r in soak_sizes.items()}, modes=modes)
    print(f"\nbench finished in {time.perf_counter() - started:.0f} s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
