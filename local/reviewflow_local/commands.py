"""What ``reviewflow run`` and ``soak`` do once their arguments are parsed (``serve``: ``cli_serve``).

Each command first checks everything a user can get wrong (``cli_checks``: the input file, the
output paths, the port, the fault plan), then creates its run folder, then boots the pipeline
(``start_pipeline``: the model choice, ``model_choice``, is checked, ``model_checks``, and
synthesized into the template; a failed check removes the run folder again).
"""

from __future__ import annotations

import argparse
import errno
import json
import sys
import time
from pathlib import Path
from typing import IO, Any

from reviewflow_local.cli_checks import (
    RunFolder,
    check_output_file,
    check_port_free,
    check_workdir,
    new_run_folder,
    port_error,
    project_root,
    read_reviews,
    resolve_fault_plan,
)
from reviewflow_local.console import Progress, providers_answered, run_totals, summary_table
from reviewflow_local.decider import ApprovalDecider, always
from reviewflow_local.deployment import LocalPipelineError
from reviewflow_local.insights_local import run_report, save_report
from reviewflow_local.model_checks import check_models
from reviewflow_local.model_choice import ModelChoice, resolve_model_choice
from reviewflow_local.pipeline import LocalPipeline, outcome_key
from reviewflow_local.real_aws import RealAwsModels
from reviewflow_local.storefront import attach_for_cli, storefront_overrides
from reviewflow_local.synth import synthesize

DECISIONS = {"approve": "APPROVED", "reject": "REJECTED"}
#: How long ``run`` waits for a new outcome before it looks at the pending approvals again.
RUN_POLL_SECONDS = 0.3


def run(args: argparse.Namespace) -> int:
    root = project_root()
    reviews = read_reviews(args.file or root / "samples" / "reviews.jsonl")
    workdir = checked_workdir(args, root)
    check_output_file(args.out)
    check_port_free(args.port)
    faults = resolve_fault_plan(args.faults, args.seed)
    decide = args.decide or ("wait" if sys.stdin.isatty() and sys.stderr.isatty() else "approve")
    run_started = time.perf_counter()
    with (
        new_run_folder(workdir, "run") as folder,
        (folder.path / "lambda.log").open("a", encoding="utf-8") as log,
    ):
        out_path = args.out or folder.path / "outcomes.jsonl"
        pipeline = start_pipeline(args, root, folder, log, port=args.port, faults=faults)
        delivery, stub = attach_for_cli(pipeline, args.storefront)
        try:
            return _drive(pipeline, reviews, decide, out_path, args.timeout, run_started)
        finally:
            if delivery is not None:
                print_delivery_log(delivery, args.timeout)
            pipeline.stop()
            if stub is not None:
                stub.stop()


def soak(args: argparse.Namespace) -> int:
    from reviewflow_local.soak import run_soak

    root = project_root()
    workdir = checked_workdir(args, root)
    check_output_file(args.out)
    plan = resolve_fault_plan(args.faults, args.seed, default_spec=f"{args.fault_rate:g}")
    with (
        new_run_folder(workdir, "soak") as folder,
        (folder.path / "lambda.log").open("a", encoding="utf-8") as log,
    ):
        pipeline = start_pipeline(args, root, folder, log, faults=plan)
        try:
            report = run_soak(
                pipeline,
                reviews=args.reviews,
                duplicates=args.duplicates,
                seed=plan.seed,
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
    print(f"Function logs: {folder.path / 'lambda.log'}")
    return 0 if report.ok else 1


# ------------------------------------------------------------------------------------ shared


def checked_workdir(args: argparse.Namespace, root: Path) -> Path:
    workdir: Path = args.workdir or root / ".reviewflow"
    check_workdir(workdir)
    return workdir


def start_pipeline(
    args: argparse.Namespace,
    root: Path,
    folder: RunFolder,
    log: IO[str],
    *,
    models: ModelChoice | None = None,
    **options: Any,
) -> LocalPipeline:
    """Check the chosen models, synthesize with them (or take the cached template), boot the
    pipeline, hand the real-AWS model clients over if any, and keep the run folder."""
    started = time.perf_counter()
    models = models or resolve_model_choice(args)
    check_models(models, root)
    real_aws = RealAwsModels.capture(models.real_aws_services) if models.real_aws_services else None
    if real_aws is not None:
        print(real_aws.warning(), file=sys.stderr)
    print(f"reviewflow: models: {models.describe()}", file=sys.stderr)
    print("reviewflow: synthesizing the CDK app (cached after the first run)...", file=sys.stderr)
    assembly = synthesize(
        root,
        overrides={**models.context(), **storefront_overrides(getattr(args, "storefront", None))},
        force=args.resynth,
    )
    synth = (
        "cached template" if not assembly.synth_seconds else f"synthesized in {assembly.synth_seconds:.1f} s"
    )
    try:
        pipeline = LocalPipeline(assembly, workdir=folder.path, log_stream=log, **options).start()
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:  # taken between the check and the boot
            raise port_error(int(options.get("port", 0)), exc) from None
        raise
    if real_aws is not None:
        try:
            real_aws.install()  # after start(), which resets the provider registry
        except BaseException:
            pipeline.stop()
            raise
    folder.keep()
    print(
        f"reviewflow: local pipeline up in {time.perf_counter() - started:.1f} s ({synth}; "
        f"deploy {pipeline.timings.deploy_seconds:.2f} s)",
        file=sys.stderr,
    )
    return pipeline


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
    print(providers_answered(events))
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
    return _insights_report(pipeline)


def _insights_report(pipeline: LocalPipeline) -> int:
    """Run the deployed report job over this run's feedback and keep what it wrote (0 when it ran)."""
    try:
        local = run_report(pipeline)
    except LocalPipelineError as exc:
        print(f"reviewflow: {exc}", file=sys.stderr)
        return 1
    markdown, _ = save_report(local, pipeline.workdir)
    totals = local.report.totals
    print(
        f"Insights report: {markdown} ({totals.products} products, {totals.issue_mentions} issue mentions; "
        "`reviewflow insights` shows it with a chart)"
    )
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


def print_delivery_log(delivery: Any, timeout: float) -> None:
    """The storefront delivery log of a run (``--storefront``), once every delivery has ended."""
    try:
        delivery.drain(timeout=min(timeout, 60.0))
    except TimeoutError as exc:
        print(f"reviewflow: {exc}", file=sys.stderr)
    lines = delivery.log_lines()
    print("Storefront deliveries:" + ("".join(f"\n  {line}" for line in lines) or " none"))
