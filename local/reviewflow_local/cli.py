"""``reviewflow run``, ``serve`` and ``soak``: the whole pipeline, offline, on this machine."""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import signal
import sys
import threading
import time
import warnings
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from reviewflow_local import reviewer
from reviewflow_local.faults import FaultPlan
from reviewflow_local.outbox import read_message
from reviewflow_local.stack import LocalStack
from reviewflow_local.synth import SynthError, find_project_root, synthesize

DECISIONS = {"approve": "APPROVED", "reject": "REJECTED"}
SHORT_OUTCOME = {
    "NEW_REVIEW_RESPONSE_CREATED": "created",
    "HARMFUL_CONTENT_DETECTED": "harmful",
    "RESPONSE_GENERATION_FAILED": "failed",
}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="reviewflow", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="post reviews to the local stack and wait for every outcome")
    run.add_argument(
        "file", nargs="?", type=Path, help="JSON lines of NEW_REVIEW_POSTED details (default: samples)"
    )
    run.add_argument(
        "--decide",
        choices=["approve", "reject", "wait"],
        help="how pending human reviews are decided (default: wait on a terminal, approve otherwise)",
    )
    run.add_argument("--out", type=Path, help="write every outcome event as JSON lines here")
    run.add_argument("--timeout", type=float, default=900.0, help="give up after this many seconds")
    run.add_argument("--port", type=int, default=0, help="port of the approval pages (default: any free)")
    _common(run)

    serve = sub.add_parser("serve", help="run the local stack as a server until Ctrl-C")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument(
        "--out", type=Path, help="append outcome events here (default: <workdir>/outcomes.jsonl)"
    )
    _common(serve)

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
    _common(soak)

    args = parser.parse_args(argv)
    warnings.simplefilter("ignore")  # moto and Powertools warn about things that do not matter here
    try:
        return int(args.handler(args))
    except SynthError as exc:
        print(f"reviewflow: could not synthesize the CDK app:\n{exc}", file=sys.stderr)
        return 3


def _common(command: argparse.ArgumentParser) -> None:
    command.add_argument(
        "--workdir", type=Path, help="where runs keep outbox, logs and outcomes (default: .reviewflow)"
    )
    command.add_argument(
        "--resynth", action="store_true", help="synthesize even if the cached template is current"
    )
    command.add_argument(
        "--faults",
        help="fault plan, e.g. 'sentiment:throttle=0.2;all:timeout=0.05' or a bare rate '0.1' "
        "(default: $REVIEWFLOW_FAULTS)",
    )
    command.add_argument(
        "--seed",
        type=int,
        help="seed of the fault plan (and of soak's reviews); default $REVIEWFLOW_FAULT_SEED or 0",
    )
    handlers = {"run": _run, "serve": _serve, "soak": _soak}
    command.set_defaults(handler=handlers[command.prog.split()[-1]])


def _fault_plan(args: argparse.Namespace, default_spec: str | None = None) -> FaultPlan | None:
    """The plan from the options; ``None`` lets the stack read the environment variables."""
    spec = args.faults if args.faults is not None else default_spec
    if spec is None and args.seed is None:
        return None
    if spec is None:
        spec = os.environ.get("REVIEWFLOW_FAULTS")
    seed = args.seed if args.seed is not None else int(os.environ.get("REVIEWFLOW_FAULT_SEED") or 0)
    try:
        return FaultPlan.parse(spec, seed)
    except ValueError as exc:
        raise SystemExit(f"reviewflow: --faults: {exc}") from None


# ------------------------------------------------------------------------------------ helpers


