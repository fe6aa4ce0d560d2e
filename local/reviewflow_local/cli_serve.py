"""``reviewflow serve``: the local pipeline as a server on 127.0.0.1 until Ctrl-C or SIGTERM.

Everything the pipeline holds (the bus, running executions, pending approvals and their task
tokens) lives in this process's memory, in moto. Stopping says how many approvals were still
pending and that they end with the process; only the outcome events (``--out``) and the emails
(``outbox/``) stay on disk.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import signal
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from reviewflow_local.cli_checks import (
    check_output_file,
    check_port_free,
    new_run_folder,
    project_root,
    resolve_fault_plan,
)
from reviewflow_local.commands import checked_workdir, start_pipeline
from reviewflow_local.console import aws_command, outcome_label, serve_banner, stop_notice
from reviewflow_local.pipeline import LocalPipeline

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


def serve(args: argparse.Namespace) -> int:
    root = project_root()
    workdir = checked_workdir(args, root)
    check_output_file(args.out)
    check_port_free(args.port)
    faults = resolve_fault_plan(args.faults, args.seed)
    with (
        new_run_folder(workdir, "serve") as folder,
        (folder.path / "lambda.log").open("a", encoding="utf-8") as log,
    ):
        out_path = args.out or folder.path / "outcomes.jsonl"
        append = OutcomeAppender(out_path)
        pipeline = start_pipeline(
            args, root, folder, log, port=args.port, aws_endpoint=True, on_outcome=append, faults=faults
        )
        try:
            print(_banner(pipeline, out_path), flush=True)
            wait_for_stop_signal()
            print(
                "\n" + stop_notice(pipeline.pending_approvals(), running_executions(pipeline)),
                file=sys.stderr,
            )
        finally:
            for sig in STOP_SIGNALS:  # a second Ctrl-C must not cut the shutdown short
                signal.signal(sig, signal.SIG_IGN)
            pipeline.stop()
    print(f"reviewflow: stopped; outcome events are in {out_path}", file=sys.stderr)
    return 0


class OutcomeAppender:
    """Appends each outcome event to the JSON-lines file and names it on stderr."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        path.parent.mkdir(parents=True, exist_ok=True)

    def __call__(self, event: dict[str, Any]) -> None:
        with self._lock, self.path.open("a", encoding="utf-8") as out:
            out.write(json.dumps(event) + "\n")
        print(f"outcome: {event['detail'].get('review_id')} -> {outcome_label(event)}", file=sys.stderr)


def _banner(pipeline: LocalPipeline, out_path: Path) -> str:
    return serve_banner(
        url=pipeline.front.url,
        stage_url=pipeline.front.stage_url,
        bus_name=pipeline.resources.bus_name,
        input_source=pipeline.resources.input_source,
        outcomes=out_path,
        emails=pipeline.outbox.folder,
        aws=aws_command(),
    )


def running_executions(pipeline: LocalPipeline) -> int:
    """Executions of the workflow that have not ended (those waiting for a person included)."""
    pages = (
        pipeline.client("stepfunctions")
        .get_paginator("list_executions")
        .paginate(stateMachineArn=pipeline.resources.state_machine_arn, statusFilter="RUNNING")
    )
    return sum(len(page["executions"]) for page in pages)


def wait_for_stop_signal() -> None:
    """Block until SIGINT (Ctrl-C) or SIGTERM."""
    stop = threading.Event()
    with _handling(STOP_SIGNALS, lambda *_: stop.set()):
        while not stop.wait(0.5):
            pass


@contextlib.contextmanager
def _handling(signals: tuple[signal.Signals, ...], handler: Any) -> Iterator[None]:
    previous = {sig: signal.signal(sig, handler) for sig in signals}
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)
