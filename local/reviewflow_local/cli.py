"""``reviewflow run``, ``serve``, ``soak`` and ``eval``: the whole pipeline, on this machine (offline
unless ``--llm``/``--toxicity`` name a model server or real AWS); ``insights`` shows a run's product
insights report; ``model-standin`` serves a scripted stand-in for a model server."""

from __future__ import annotations

import argparse
import math
import signal
import sys
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, NoReturn

from reviewflow.contracts import INPUT_DETAIL_TYPE, LocalEnvVar
from reviewflow_local import cli_serve, commands, evaluation, insights_cli, model_standin_cli
from reviewflow_local.cli_checks import CliError
from reviewflow_local.faults import FaultPlan
from reviewflow_local.model_choice import add_model_options
from reviewflow_local.synth import SynthError

Command = Callable[[argparse.Namespace], int]
#: Exit status of a refused command (bad flag, value, file or port), as argparse uses it.
USAGE_ERROR = 2
SYNTH_FAILED = 3
INTERRUPTED = 130


def main(argv: Sequence[str] | None = None) -> int:
    args, extras = build_parser().parse_known_args(argv)
    if extras:  # named by the subcommand's parser, whose --help lists what it takes
        args.command_parser.error(f"unrecognized arguments: {' '.join(extras)}")
    warnings.simplefilter("ignore")  # moto and Powertools warn about things that do not matter here
    previous = signal.signal(signal.SIGTERM, _interrupt)  # SIGTERM stops a command as Ctrl-C does
    try:
        return int(args.handler(args))
    except CliError as exc:
        print(f"reviewflow: {exc}", file=sys.stderr)
        return USAGE_ERROR
    except SynthError as exc:
        print(f"reviewflow: could not synthesize the CDK app:\n{exc}", file=sys.stderr)
        return SYNTH_FAILED
    except KeyboardInterrupt:
        print("\nreviewflow: interrupted; the local pipeline ended with the process", file=sys.stderr)
        return INTERRUPTED
    finally:
        signal.signal(signal.SIGTERM, previous)


def _interrupt(signum: int, frame: Any) -> NoReturn:
    raise KeyboardInterrupt


