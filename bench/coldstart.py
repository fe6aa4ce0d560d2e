"""Cold start: what a fresh interpreter pays to import each handler, and the asset's size.

Every sample is a new ``python`` process (``-X importtime`` is not used: it slows imports and
reports cumulative times per module, while a cold start pays one wall-clock figure). Import time
is reported as a ratio to ``import boto3`` measured in the same run, interleaved with the
handler samples, so a noisy shared machine moves both the same way. The first invocation (import
+ one call with the local providers) is measured for the handlers that need no AWS service.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import zipfile
from typing import Any

from bench import common

_IMPORT_SNIPPET = """
import sys, time
started = time.perf_counter()
import {module}
elapsed = time.perf_counter() - started
watched = ("boto3", "botocore", "pydantic", "aws_lambda_powertools", "sklearn")
heavy = sorted(m for m in watched if m in sys.modules)
print("BENCH_RESULT", elapsed, ",".join(heavy))
"""

_INVOKE_SNIPPET = """
import json, sys, time
started = time.perf_counter()
from bench.direct import FakeContext
import {module} as target
imported = time.perf_counter()
payload = json.loads(sys.stdin.read())
target.handler(payload, FakeContext(function_name="{name}"))
called = time.perf_counter()
target.handler(payload, FakeContext(function_name="{name}"))
warm = time.perf_counter() - called
print("BENCH_RESULT", imported - started, called - imported, warm, file=sys.stderr)
"""


def _run_child(code: str, stdin: str | None = None) -> list[str]:
    completed = subprocess.run(
        [sys.executable, "-c", code],
        input=stdin,
        capture_output=True,
        text=True,
        env=common.child_env(),
        cwd=common.ROOT,
        check=False,
    )
    for stream in (completed.stdout, completed.stderr):
        for line in stream.splitlines():
            if line.startswith("BENCH_RESULT"):
                return line.split()[1:]
    raise RuntimeError(f"benchmark child failed ({completed.returncode}):\n{completed.stderr[-2000:]}")


def _compile_sources() -> None:
    """Byte-compile once, so no sample pays (or skips) compilation by luck of ordering."""
    import compileall

    compileall.compile_dir(str(common.FUNCTIONS_DIR), quiet=1)


def import_times(runs: int) -> dict[str, Any]:
    modules = {"boto3": "boto3", **{name: f"reviewflow.handlers.{name}" for name in common.HANDLERS}}
    samples: dict[str, list[float]] = {name: [] for name in modules}
    loaded: dict[str, str] = {}
    for _ in range(runs):
        for name, module in modules.items():  # interleaved: noise hits every module alike
            fields = _run_child(_IMPORT_SNIPPET.format(module=module))
            samples[name].append(float(fields[0]))
            loaded[name] = fields[1] if len(fields) > 1 else ""
    baseline = common.median(samples["boto3"])
    rows = {}
    for name in modules:
        med = common.median(samples[name])
        rows[name] = {
            "median_ms": med * 1000,
            "min_ms": min(samples[name]) * 1000,
            "ratio_to_boto3": med / baseline,
            "heavy_modules_loaded": loaded[name].split(",") if loaded[name] else [],
            "samples_ms": [s * 1000 for s in samples[name]],
        }
    return rows


def first_invocations(runs: int) -> dict[str, Any]:
    """Import + first call + one warm call, for the handlers that run with local providers."""
    common.add_source_paths()
    payloads = _auto_path_payloads()
    rows: dict[str, Any] = {}
    for name, payload in payloads.items():
        module = f"reviewflow.handlers.{name.split(':')[0]}"
        imports, firsts, warms = [], [], []
        for _ in range(runs):
            fields = _run_child(_INVOKE_SNIPPET.format(module=module, name=name), stdin=json.dumps(payload))
            imports.append(float(fields[0]))
            firsts.append(float(fields[1]))
            warms.append(float(fields[2]))
        rows[name] = {
            "import_ms": common.median(imports) * 1000,
            "first_call_ms": common.median(firsts) * 1000,
            "warm_call_ms": common.median(warms) * 1000,
        }
    return rows


def _auto_path_payloads() -> dict[str, dict[str, Any]]:
    """The payload each handler receives for one auto-path review (captured from a direct run)."""
    import contextlib

    os.environ.update(common.LOCAL_ENV)
    from bench.direct import DirectChain

    chain = DirectChain()
    captured: dict[str, dict[str, Any]] = {}
    originals = dict(chain.handlers)

    def recording(name: str) -> Any:
        def call(payload: dict[str, Any], context: Any) -> Any:
            variant = payload.get("stage") or payload.get("mode")
            key = f"{name}:{variant}" if name in ("score_toxicity", "check_reply") else name
            captured.setdefault(key, json.loads(json.dumps(payload)))
            return originals[name](payload, context)

        return call

    chain.handlers = {name: recording(name) for name in originals}
    review = common.auto_path_reviews(1, seed=11)[0]
    with contextlib.redirect_stdout(io.StringIO()):
        chain.run(common.eventbridge_event(review), "arn:aws:states:us-east-1:123456789012:execution:bench:1")
    # One payload per function: the publish gate runs the same code as the draft check.
    captured.pop("check_reply:publish", None)
    return captured


def asset_size() -> dict[str, Any]:
    """``functions/`` zipped as CDK packages a folder asset (deflate, ``__pycache__`` left out)."""
    buffer = io.BytesIO()
    files = 0
    raw = 0
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(common.FUNCTIONS_DIR.rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc":
                archive.write(path, path.relative_to(common.FUNCTIONS_DIR).as_posix())
                files += 1
                raw += path.stat().st_size
    return {"zip_bytes": len(buffer.getvalue()), "uncompressed_bytes": raw, "files": files}


def run(runs: int = 7, invoke_runs: int = 3) -> dict[str, Any]:
    _compile_sources()
    imports = import_times(runs)
    invocations = first_invocations(invoke_runs)
    asset = asset_size()
    result = {
        "runs": runs,
        "invoke_runs": invoke_runs,
        "imports": imports,
        "first_invocation": invocations,
        "asset": asset,
    }
    print(render(result))
    path = common.write_result("coldstart", result)
    print(f"\n(wrote {common.shown(path)})")
    return result


def render(result: dict[str, Any]) -> str:
    imports = result["imports"]
    rows = [
        [
            name,
            data["median_ms"],
            data["min_ms"],
            data["ratio_to_boto3"],
            " ".join(data["heavy_modules_loaded"]),
        ]
        for name, data in imports.items()
    ]
    out = [
        common.table(
            f"Cold import, fresh interpreter (median of {result['runs']} runs)",
            ["module", "median ms", "min ms", "x import boto3", "heavy modules loaded"],
            rows,
        )
    ]
    first = result["first_invocation"]
    out.append(
        common.table(
            f"First invocation with local providers (median of {result['invoke_runs']} runs)",
            ["handler", "import ms", "first call ms", "warm call ms"],
            [[n, d["import_ms"], d["first_call_ms"], d["warm_call_ms"]] for n, d in first.items()],
        )
    )
    asset = result["asset"]
    out.append(
        common.table(
            "Lambda code asset (functions/ as CDK zips it)",
            ["asset", "files", "uncompressed bytes", "zip bytes"],
            [["functions/", asset["files"], asset["uncompressed_bytes"], asset["zip_bytes"]]],
        )
    )
    return "\n".join(out)


if __name__ == "__main__":  # pragma: no cover
    run()
