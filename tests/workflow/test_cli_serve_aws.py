"""``reviewflow serve`` driven with the AWS CLI exactly as its banner prints the command.

Starts ``serve`` on a free port, runs the printed ``aws ... events put-events`` line through a shell
(with no AWS variable of the test's own, so the line's credentials and region are the ones used),
approves the review through its emailed link, sees its outcome, then posts a second review that
waits for a person and stops ``serve`` with SIGINT: it must say that one approval is pending and
ends with the process, and exit 0.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from reviewflow.contracts import OutcomeType
from reviewflow_local import reviewer
from reviewflow_local.outbox import Outbox, OutboxMessage

REPO = Path(__file__).resolve().parents[2]
BOOT_SECONDS = 300  # a first synth on a busy 2-core machine included
STEP_SECONDS = 120


class Serve:
    """A running ``reviewflow serve`` whose merged output is read on a thread of its own."""

    def __init__(self, args: list[str]) -> None:
        env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO / "local"), str(REPO / "functions")])}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "reviewflow_local.cli", "serve", *args],
            cwd=REPO,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self.lines: list[str] = []
        self.ended = False  # the output reached its end: the process closed it
        self._changed = threading.Condition()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            with self._changed:
                self.lines.append(line.rstrip("\n"))
                self._changed.notify_all()
        with self._changed:
            self.ended = True
            self._changed.notify_all()

    def output(self) -> str:
        with self._changed:
            return "\n".join(self.lines)

    def wait_for(self, pattern: str, timeout: float) -> re.Match[str]:
        """The first output line matching ``pattern``, waiting up to ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        compiled = re.compile(pattern)
        with self._changed:
            while True:
                match = next(filter(None, map(compiled.search, self.lines)), None)
                if match:
                    return match
                remaining = deadline - time.monotonic()
                if remaining <= 0 or self.ended:
                    raise AssertionError(f"serve never printed {pattern!r}; output:\n{self.output()[-4000:]}")
                self._changed.wait(min(remaining, 1.0))

    def stop(self, timeout: float) -> int:
        self.process.send_signal(signal.SIGINT)
        return self.process.wait(timeout=timeout)


@pytest.fixture
def serve(tmp_path: Path) -> Iterator[Serve]:
    running = Serve(
        [
            "--port",
            str(_free_port()),
            "--out",
            str(tmp_path / "outcomes.jsonl"),
            "--workdir",
            str(tmp_path / "w"),
        ]
    )
    yield running
    if running.process.poll() is None:
        running.process.kill()
        running.process.wait(timeout=30)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _aws(command: str, home: Path) -> dict[str, object]:
    """Run a printed shell line with none of the test's AWS variables (and an empty home)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env["HOME"] = str(home)
    # shell=True on purpose: the line is run exactly as a user pastes it into a shell.
    result = subprocess.run(
        command,
        shell=True,
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=STEP_SECONDS,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    answer: dict[str, object] = json.loads(result.stdout)
    return answer


def _approval_email(outbox: Path, review_id: str, skip: set[str]) -> OutboxMessage | None:
    for message in Outbox(outbox).messages():
        if f"(review {review_id})" in message.subject and message.approval_id not in skip:
            return message
    return None


def _next_email_or_outcome(
    serve: Serve, outbox: Path, review_id: str, decided: set[str]
) -> OutboxMessage | None:
    """A new approval email for the review, or None once serve printed the review's outcome."""
    deadline = time.monotonic() + STEP_SECONDS
    while time.monotonic() < deadline:
        if f"outcome: {review_id} -> " in serve.output():
            return None
        message = _approval_email(outbox, review_id, decided)
        if message is not None:
            return message
        time.sleep(0.1)
    raise AssertionError(
        f"neither an approval email nor an outcome for {review_id}:\n{serve.output()[-3000:]}"
    )


def _wait_for_email(outbox: Path, review_id: str) -> OutboxMessage:
    deadline = time.monotonic() + STEP_SECONDS
    while time.monotonic() < deadline:
        message = _approval_email(outbox, review_id, set())
        if message is not None:
            return message
        time.sleep(0.1)
    raise AssertionError(f"no approval email for {review_id} in {outbox}")


def test_the_printed_aws_cli_command_posts_a_review_and_stopping_names_what_is_pending(
    serve: Serve, tmp_path: Path
) -> None:
    example = serve.wait_for(r"^\s*(AWS_ACCESS_KEY_ID=\S+ .* events put-events .*)$", BOOT_SECONDS).group(1)
    outbox = Path(serve.wait_for(r"emails \(\.eml\):\s+(\S+)", 5).group(1))
    assert " AWS_SECRET_ACCESS_KEY=" in example and " AWS_DEFAULT_REGION=us-east-1 " in example
    assert re.search(r"(^|\s)\S*\.venv/bin/aws --endpoint-url http://127\.0\.0\.1:\d+ ", example), example
    assert "Traceback" not in serve.output()

    answer = _aws(example, tmp_path)
    assert answer["FailedEntryCount"] == 0

    decided: set[str] = set()  # a person approves each stage the review is held at
    while (message := _next_email_or_outcome(serve, outbox, "r-1", decided)) is not None:
        assert message.approval_id is not None
        _, page = reviewer.decide(message.approval_links[0], "APPROVED", reviewer="CLI test")
        assert page.status == 200, page.body[:500]
        decided.add(message.approval_id)
    assert decided, "the example review should wait for a person"
    assert serve.wait_for(r"outcome: r-1 -> (.+)$", 1).group(1) == "created"
    [event] = [json.loads(line) for line in (tmp_path / "outcomes.jsonl").read_text().splitlines()]
    assert event["detail-type"] == OutcomeType.RESPONSE_CREATED
    assert event["detail"]["review_id"] == "r-1" and event["detail"]["decided_by"] == "reviewer"

    second = example.replace('\\"r-1\\"', '\\"r-2\\"')
    assert second.count('\\"r-2\\"') == 1, example
    assert _aws(second, tmp_path)["FailedEntryCount"] == 0
    _wait_for_email(outbox, "r-2")  # written after the approval is stored: it is pending now

    assert serve.stop(timeout=STEP_SECONDS) == 0
    notice = serve.wait_for(r"reviewflow: stopping with (.*)$", 5).group(1)
    # r-1's execution may still be finishing after its outcome, so only the pending part is exact.
    assert notice.startswith("1 approval pending (r-2)"), notice
    assert "with this process, because the local pipeline lives in memory" in notice
    assert "Traceback" not in serve.output()
