"""The Lambda asset carries every import it needs: each handler imports, in a clean interpreter,
with only the asset and what the Powertools layer and the Lambda runtime provide on the path."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from reviewflow.handlers import HANDLER_MODULES
from tests.infra.conftest import Synthesized

HANDLERS = HANDLER_MODULES

# Top-level modules of what AWS provides: the managed Powertools layer (Powertools, pydantic and its
# dependencies, the X-Ray SDK) and the Python runtime (boto3 and its dependencies).
LAYER_MODULES = (
    "aws_lambda_powertools",
    "pydantic",
    "pydantic_core",
    "typing_extensions",
    "typing_inspection",
    "annotated_types",
    "aws_xray_sdk",
    "wrapt",
    "jmespath",
)
RUNTIME_MODULES = ("boto3", "botocore", "s3transfer", "dateutil", "six", "urllib3")

IMPORT_ALL = """
import importlib, json, pathlib, sys
asset = pathlib.Path(sys.argv[1])
names = sorted(p.stem for p in (asset / "reviewflow" / "handlers").glob("*.py") if p.stem != "__init__")
failures = {}
for name in names:
    try:
        module = importlib.import_module(f"reviewflow.handlers.{name}")
        assert callable(module.handler), "no callable handler"
    except BaseException as exc:  # report every handler, not just the first failure
        failures[name] = f"{type(exc).__name__}: {exc}"
print(json.dumps({"imported": names, "failures": failures}))
"""


def asset_directory(synthesized: Synthesized) -> Path:
    """The staged function code asset (a directory in cdk.out), found through the assets manifest."""
    manifest = json.loads((synthesized.outdir / "Reviewflow.assets.json").read_text(encoding="utf-8"))
    directories = [
        synthesized.outdir / a["source"]["path"]
        for a in manifest["files"].values()
        if a["source"].get("packaging") == "zip"
    ]
    assert len(directories) == 1, directories
    return directories[0]


def provided_path(tmp_path: Path) -> Path:
    """A directory holding links to just the provided distributions, like /opt/python in Lambda."""
    provided = tmp_path / "provided"
    provided.mkdir()
    for module in LAYER_MODULES + RUNTIME_MODULES:
        spec = importlib.util.find_spec(module)
        if spec is None or spec.origin is None:
            pytest.fail(f"{module} is not installed in the test environment")
        origin = Path(spec.origin)
        source = origin.parent if origin.name == "__init__.py" else origin
        (provided / source.name).symlink_to(source, target_is_directory=source.is_dir())
    return provided


def test_asset_is_the_functions_folder_without_caches(synthesized: Synthesized) -> None:
    asset = asset_directory(synthesized)
    assert (asset / "reviewflow" / "handlers" / "__init__.py").exists()
    assert (asset / "prompts").is_dir()
    assert not list(asset.rglob("__pycache__")) and not list(asset.rglob("*.pyc"))


def test_every_handler_imports_from_the_asset_alone(synthesized: Synthesized, tmp_path: Path) -> None:
    asset = asset_directory(synthesized)
    provided = provided_path(tmp_path)
    stdlib = [
        p for p in sys.path if p and "site-packages" not in p and Path(p).is_relative_to(sys.base_prefix)
    ]
    search_path = [str(asset), str(provided), *stdlib]
    bootstrap = f"import sys; sys.path[:] = {search_path!r}; sys.argv[1:] = [{str(asset)!r}]\n"
    result = subprocess.run(
        # -I: no user site, no PYTHON* variables, no cwd; -S: no site-packages at all.
        [sys.executable, "-I", "-S", "-c", bootstrap + IMPORT_ALL],
        env={
            "PATH": os.environ.get("PATH", "/usr/bin"),
            "LANG": "C.UTF-8",
        },  # no AWS or REVIEWFLOW_* settings
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["failures"] == {}
    missing = sorted(set(HANDLERS) - set(report["imported"]))
    assert not missing, f"handler modules not in the asset yet: {missing}"