def _run_dir(args: argparse.Namespace, root: Path, kind: str) -> Path:
    base = args.workdir or root / ".reviewflow"
    folder = base / "runs" / f"{datetime.now(UTC).strftime('%Y%m%dT%H%M%S')}-{kind}"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _start_stack(
    args: argparse.Namespace, root: Path, folder: Path, log: IO[str], **options: Any
) -> LocalStack:
    started = time.perf_counter()
    print("reviewflow: synthesizing the CDK app (cached after the first run)...", file=sys.stderr)
    assembly = synthesize(root, force=args.resynth)
    synth = (
        "cached template" if not assembly.synth_seconds else f"synthesized in {assembly.synth_seconds:.1f} s"
    )
    stack = LocalStack(assembly, workdir=folder, log_stream=log, **options).start()
    print(
        f"reviewflow: local stack up in {time.perf_counter() - started:.1f} s ({synth}; "
        f"deploy {stack.timings.deploy_seconds:.2f} s)",
        file=sys.stderr,
    )
    return stack


def load_reviews(path: Path) -> list[dict[str, Any]]:
    reviews = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if line.strip() and not line.lstrip().startswith("#"):
            try:
                reviews.append(json.loads(line))
            except json.JSONDecodeError as exc:
                raise SystemExit(f"reviewflow: {path}:{number}: not JSON ({exc.msg})") from None
    return reviews


def expected_key(detail: Any, event_id: str) -> str:
    """The review id the outcome will carry: the workflow's own de-duplication key."""
    from reviewflow.domain.validation import dedup_key

    return dedup_key({"id": event_id, "detail": detail}, execution_id="")


class Progress:
    """One updating line on a terminal, plain lines otherwise; always on stderr."""

    def __init__(self, total: int, stream: IO[str] = sys.stderr) -> None:
        self.total = total
        self.stream = stream
        self.tty = stream.isatty()
        self.started = time.monotonic()
        self._last = ""

    def show(self, done: int, waiting: int) -> None:
        elapsed = time.monotonic() - self.started
        note = f" · {waiting} awaiting a person" if waiting else ""
        if self.tty:
            width = 30
            filled = int(width * done / max(self.total, 1))
            bar = "#" * filled + "." * (width - filled)
            line = f"\r[{bar}] {done}/{self.total} outcomes{note} · {elapsed:.1f}s"
            self.stream.write(line.ljust(len(self._last)))
            self.stream.flush()
            self._last = line
        else:
            line = f"{done}/{self.total} outcomes{note}"
            if line != self._last:
                self.stream.write(f"[{elapsed:6.1f}s] {line}\n")
                self.stream.flush()
                self._last = line

    def close(self) -> None:
        if self.tty:
            self.stream.write("\n")


def summary_table(events: list[dict[str, Any]], width: int | None = None) -> str:
    width = width or shutil.get_terminal_size((120, 20)).columns
    rows = [("review", "toxicity", "sentiment", "outcome", "reply")]
    for event in sorted(events, key=lambda e: str(e["detail"].get("review_id"))):
        detail = event["detail"]
        score = (detail.get("review_toxicity") or {}).get("score")
        toxicity = "n/a" if score is None else f"{score:.2f}"
        sentiment = (detail.get("sentiment") or {}).get("sentiment", "-")
        outcome = SHORT_OUTCOME.get(event["detail-type"], event["detail-type"])
        if detail.get("reason"):
            outcome += f" ({detail['reason']})"
        if detail.get("human_decisions") or detail.get("decided_by") == "reviewer":
            outcome += " *"
        reply = " ".join(str(detail.get("response_text") or "").split()) or "-"
        rows.append((str(detail.get("review_id")), toxicity, sentiment, outcome, reply))
    widths = [min(max(len(r[i]) for r in rows), cap) for i, cap in enumerate((28, 8, 9, 34, 10_000))]
    widths[4] = max(10, width - sum(widths[:4]) - 8)
    lines = []
    for index, row in enumerate(rows):
        cells = [_fit(cell, widths[i]) for i, cell in enumerate(row)]
        lines.append("  ".join(cells).rstrip())
        if index == 0:
            lines.append("  ".join("-" * w for w in widths))
    lines.append("* a person decided at least once")
    return "\n".join(lines)


def _fit(text: str, width: int) -> str:
    return (text if len(text) <= width else text[: width - 1] + "…").ljust(width)


