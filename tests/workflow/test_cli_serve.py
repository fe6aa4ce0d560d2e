"""``reviewflow serve`` as a user drives it: start it, post a review through its AWS endpoint with
plain boto3 (``endpoint_url``), read the outcome from its JSON-lines file, stop it with Ctrl-C."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import boto3

from reviewflow.contracts import DEFAULT_INPUT_SOURCE, INPUT_DETAIL_TYPE, OUTCOME_SOURCE, OutcomeType

REPO = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def start_serve(port: int, workdir: Path, *extra: str) -> subprocess.Popen[str]:
    """``reviewflow serve`` as a subprocess on ``port``, its output merged into one text pipe."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO / "local"), str(REPO / "functions")])}
    command = [sys.executable, "-m", "reviewflow_local.cli", "serve", "--port", str(port)]
    return subprocess.Popen(
        [*command, "--workdir", str(workdir), *extra],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def _read_until(process: subprocess.Popen[str], pattern: str, deadline: float) -> re.Match[str]:
    seen = []
    assert process.stdout is not None
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            if process.poll() is not None:
                break
            continue
        seen.append(line)
        match = re.search(pattern, line)
        if match:
            return match
    raise AssertionError(f"serve never printed {pattern!r}; output:\n{''.join(seen)[-3000:]}")


def test_serve_takes_reviews_from_the_aws_cli_endpoint_and_stops_on_ctrl_c(tmp_path: Path) -> None:
    port = _free_port()
    out = tmp_path / "outcomes.jsonl"
    process = start_serve(port, tmp_path / "work", "--out", str(out))
    try:
        deadline = time.monotonic() + 240
        endpoint = _read_until(process, r"AWS endpoint.*?(http://127\.0\.0\.1:\d+)", deadline).group(1)
        bus = _read_until(process, r"event bus:\s+(\S+)", deadline).group(1)
        assert endpoint == f"http://127.0.0.1:{port}"

        with urllib.request.urlopen(f"{endpoint}/", timeout=10) as inbox:
            assert inbox.status == 200

        events = boto3.client(
            "events",
            endpoint_url=endpoint,
            region_name="us-east-1",
            aws_access_key_id="local",
            aws_secret_access_key="local",
        )
        detail = {"review_id": "serve-1", "product_id": "p-1", "review_text": "Lovely kettle, boils fast."}
        answer = events.put_events(
            Entries=[
                {
                    "EventBusName": bus,
                    "Source": DEFAULT_INPUT_SOURCE,
                    "DetailType": INPUT_DETAIL_TYPE,
                    "Detail": json.dumps(detail),
                }
            ]
        )
        assert answer["FailedEntryCount"] == 0

        outcome = _read_until(process, r"outcome: serve-1 -> (\w+)", deadline).group(1)
        assert outcome == "created"
        [event] = [json.loads(line) for line in out.read_text().splitlines()]
        assert event["detail-type"] == OutcomeType.RESPONSE_CREATED
        assert event["source"] == OUTCOME_SOURCE
        assert event["detail"]["review_id"] == "serve-1"
    finally:
        process.send_signal(signal.SIGINT)
        try:
            code = process.wait(timeout=60)
        finally:
            if process.poll() is None:
                process.kill()
    assert code == 0
