"""``reviewflow`` refuses what a user can get wrong before it boots anything.

Each case runs the command in a child process, as a user would, and expects: exit status 2, one
line on stderr naming what is wrong and what to do, no traceback, no run folder, and neither the
synth nor the "pipeline up" line (so the refusal came from the checks, not from a boot that failed).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
GOOD = '{"review_id": "r-1", "product_id": "p-1", "review_text": "Fine kettle."}'
BOOT_LINES = ("synthesizing the CDK app", "local pipeline up")


@dataclass
class Refusal:
    code: int
    stderr: str
    stdout: str
    workdir: Path

    @property
    def line(self) -> str:
        lines = self.stderr.splitlines()
        assert len(lines) == 1, f"expected one line on stderr, got:\n{self.stderr}"
        return lines[0]


@pytest.fixture
def reviewflow(tmp_path: Path) -> Iterator[object]:
    workdir = tmp_path / "work"

    def invoke(*args: str, env: dict[str, str] | None = None) -> Refusal:
        result = subprocess.run(
            [sys.executable, "-m", "reviewflow_local.cli", *args, "--workdir", str(workdir)],
            cwd=REPO,
            env={
                **os.environ,
                "PYTHONPATH": os.pathsep.join([str(REPO / "local"), str(REPO / "functions")]),
                **(env or {}),
            },
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        return Refusal(result.returncode, result.stderr, result.stdout, workdir)

    yield invoke


def assert_refused(refusal: Refusal, *fragments: str) -> str:
    assert refusal.code == 2, refusal.stderr
    assert "Traceback" not in refusal.stderr
    for boot in BOOT_LINES:
        assert boot not in refusal.stderr + refusal.stdout
    line = refusal.line
    for fragment in fragments:
        assert fragment in line, line
    runs = refusal.workdir / "runs"
    assert not runs.exists() or not any(runs.iterdir()), sorted(runs.iterdir())
    return line


def test_a_missing_input_file(reviewflow, tmp_path: Path) -> None:
    missing = tmp_path / "nope.jsonl"
    line = assert_refused(reviewflow("run", str(missing)), str(missing), "no such file")
    assert line == (
        f"reviewflow: {missing}: no such file; "
        "give the path of a JSON-lines file of NEW_REVIEW_POSTED details"
    )


def test_a_directory_instead_of_a_file(reviewflow, tmp_path: Path) -> None:
    assert_refused(reviewflow("run", str(tmp_path)), f"{tmp_path} is a directory", "JSON-lines file")


def test_a_file_that_is_not_utf8_names_its_line(reviewflow, tmp_path: Path) -> None:
    reviews = tmp_path / "latin1.jsonl"
    reviews.write_bytes(GOOD.encode() + b"\n" + '{"review_text": "Café"}'.encode("latin-1") + b"\n")
    line = assert_refused(
        reviewflow("run", str(reviews)), f"{reviews}:2: not UTF-8 text", "save the file as UTF-8"
    )
    assert line == f"reviewflow: {reviews}:2: not UTF-8 text (byte 0xe9); save the file as UTF-8"


def test_a_malformed_line_is_named(reviewflow, tmp_path: Path) -> None:
    reviews = tmp_path / "reviews.jsonl"
    reviews.write_text(f'{GOOD}\n\n# a comment\n{{"review_id": "r-2",\n{GOOD}\n', encoding="utf-8")
    line = assert_refused(reviewflow("run", str(reviews)), f"{reviews}:4: not JSON")
    assert line == (
        f"reviewflow: {reviews}:4: not JSON (Expecting property name enclosed in double quotes at "
        "column 21); fix the line, or start it with # to skip it"
    )


def test_a_line_that_is_not_an_object_is_named(reviewflow, tmp_path: Path) -> None:
    reviews = tmp_path / "reviews.jsonl"
    reviews.write_text(f'{GOOD}\n["r-2", "p-1"]\n', encoding="utf-8")
    assert_refused(reviewflow("run", str(reviews)), f"{reviews}:2: an array, not a JSON object")


def test_a_file_without_reviews(reviewflow, tmp_path: Path) -> None:
    reviews = tmp_path / "empty.jsonl"
    reviews.write_text("\n# only a comment\n", encoding="utf-8")
    assert_refused(reviewflow("run", str(reviews)), f"{reviews} holds no reviews")


@pytest.fixture
def busy_port() -> Iterator[int]:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        yield int(holder.getsockname()[1])


@pytest.mark.parametrize("command", ["serve", "run"])
def test_a_busy_port_is_refused_before_the_pipeline_boots(reviewflow, busy_port: int, command: str) -> None:
    line = assert_refused(reviewflow(command, "--port", str(busy_port)))
    assert line == (
        f"reviewflow: port {busy_port} on 127.0.0.1 is already in use; stop what listens there, "
        "or pass --port with another port (0 picks a free one)"
    )


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (
            ["serve", "--bogus"],
            "reviewflow serve: unrecognized arguments: --bogus; see 'reviewflow serve --help'",
        ),
        (
            ["serve", "--port", "eighty"],
            "reviewflow serve: argument --port: 'eighty' is not a port number; see 'reviewflow serve --help'",
        ),
        (
            ["serve", "--port", "70000"],
            "reviewflow serve: argument --port: 70000 is not a port number (0 to 65535); "
            "see 'reviewflow serve --help'",
        ),
        (
            ["run", "--decide", "maybe"],
            "reviewflow run: argument --decide: invalid choice: 'maybe' (choose from ",
        ),
        (
            ["run", "--timeout", "0"],
            "reviewflow run: argument --timeout: '0' is not a positive number of seconds; "
            "see 'reviewflow run --help'",
        ),
        (
            ["soak", "--fault-rate", "1.5"],
            "reviewflow soak: argument --fault-rate: '1.5' is not a rate between 0 and 1; "
            "see 'reviewflow soak --help'",
        ),
        (
            ["soak", "--faults", "sentiment:slow=0.2"],
            "reviewflow soak: argument --faults: fault kind 'slow' unknown; use one of ('throttle', "
            "'timeout', 'server_error', 'malformed'); see 'reviewflow soak --help'",
        ),
        (
            ["bake"],
            "reviewflow: argument {run,serve,soak,eval,insights,model-standin}: "
            "invalid choice: 'bake' (choose from ",
        ),
    ],
)
def test_a_bad_flag_or_value_is_one_line_naming_the_help(reviewflow, args: list[str], expected: str) -> None:
    line = assert_refused(reviewflow(*args))
    assert line.startswith(expected), line  # how argparse lists choices differs between Pythons
    command = "reviewflow" if args[0] == "bake" else f"reviewflow {args[0]}"
    assert line.endswith(f"; see '{command} --help'"), line


def test_a_bad_fault_plan_in_the_environment_is_named(reviewflow) -> None:
    refusal = reviewflow("serve", "--port", "0", env={"REVIEWFLOW_FAULTS": "toxicity:throttle=2"})
    assert_refused(refusal, "$REVIEWFLOW_FAULTS:", "must be between 0 and 1", "fix or unset it")


def test_an_output_path_that_is_a_directory(reviewflow, tmp_path: Path) -> None:
    assert_refused(
        reviewflow("serve", "--port", "0", "--out", str(tmp_path)), f"--out {tmp_path} is a directory"
    )
