"""Importing a handler does no I/O and reads no environment variable (cold starts stay cheap, and
tests configure functions after import). Each import runs in a fresh interpreter with the
environment wrapped by a recorder and sockets disabled."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from reviewflow.handlers import HANDLER_MODULES

ROOT = Path(__file__).resolve().parents[3]
HANDLERS = list(HANDLER_MODULES)
# Read by libraries themselves while importing, never by our code: the standard library
# (sysconfig, zoneinfo) and pydantic, which checks its plugin switch when a model class is built.
LIBRARY_READS = {
    "HOME",
    "PYTHONTZPATH",
    "PYTHONUSERBASE",
    "_PYTHON_PROJECT_BASE",
    "_PYTHON_SYSCONFIGDATA_NAME",
    "PYDANTIC_DISABLE_PLUGINS",
}

PROBE = r"""
import json, os, socket, sys
reads = []
class Recorder(dict):
    def __getitem__(self, key):
        reads.append(key); return super().__getitem__(key)
    def get(self, key, default=None):
        reads.append(key); return super().get(key, default)
    def __contains__(self, key):
        reads.append(key); return super().__contains__(key)
recorder = Recorder(os.environ)
os.environ = recorder
os.getenv = lambda key, default=None: recorder.get(key, default)
def no_sockets(*args, **kwargs):
    raise AssertionError("a socket was opened during import")
socket.socket = no_sockets
socket.create_connection = no_sockets
sys.path.insert(0, sys.argv[2])
import importlib
module = importlib.import_module("reviewflow.handlers." + sys.argv[1])
assert callable(module.handler)
lazy = ("boto3", "botocore", "aws_lambda_powertools", "sklearn", "vaderSentiment")
heavy = sorted(m for m in lazy if m in sys.modules)
print(json.dumps({"reads": sorted(set(reads)), "heavy": heavy}))
"""


@pytest.mark.parametrize("name", HANDLERS)
def test_handler_import_reads_nothing_and_opens_nothing(name: str) -> None:
    done = subprocess.run(
        [sys.executable, "-I", "-c", PROBE, name, str(ROOT / "functions")],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert set(report["reads"]) <= LIBRARY_READS, f"environment read at import: {report['reads']}"
    assert report["heavy"] == [], f"imported at module load: {report['heavy']}"
