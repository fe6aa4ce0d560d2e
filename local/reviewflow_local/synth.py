"""Synthesizes the project's CDK app for the local runtime, and caches the result.

The template the local runtime deploys is the one ``cdk synth`` produces: ``python app.py`` with
the context the CDK CLI would pass (``cdk.json``'s ``context``) plus the local overrides: offline
providers, a reviewer address, and ``aws:cdk:disable-asset-staging`` so the assets point at the
source folders (handler and ASL edits then need no re-synth). A synth takes ~7 s, so the cloud
assembly is cached under ``.reviewflow/cdk.out/<key>``, keyed by a hash of everything that can
change the template.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from reviewflow.contracts import LocalEnvVar

CONTEXT_PREFIX = "reviewflow:"

#: What the local runtime changes in the deployment configuration (``stacks/config.py``).
LOCAL_CONTEXT: dict[str, Any] = {
    "llm_provider": "local",
    "toxicity_provider": "local",
    "reviewer_email": "reviewer@example.com",
}

_INPUTS = ("app.py", "cdk.json", "stacks", "statemachines")


class SynthError(RuntimeError):
    """``python app.py`` failed; the message carries its output."""


@dataclass(frozen=True)
class CloudAssembly:
    """The synthesized stack: its template, asset manifest and folder."""

    directory: Path
    stack_name: str
    template: dict[str, Any]
    assets: dict[str, Any]
    synth_seconds: float  # 0.0 when served from the cache

    @property
    def template_path(self) -> Path:
        return self.directory / f"{self.stack_name}.template.json"


def find_project_root(start: Path | None = None) -> Path:
    """The folder holding ``app.py`` (the current directory or this package's checkout)."""
    candidates: list[Path] = []
    if env := os.environ.get(LocalEnvVar.PROJECT_ROOT):
        candidates.append(Path(env))
    here = (start or Path.cwd()).resolve()
    candidates += [here, *here.parents]
    package = Path(__file__).resolve()
    candidates += list(package.parents)
    for candidate in candidates:
        if (candidate / "app.py").is_file() and (candidate / "statemachines").is_dir():
            return candidate
    raise SynthError("cannot find the reviewflow project (a folder with app.py and statemachines/)")


def _files(root: Path, names: Iterable[str]) -> list[Path]:
    found: list[Path] = []
    for name in names:
        path = root / name
        if path.is_file():
            found.append(path)
        elif path.is_dir():
            found += sorted(
                p
                for p in path.rglob("*")
                if p.is_file() and "__pycache__" not in p.parts and p.suffix != ".pyc"
            )
    return found


def build_context(root: Path, overrides: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """``cdk.json`` context + the local runtime's overrides, as ``CDK_CONTEXT_JSON`` carries it."""
    context: dict[str, Any] = {}
    cdk_json = root / "cdk.json"
    if cdk_json.is_file():
        context.update(json.loads(cdk_json.read_text()).get("context", {}))
    context["aws:cdk:disable-asset-staging"] = True
    for field, value in {**LOCAL_CONTEXT, **(overrides or {})}.items():
        context[f"{CONTEXT_PREFIX}{field}"] = value
    return context


def cache_key(root: Path, context: Mapping[str, Any]) -> str:
    digest = hashlib.sha256()
    digest.update(json.dumps(context, sort_keys=True).encode())
    for path in _files(root, _INPUTS):
        digest.update(str(path.relative_to(root)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def synthesize(
    root: Path | None = None,
    overrides: Mapping[str, Any] | None = None,
    cache_dir: Path | None = None,
    *,
    force: bool = False,
) -> CloudAssembly:
    """The cloud assembly for ``overrides``, from the cache when nothing changed."""
    root = (root or find_project_root()).resolve()
    context = build_context(root, overrides)
    cache_dir = cache_dir or root / ".reviewflow" / "cdk.out"
    out = cache_dir / cache_key(root, context)
    started = time.perf_counter()
    synthesized = False
    if force or not (out / "manifest.json").is_file():
        # A staging folder of this process's own: parallel runs (pytest workers, bench) may
        # synthesize the same key at once, and the first to finish wins.
        cache_dir.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(dir=cache_dir, prefix=f"{out.name}.staging-"))
        env = {
            **os.environ,
            "CDK_OUTDIR": str(staging),
            "CDK_CONTEXT_JSON": json.dumps(context),
            "JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION": "1",
            "JSII_SILENCE_WARNING_UNTESTED_NODE_VERSION": "1",
        }
        result = subprocess.run(
            [sys.executable, "app.py"], cwd=root, env=env, capture_output=True, text=True, check=False
        )
        if result.returncode != 0:
            raise SynthError(f"python app.py failed ({result.returncode}):\n{result.stderr[-4000:]}")
        if force or not (out / "manifest.json").is_file():
            shutil.rmtree(out, ignore_errors=True)  # stale, or a half-written folder
        try:
            staging.rename(out)
        except OSError:
            if not (out / "manifest.json").is_file():
                raise
            shutil.rmtree(staging, ignore_errors=True)  # another process published it first
        synthesized = True
    return load_assembly(out, time.perf_counter() - started if synthesized else 0.0)


def load_assembly(directory: Path, synth_seconds: float = 0.0) -> CloudAssembly:
    """The app's one CloudFormation stack (its name is whatever ``app.py`` calls it)."""
    manifest = json.loads((directory / "manifest.json").read_text())
    stacks = {
        k: v for k, v in manifest.get("artifacts", {}).items() if v.get("type") == "aws:cloudformation:stack"
    }
    if len(stacks) != 1:
        raise SynthError(f"expected the app to define one stack, found {sorted(stacks)}")
    stack_name, artifact = next(iter(stacks.items()))
    template_file = artifact.get("properties", {}).get("templateFile", f"{stack_name}.template.json")
    template = json.loads((directory / template_file).read_text())
    assets_file = directory / f"{stack_name}.assets.json"
    assets = json.loads(assets_file.read_text()) if assets_file.is_file() else {"files": {}}
    return CloudAssembly(directory, stack_name, template, assets, synth_seconds)
