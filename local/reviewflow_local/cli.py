"""``reviewflow run``, ``serve`` and ``soak``: the whole pipeline, offline, on this machine."""

from __future__ import annotations

import argparse
import sys
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path

from reviewflow.contracts import INPUT_DETAIL_TYPE, LocalEnvVar
from reviewflow_local import commands, evaluation
from reviewflow_local.synth import SynthError

Command = Callable[[argparse.Namespace], int]


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    warnings.simplefilter("ignore")  # moto and Powertools warn about things that do not matter here
    try:
        return int(args.handler(args))
    except SynthError as exc:
        print(f"reviewflow: could not synthesize the CDK app:\n{exc}", file=sys.stderr)
        return 3


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="reviewflow", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="post reviews to the local pipeline and wait for every outcome")
    run.add_argument(
        "file", nargs="?", type=Path, help=f"JSON lines of {INPUT_DETAIL_TYPE} details (default: samples)"
    )
    run.add_argument(
        "--decide",
        choices=["approve", "reject", "wait"],
        help="how pending human reviews are decided (default: wait on a terminal, approve otherwise)",
    )
    run.add_argument("--out", type=Path, help="write every outcome event as JSON lines here")
    run.add_argument("--timeout", type=float, default=900.0, help="give up after this many seconds")
    run.add_argument("--port", type=int, default=0, help="port of the approval pages (default: any free)")
    _common(run, commands.run)

    serve = sub.add_parser("serve", help="run the local pipeline as a server until Ctrl-C")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument(
        "--out", type=Path, help="append outcome events here (default: <workdir>/outcomes.jsonl)"
    )
    _common(serve, commands.serve)

    soak = sub.add_parser(
        "soak",
        help="post many generated reviews with faults and duplicates; check none is lost or doubled",
    )
    soak.add_argument("--reviews", type=int, default=1000, help="distinct reviews to generate")
    soak.add_argument(
        "--fault-rate",
        type=float,
        default=0.1,
        help="share of provider calls that fail, spread over every fault kind (overridden by --faults)",
    )
    soak.add_argument(
        "--duplicates", type=int, default=100, help="extra deliveries of reviews already posted"
    )
    soak.add_argument("--timeout", type=float, default=1800.0, help="give up after this many seconds")
    soak.add_argument(
        "--max-in-flight", type=int, default=40, help="reviews posted but not yet answered, at most"
    )
    soak.add_argument("--out", type=Path, help="write the report as JSON here")
    _common(soak, commands.soak)

    evaluation.add_parser(sub)
    return parser


def _common(command: argparse.ArgumentParser, handler: Command) -> None:
    command.add_argument(
        "--workdir", type=Path, help="where runs keep outbox, logs and outcomes (default: .reviewflow)"
    )
    command.add_argument(
        "--resynth", action="store_true", help="synthesize even if the cached template is current"
    )
    command.add_argument(
        "--faults",
        help="fault plan, e.g. 'sentiment:throttle=0.2;all:timeout=0.05' or a bare rate '0.1' "
        f"(default: ${LocalEnvVar.FAULTS})",
    )
    command.add_argument(
        "--seed",
        type=int,
        help=f"seed of the fault plan (and of soak's reviews); default ${LocalEnvVar.FAULT_SEED} or 0",
    )
    command.set_defaults(handler=handler)


if __name__ == "__main__":
    sys.exit(main())
