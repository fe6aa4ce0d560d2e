"""What ``reviewflow run``, ``serve`` and ``soak`` do once their arguments are parsed."""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import sys
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from reviewflow.contracts import LocalEnvVar
from reviewflow_local.console import Progress, outcome_label, run_totals, serve_banner, summary_table
from reviewflow_local.decider import ApprovalDecider, always
from reviewflow_local.faults import FaultPlan
from reviewflow_local.pipeline import LocalPipeline, outcome_key
from reviewflow_local.synth import find_project_root, synthesize

DECISIONS = {"approve": "APPROVED", "reject": "REJECTED"}
#: How long ``run`` waits for a new outcome before it looks at the pending approvals again.
RUN_POLL_SECONDS = 0.3


def run(args: argparse.Namespace) -> int:
    root = find_project_root()
    source = args.file or root / "samples" / "reviews.jsonl"
    reviews = load_reviews(source)
    if not reviews:
        print(f"reviewflow: {source} holds no reviews", file=sys.stderr)
        return 2
    decide = args.decide or ("wait" if sys.stdin.isatty() and sys.stderr.isatty() else "approve")
    folder = run_dir(args, root, "run")
    out_path = args.out or folder / "outcomes.jsonl"
    run_started = time.perf_counter()
    with (folder / "lambda.log").open("a", encoding="utf-8") as log:
        pipeline = start_pipeline(args, root, folder, log, port=args.port, faults=fault_plan(args))
        try:
            return _drive(pipeline, reviews, decide, out_path, args.timeout, run_started)
        finally:
            pipeline.stop()


def serve(args: argparse.Namespace) -> int:
    root = find_project_root()
    folder = run_dir(args, root, "serve")
    out_path = args.out or folder / "outcomes.jsonl"
    out_path.parent.mkdir(parents=True, exist_ok=True)
    lock = threading.Lock()

    def append(event: dict[str, Any]) -> None:
        with lock, out_path.open("a", encoding="utf-8") as out:
            out.write(json.dumps(event) + "\n")
        print(f"outcome: {event['detail'].get('review_id')} -> {outcome_label(event)}", file=sys.stderr)

    with (folder / "lambda.log").open("a", encoding="utf-8") as log:
        pipeline = start_pipeline(
            args,
            root,
            folder,
            log,
            port=args.port,
            aws_endpoint=True,
            on_outcome=append,
            faults=fault_plan(args),
        )
        try:
            banner = serve_banner(
                url=pipeline.front.url,
                stage_url=pipeline.front.stage_url,
                bus_name=pipeline.resources.bus_name,
                input_source=pipeline.resources.input_source,
                outcomes=out_path,
                emails=pipeline.outbox.folder,
            )
            print(banner, flush=True)
            _wait_for_ctrl_c()
        finally:
            signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C must not cut the shutdown short
            print("\nreviewflow: stopping...", file=sys.stderr)
            pipeline.stop()
    return 0


def soak(args: argparse.Namespace) -> int:
    from reviewflow_local.soak import run_soak

    root = find_project_root()
    folder = run_dir(args, root, "soak")
    plan = fault_plan(args, default_spec=None if args.faults else f"{args.fault_rate:g}")
    with (folder / "lambda.log").open("a", encoding="utf-8") as log:
        pipeline = start_pipeline(args, root, folder, log, faults=plan)
        try:
            report = run_soak(
                pipeline,
                reviews=args.reviews,
                duplicates=args.duplicates,
                seed=args.seed or 0,
                timeout=args.timeout,
                max_in_flight=args.max_in_flight,
                progress=lambda line: print(line, file=sys.stderr, flush=True),
            )
        finally:
            pipeline.stop()
    print(report.table())
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(report.as_dict(), indent=2), encoding="utf-8")
    print(f"Function logs: {folder / 'lambda.log'}")
    return 0 if report.ok else 1


# ------------------------------------------------------------------------------------ shared


def fault_plan(args: argparse.Namespace, default_spec: str | None = None) -> FaultPlan | None:
    """The plan from the options; ``None`` lets the pipeline read the environment variables."""
    spec = args.faults if args.faults is not None else default_spec
    if spec is None and args.seed is None:
        return None
    if spec is None:
        spec = os.environ.get(LocalEnvVar.FAULTS)
    seed = args.seed if args.seed is not None else int(os.environ.get(LocalEnvVar.FAULT_SEED) or 0)
    try:
        return FaultPlan.parse(spec, seed)
    except ValueError as exc:
        raise SystemExit(f"reviewflow: --faults: {exc}") from None


