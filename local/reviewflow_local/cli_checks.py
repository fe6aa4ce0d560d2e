"""What ``reviewflow`` checks before it boots anything, and the run folder it creates afterwards.

Every check fails with a ``CliError``: one line saying what is wrong and what to do, which
``cli.main`` prints on stderr with exit status 2. The checks create nothing, so a refused command
leaves no run folder behind; ``new_run_folder`` creates one only once they have passed, and
removes it again if the pipeline never came up.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import shutil
import socket
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from reviewflow.contracts import INPUT_DETAIL_TYPE, LocalEnvVar
from reviewflow_local.faults import FaultPlan
from reviewflow_local.synth import SynthError, find_project_root

HOST = "127.0.0.1"
_JSON_KIND = {list: "an array", str: "a string", int: "a number", float: "a number", bool: "true/false"}


class CliError(Exception):
    """A refused command: the one-line message says what is wrong and what to do."""


def project_root() -> Path:
    try:
        return find_project_root()
    except SynthError:
        raise CliError(
            f"cannot find the reviewflow project (a folder with app.py and statemachines/) from "
            f"{Path.cwd()}; run reviewflow inside the checkout or set ${LocalEnvVar.PROJECT_ROOT}"
        ) from None


def read_reviews(path: Path) -> list[dict[str, Any]]:
    """The details in a JSON-lines file; blank lines and lines starting with ``#`` are skipped."""
    data = _read_bytes(path)
    try:
        text = data.decode("utf-8-sig")  # a byte order mark, as some editors write, is not a review
    except UnicodeDecodeError as exc:
        decoded = bytes(exc.object)  # what the codec read: the data after a byte order mark
        line = decoded[: exc.start].count(b"\n") + 1
        raise CliError(
            f"{path}:{line}: not UTF-8 text (byte 0x{decoded[exc.start]:02x}); save the file as UTF-8"
        ) from None
    reviews = [_review(path, number, line) for number, line in enumerate(text.splitlines(), 1)]
    found = [review for review in reviews if review is not None]
    if not found:
        raise CliError(
            f"{path} holds no reviews; put one {INPUT_DETAIL_TYPE} detail (a JSON object) per line"
        )
    return found


def _read_bytes(path: Path) -> bytes:
    hint = f"give the path of a JSON-lines file of {INPUT_DETAIL_TYPE} details"
    if not path.exists():
        raise CliError(f"{path}: no such file; {hint}")
    if path.is_dir():
        raise CliError(f"{path} is a directory; {hint}")
    try:
        return path.read_bytes()
    except OSError as exc:
        raise CliError(f"cannot read {path} ({exc.strerror}); {hint}") from None


def _review(path: Path, number: int, line: str) -> dict[str, Any] | None:
    if not line.strip() or line.lstrip().startswith("#"):
        return None
    try:
        value = json.loads(line)
    except json.JSONDecodeError as exc:
        raise CliError(
            f"{path}:{number}: not JSON ({exc.msg} at column {exc.colno}); "
            "fix the line, or start it with # to skip it"
        ) from None
    if not isinstance(value, dict):
        kind = "null" if value is None else _JSON_KIND.get(type(value), type(value).__name__)
        raise CliError(
            f"{path}:{number}: {kind}, not a JSON object; each line must be one {INPUT_DETAIL_TYPE} detail"
        )
    return value


def check_port_free(port: int) -> None:
    """Bind-test ``port`` on 127.0.0.1 as the HTTP front will bind it (``SO_REUSEADDR``, as
    ``http.server`` sets it, so a port a stopped server left in TIME_WAIT still counts as free)."""
    if port == 0:
        return
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((HOST, port))
        except OSError as exc:
            raise port_error(port, exc) from None


def port_error(port: int, exc: OSError) -> CliError:
    if exc.errno == errno.EADDRINUSE:
        return CliError(
            f"port {port} on {HOST} is already in use; stop what listens there, "
            "or pass --port with another port (0 picks a free one)"
        )
    return CliError(
        f"cannot listen on {HOST}:{port} ({exc.strerror}); pass --port with another port (0 picks a free one)"
    )


def check_output_file(path: Path | None, option: str = "--out") -> None:
    """``path`` can be written later: not a directory, and not under a file."""
    if path is None:
        return
    if path.is_dir():
        raise CliError(f"{option} {path} is a directory; give the path of a file")
    _check_creatable_folder(path.parent, f"{option} {path}")


def check_workdir(path: Path) -> None:
    _check_creatable_folder(path, f"--workdir {path}")


def _check_creatable_folder(folder: Path, what: str) -> None:
    existing = folder
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir():
        raise CliError(f"{what}: {existing} is a file, not a folder; choose another path")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise CliError(f"{what}: {existing} is not writable; choose another path")


def resolve_fault_plan(faults: str | None, seed: int | None, default_spec: str | None = None) -> FaultPlan:
    """The plan from ``--faults``/``--seed``, else ``default_spec``, else the environment."""
    spec, source = (faults, "--faults") if faults is not None else (default_spec, "--fault-rate")
    if spec is None:
        spec, source = os.environ.get(LocalEnvVar.FAULTS), f"${LocalEnvVar.FAULTS}"
    if seed is None:
        raw_seed = os.environ.get(LocalEnvVar.FAULT_SEED) or "0"
        try:
            seed = int(raw_seed)
        except ValueError:
            raise CliError(
                f"${LocalEnvVar.FAULT_SEED} is {raw_seed!r}, not a whole number; set it to one or unset it"
            ) from None
    try:
        return FaultPlan.parse(spec, seed)
    except ValueError as exc:
        hint = "fix or unset it" if source.startswith("$") else "e.g. --faults 'sentiment:throttle=0.2'"
        raise CliError(f"{source}: {exc}; {hint}") from None


class RunFolder:
    """``<workdir>/runs/<time>-<kind>``: removed on failure unless ``keep()`` was called."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.kept = False

    def keep(self) -> None:
        self.kept = True


@contextlib.contextmanager
def new_run_folder(workdir: Path, kind: str) -> Iterator[RunFolder]:
    """A folder of this run's own (two runs in the same second get two), removed again when the
    block fails before ``keep()``: a run whose pipeline never came up leaves nothing behind."""
    runs = workdir / "runs"
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
    try:
        runs.mkdir(parents=True, exist_ok=True)
        folder = RunFolder(_unique_folder(runs, f"{stamp}-{kind}"))
    except OSError as exc:
        raise CliError(f"cannot create a run folder under {runs} ({exc.strerror}); pass --workdir") from None
    try:
        yield folder
    except BaseException:
        if not folder.kept:
            shutil.rmtree(folder.path, ignore_errors=True)
        raise


def _unique_folder(runs: Path, name: str) -> Path:
    for attempt in range(1, 1000):
        path = runs / (name if attempt == 1 else f"{name}-{attempt}")
        try:
            path.mkdir()
        except FileExistsError:
            continue
        return path
    raise FileExistsError(errno.EEXIST, "too many runs in one second", str(runs / name))