class Decider:
    """Answers every new approval email by opening its link like a browser (approve/reject)."""

    def __init__(self, stack: LocalStack, decision: str) -> None:
        self.stack = stack
        self.decision = decision
        self.handled: set[Path] = set()
        self.errors: list[str] = []

    def poll(self) -> int:
        decided = 0
        for path in sorted(self.stack.outbox.folder.glob("*.eml")):
            if path in self.handled:
                continue
            self.handled.add(path)
            message = read_message(path)
            for link in message.approval_links:
                try:
                    _, result = reviewer.decide(
                        link,
                        self.decision,
                        reviewer="reviewflow run",
                        comment=f"--decide {self.decision.lower()}",
                    )
                except Exception as exc:
                    self.errors.append(f"{path.name}: {exc}")
                    continue
                if result.status != 200:
                    self.errors.append(f"{path.name}: decision answered {result.status}")
                decided += 1
        return decided


# ---------------------------------------------------------------------------------------- run


def _run(args: argparse.Namespace) -> int:
    root = find_project_root()
    source = args.file or root / "samples" / "reviews.jsonl"
    reviews = load_reviews(source)
    if not reviews:
        print(f"reviewflow: {source} holds no reviews", file=sys.stderr)
        return 2
    decide = args.decide or ("wait" if sys.stdin.isatty() and sys.stderr.isatty() else "approve")
    folder = _run_dir(args, root, "run")
    out_path = args.out or folder / "outcomes.jsonl"
    run_started = time.perf_counter()
    with (folder / "lambda.log").open("a", encoding="utf-8") as log:
        stack = _start_stack(args, root, folder, log, port=args.port, faults=_fault_plan(args))
        try:
            return _drive(stack, reviews, decide, out_path, folder, args.timeout, run_started)
        finally:
            stack.stop()


def _drive(
    stack: LocalStack,
    reviews: list[dict[str, Any]],
    decide: str,
    out_path: Path,
    folder: Path,
    timeout: float,
    run_started: float,
) -> int:
    print(f"reviewflow: inbox and approval pages at {stack.front.url}/", file=sys.stderr)
    if decide == "wait":
        print(
            "reviewflow: pending reviews wait for you: open the inbox, decide, and this run ends by itself.",
            file=sys.stderr,
        )
    else:
        print(
            f"reviewflow: pending reviews will be decided: {decide} (through their emailed links)",
            file=sys.stderr,
        )
    posted_at = time.perf_counter()
    event_ids = stack.post_reviews(reviews)
    expected = {expected_key(detail, event_id) for detail, event_id in zip(reviews, event_ids, strict=True)}
    decider = Decider(stack, DECISIONS[decide]) if decide in DECISIONS else None
    progress = Progress(len(expected))
    deadline = time.monotonic() + timeout
    interrupted = False
    try:
        while True:
            if decider is not None:
                decider.poll()
            events = stack.outcomes()
            done = {e["detail"].get("review_id") for e in events} & expected
            progress.show(len(done), len(stack.pending_approvals()))
            if len(done) == len(expected) or time.monotonic() > deadline:
                break
            seen = len(events)
            with contextlib.suppress(TimeoutError):
                stack.wait_for(lambda current, seen=seen: len(current) > seen, timeout=0.3)  # type: ignore[misc]
    except KeyboardInterrupt:
        interrupted = True
    progress.close()
    elapsed = time.perf_counter() - posted_at
    events = [e for e in stack.outcomes() if e["detail"].get("review_id") in expected]
    out_path.parent.mkdir(parents=True, exist_ok=True)
    with out_path.open("w", encoding="utf-8") as out:
        for event in events:
            out.write(json.dumps(event) + "\n")
    print(summary_table(events))
    missing = sorted(expected - {e["detail"].get("review_id") for e in events})
    counts: dict[str, int] = {}
    for event in events:
        kind = SHORT_OUTCOME.get(event["detail-type"], event["detail-type"])
        counts[kind] = counts.get(kind, 0) + 1
    print(
        f"\n{len(events)}/{len(expected)} reviews reached an outcome ("
        + ", ".join(f"{n} {k}" for k, n in sorted(counts.items()))
        + f") in {elapsed:.1f} s ({elapsed / max(len(expected), 1):.2f} s per review; "
        f"{time.perf_counter() - run_started:.1f} s including start-up)."
    )
    print(
        f"Outcome events: {out_path}\nEmails: {stack.outbox.folder}\nFunction logs: {folder / 'lambda.log'}"
    )
    if decider is not None and decider.errors:
        print("Approval problems:\n  " + "\n  ".join(decider.errors[:10]), file=sys.stderr)
    if missing:
        why = "interrupted" if interrupted else "timed out"
        print(f"reviewflow: {why}; no outcome yet for: {', '.join(missing[:20])}", file=sys.stderr)
        return 1
    return 0