def run_dir(args: argparse.Namespace, root: Path, kind: str) -> Path:
    base = args.workdir or root / ".reviewflow"
    folder = base / "runs" / f"{datetime.now(UTC).strftime('%Y%m%dT%H%M%S')}-{kind}"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def start_pipeline(
    args: argparse.Namespace, root: Path, folder: Path, log: IO[str], **options: Any
) -> LocalPipeline:
    started = time.perf_counter()
    print("reviewflow: synthesizing the CDK app (cached after the first run)...", file=sys.stderr)
    assembly = synthesize(root, force=args.resynth)
    synth = (
        "cached template" if not assembly.synth_seconds else f"synthesized in {assembly.synth_seconds:.1f} s"
    )
    pipeline = LocalPipeline(assembly, workdir=folder, log_stream=log, **options).start()
    print(
        f"reviewflow: local pipeline up in {time.perf_counter() - started:.1f} s ({synth}; "
        f"deploy {pipeline.timings.deploy_seconds:.2f} s)",
        file=sys.stderr,
    )
    return pipeline


def load_reviews(path: Path) -> list[dict[str, Any]]:
    reviews = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if line.strip() and not line.lstrip().startswith("#"):
            try:
                reviews.append(json.loads(line))
            except json.JSONDecodeError as exc:
                raise SystemExit(f"reviewflow: {path}:{number}: not JSON ({exc.msg})") from None
    return reviews


# --------------------------------------------------------------------------------------- run


def _drive(
    pipeline: LocalPipeline,
    reviews: list[dict[str, Any]],
    decide: str,
    out_path: Path,
    timeout: float,
    run_started: float,
) -> int:
    """Post, decide, wait, then report: 0 when every review reached an outcome."""
    _announce(pipeline, decide)
    posted_at = time.perf_counter()
    event_ids = pipeline.post_reviews(reviews)
    expected = {outcome_key(detail, event_id) for detail, event_id in zip(reviews, event_ids, strict=True)}
    decider = _run_decider(pipeline, decide)
    interrupted = _wait_for_outcomes(pipeline, expected, decider, timeout)
    elapsed = time.perf_counter() - posted_at
    events = [e for e in pipeline.outcomes() if e["detail"].get("review_id") in expected]
    _write_outcomes(out_path, events)
    print(summary_table(events))
    print(run_totals(events, len(expected), elapsed, time.perf_counter() - run_started))
    print(
        f"Outcome events: {out_path}\nEmails: {pipeline.outbox.folder}\n"
        f"Function logs: {pipeline.workdir / 'lambda.log'}"
    )
    if decider is not None and decider.errors:
        print("Approval problems:\n  " + "\n  ".join(decider.errors[:10]), file=sys.stderr)
    missing = sorted(expected - {e["detail"].get("review_id") for e in events})
    if missing:
        why = "interrupted" if interrupted else "timed out"
        print(f"reviewflow: {why}; no outcome yet for: {', '.join(missing[:20])}", file=sys.stderr)
        return 1
    return 0


def _announce(pipeline: LocalPipeline, decide: str) -> None:
    print(f"reviewflow: inbox and approval pages at {pipeline.front.url}/", file=sys.stderr)
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


def _run_decider(pipeline: LocalPipeline, decide: str) -> ApprovalDecider | None:
    if decide not in DECISIONS:
        return None  # --decide wait: a person decides in the browser
    return ApprovalDecider(
        pipeline.outbox, always(DECISIONS[decide]), reviewer="reviewflow run", comment_prefix="--decide"
    )


def _wait_for_outcomes(
    pipeline: LocalPipeline, expected: set[str], decider: ApprovalDecider | None, timeout: float
) -> bool:
    """Decide and show progress until every expected review has an outcome; True if interrupted."""
    progress = Progress(len(expected))
    deadline = time.monotonic() + timeout
    try:
        while True:
            pending = pipeline.pending_approvals()
            if decider is not None:
                decider.decide(pending)
            events = pipeline.outcomes()
            done = {e["detail"].get("review_id") for e in events} & expected
            progress.show(len(done), len(pending))
            if len(done) == len(expected) or time.monotonic() > deadline:
                return False
            pipeline.wait_for_more(len(events), timeout=RUN_POLL_SECONDS)
    except KeyboardInterrupt:
        return True
    finally:
        progress.close()


def _write_outcomes(path: Path, events: list[dict[str, Any]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as out:
        for event in events:
            out.write(json.dumps(event) + "\n")


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