class Parser(argparse.ArgumentParser):
    """Reports a bad flag or value in one line (no usage block) and exits 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(USAGE_ERROR, f"{self.prog}: {message}; see '{self.prog} --help'\n")


COMMANDS = {
    "run": (
        "post reviews to the local pipeline and wait for every outcome",
        "Post every review in FILE to the local pipeline, decide what waits for a person (--decide), "
        "wait for every outcome, then print a summary table. Exits 0 when every review reached an "
        "outcome, 1 when some did not, 2 when the command was refused before it started.",
    ),
    "serve": (
        "run the local pipeline as a server until Ctrl-C",
        "Run the local pipeline on 127.0.0.1 until Ctrl-C or SIGTERM: the inbox, the approval pages "
        "and an AWS endpoint for the AWS CLI or boto3. It prints an AWS CLI command that posts a "
        "review. Everything but the outcome events and the emails lives in memory: approvals still "
        "pending when it stops end with it (it says how many).",
    ),
    "soak": (
        "post many generated reviews with faults and duplicates; check none is lost or doubled",
        "Generate reviews for every path of the flow, post them with duplicate deliveries and "
        "injected provider faults, decide every approval (a seeded mix of approve and reject), and "
        "check that each review got exactly one outcome. Exits 0 when none was lost or doubled, "
        "1 otherwise.",
    ),
}


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(prog="reviewflow", description="The whole reviewflow pipeline, offline, on this machine.")
    sub = parser.add_subparsers(
        dest="command", required=True, metavar="{run,serve,soak,eval,insights,model-standin}"
    )
    options = {"run": _run_options, "serve": _serve_options, "soak": _soak_options}
    for name, (summary, description) in COMMANDS.items():
        options[name](sub.add_parser(name, help=summary, description=description))
    evaluation.add_parser(sub, seconds=_positive_seconds)
    insights_cli.add_parser(sub)
    model_standin_cli.add_parser(sub, port=_port)
    return parser


def _run_options(run: argparse.ArgumentParser) -> None:
    run.add_argument(
        "file",
        nargs="?",
        type=Path,
        help=f"JSON lines, one {INPUT_DETAIL_TYPE} detail object per line; blank lines and lines "
        "starting with # are skipped (default: samples/reviews.jsonl of the project)",
    )
    run.add_argument(
        "--decide",
        choices=["approve", "reject", "wait"],
        help="who decides the reviews that wait for a person: approve or reject each through its "
        "emailed link, or wait for you in the browser (default: wait when stdin and stderr are a "
        "terminal, approve otherwise)",
    )
    run.add_argument(
        "--out",
        type=Path,
        help="write every outcome event here as JSON lines, replacing the file "
        "(default: outcomes.jsonl in the run folder, <workdir>/runs/<time>-run/)",
    )
    run.add_argument(
        "--timeout",
        type=_positive_seconds,
        default=900.0,
        help="stop waiting for outcomes after this many seconds, then exit 1 (default: %(default)g)",
    )
    run.add_argument(
        "--port",
        type=_port,
        default=0,
        help="port of the inbox and approval pages on 127.0.0.1; 0 picks a free one (default: %(default)s)",
    )
    run.add_argument(
        "--storefront",
        metavar="stub|stub:FAULTS|URL",
        help="deliver outcomes to the storefront as the template's API destinations would: to a "
        "local stub (faults per path, e.g. stub:/reviews/replies=500,timeout,400) or to a base URL; "
        "the delivery log is printed and listed in the inbox (default: no storefront)",
    )
    _common(run, commands.run, faults_default=f"${LocalEnvVar.FAULTS}, or no faults")


def _serve_options(serve: argparse.ArgumentParser) -> None:
    serve.add_argument(
        "--port",
        type=_port,
        default=8000,
        help="port on 127.0.0.1 of the inbox, the approval pages and the AWS endpoint; "
        "0 picks a free one (default: %(default)s)",
    )
    serve.add_argument(
        "--out",
        type=Path,
        help="append every outcome event here as JSON lines "
        "(default: outcomes.jsonl in the run folder, <workdir>/runs/<time>-serve/)",
    )
    _common(serve, cli_serve.serve, faults_default=f"${LocalEnvVar.FAULTS}, or no faults")


def _soak_options(soak: argparse.ArgumentParser) -> None:
    soak.add_argument(
        "--reviews", type=_count(1), default=1000, help="distinct reviews to generate (default: %(default)s)"
    )
    soak.add_argument(
        "--fault-rate",
        type=_rate,
        default=0.1,
        help="share of provider calls that fail, spread evenly over every provider and fault kind; "
        "ignored when --faults is given (default: %(default)g)",
    )
    soak.add_argument(
        "--duplicates",
        type=_count(0),
        default=100,
        help="extra deliveries of reviews already posted (default: %(default)s)",
    )
    soak.add_argument(
        "--timeout",
        type=_positive_seconds,
        default=1800.0,
        help="stop waiting after this many seconds and report the reviews still without an outcome "
        "(default: %(default)g)",
    )
    soak.add_argument(
        "--max-in-flight",
        type=_count(1),
        default=40,
        help="reviews posted but not yet answered, at most (default: %(default)s)",
    )
    soak.add_argument("--out", type=Path, help="also write the report as JSON here (default: not written)")
    _common(soak, commands.soak, faults_default=f"--fault-rate; ${LocalEnvVar.FAULTS} is not read")


def _common(command: argparse.ArgumentParser, handler: Command, *, faults_default: str) -> None:
    command.add_argument(
        "--workdir",
        type=Path,
        help="where each run gets its folder (runs/<time>-<command>/) for outbox, function logs and "
        "outcomes (default: .reviewflow in the project)",
    )
    command.add_argument(
        "--resynth",
        action="store_true",
        help="synthesize the CDK app even if the cached template is current (default: use the cache)",
    )
    command.add_argument(
        "--faults",
        type=_fault_spec,
        help="fault plan, e.g. 'sentiment:throttle=0.2;all:timeout=0.05', or a bare rate '0.1' "
        f"spread over every kind (default: {faults_default})",
    )
    command.add_argument(
        "--seed",
        type=_seed,
        help="seed of the fault plan"
        + (", the generated reviews and the decisions" if handler is commands.soak else "")
        + f" (default: ${LocalEnvVar.FAULT_SEED}, or 0)",
    )
    add_model_options(command)
    command.set_defaults(handler=handler, command_parser=command)


# ------------------------------------------------------------------- value types (argparse)
# Each raises ArgumentTypeError with its own words: argparse then prints "argument --port: <words>".


def _number(text: str, kind: Callable[[str], Any], what: str) -> Any:
    try:
        return kind(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not {what}") from None


def _port(text: str) -> int:
    port = int(_number(text, int, "a port number"))
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"{port} is not a port number (0 to 65535)")
    return port


def _positive_seconds(text: str) -> float:
    seconds = float(_number(text, float, "a number of seconds"))
    if not (seconds > 0 and math.isfinite(seconds)):
        raise argparse.ArgumentTypeError(f"{text!r} is not a positive number of seconds")
    return seconds


def _rate(text: str) -> float:
    rate = float(_number(text, float, "a rate between 0 and 1"))
    if not 0 <= rate <= 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a rate between 0 and 1")
    return rate


def _count(minimum: int) -> Callable[[str], int]:
    def count(text: str) -> int:
        value = int(_number(text, int, "a whole number"))
        if value < minimum:
            raise argparse.ArgumentTypeError(f"{value} is less than {minimum}")
        return value

    return count


def _seed(text: str) -> int:
    return int(_number(text, int, "a whole number"))


def _fault_spec(text: str) -> str:
    try:
        FaultPlan.parse(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return text


if __name__ == "__main__":
    sys.exit(main())