# -------------------------------------------------------------------------------------- serve


def _serve(args: argparse.Namespace) -> int:
    root = find_project_root()
    folder = _run_dir(args, root, "serve")
    out_path = args.out or folder / "outcomes.jsonl"
    out_path.parent.mkdir(parents=True, exist_ok=True)
    lock = threading.Lock()

    def append(event: dict[str, Any]) -> None:
        with lock, out_path.open("a", encoding="utf-8") as out:
            out.write(json.dumps(event) + "\n")
        detail = event["detail"]
        print(
            f"outcome: {detail.get('review_id')} -> {SHORT_OUTCOME.get(event['detail-type'])}"
            + (f" ({detail['reason']})" if detail.get("reason") else ""),
            file=sys.stderr,
        )

    with (folder / "lambda.log").open("a", encoding="utf-8") as log:
        stack = _start_stack(
            args,
            root,
            folder,
            log,
            port=args.port,
            aws_endpoint=True,
            on_outcome=append,
            faults=_fault_plan(args),
        )
        try:
            res = stack.resources
            url = stack.front.url
            detail = json.dumps({"review_id": "r-1", "product_id": "p-1", "review_text": "Works great."})
            entry = {
                "EventBusName": res.bus_name,
                "Source": res.input_source,
                "DetailType": "NEW_REVIEW_POSTED",
                "Detail": detail,
            }
            example = (
                f"aws --endpoint-url {url} --region us-east-1 events put-events "
                f"--entries '{json.dumps([entry])}'"
            )
            print(
                f"""
reviewflow local stack is running (Ctrl-C stops it)
  inbox (pending approvals, emails):  {url}/
  approval pages:                     {stack.front.stage_url}/approvals/<id>
  AWS endpoint (any region: us-east-1): {url}
  event bus:                          {res.bus_name}
  outcome events (JSON lines):        {out_path}
  emails (.eml):                      {stack.outbox.folder}

Post a review with the AWS CLI:
  {example}
""",
                flush=True,
            )
            _wait_for_ctrl_c()
        finally:
            signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C must not cut the shutdown short
            print("\nreviewflow: stopping...", file=sys.stderr)
            stack.stop()
    return 0


# --------------------------------------------------------------------------------------- soak


def _soak(args: argparse.Namespace) -> int:
    from reviewflow_local.soak import run_soak

    root = find_project_root()
    folder = _run_dir(args, root, "soak")
    plan = _fault_plan(args, default_spec=None if args.faults else f"{args.fault_rate:g}")
    with (folder / "lambda.log").open("a", encoding="utf-8") as log:
        stack = _start_stack(args, root, folder, log, faults=plan)
        try:
            report = run_soak(
                stack,
                reviews=args.reviews,
                duplicates=args.duplicates,
                seed=args.seed or 0,
                timeout=args.timeout,
                max_in_flight=args.max_in_flight,
                progress=lambda line: print(line, file=sys.stderr, flush=True),
            )
        finally:
            stack.stop()
    print(report.table())
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(report.as_dict(), indent=2), encoding="utf-8")
    print(f"Function logs: {folder / 'lambda.log'}")
    return 0 if report.ok else 1


def _wait_for_ctrl_c() -> None:
    stop = threading.Event()
    with _signals(lambda *_: stop.set()):
        while not stop.wait(0.5):
            pass


@contextlib.contextmanager
def _signals(handler: Any) -> Iterator[None]:
    previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


if __name__ == "__main__":
    sys.exit(main())
