"""What every benchmark shares: paths, deterministic inputs, tables, result files.

Benchmarks run from a checkout (``python -m bench`` in the repository root), so the runtime
package is put on ``sys.path`` here rather than assumed installed: the same command works in
``.venv`` (editable install) and in any interpreter that has the dependencies.
"""

from __future__ import annotations

import json
import os
import platform
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from reviewflow.contracts import DEFAULT_INPUT_SOURCE, INPUT_DETAIL_TYPE, EnvVar
from reviewflow.handlers import HANDLER_MODULES

ROOT = Path(__file__).resolve().parent.parent
FUNCTIONS_DIR = ROOT / "functions"
LOCAL_DIR = ROOT / "local"
RESULTS_DIR = ROOT / "bench" / "results"
SAMPLES = ROOT / "samples" / "reviews.jsonl"
ASL = ROOT / "statemachines" / "review_response.asl.json"
# The original sample's design, for pricing only (bench/cost_model.py, ``compare``).
ORIGINAL_ASL = ROOT / "bench" / "original_design.asl.json"
PRICING = FUNCTIONS_DIR / "pricing" / "pricing.json"

#: The handlers of the Lambda code asset, in the order the workflow reaches them.
HANDLERS = HANDLER_MODULES

#: Environment of an offline run: local providers, no X-Ray, Powertools named as in the template.
LOCAL_ENV: dict[str, str] = {
    EnvVar.TOXICITY_PROVIDER: "local",
    EnvVar.LLM_PROVIDER: "local",
    "POWERTOOLS_SERVICE_NAME": "reviewflow",
    "POWERTOOLS_METRICS_NAMESPACE": "Reviewflow",
    "POWERTOOLS_TRACE_DISABLED": "true",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_REGION": "us-east-1",
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
}


def add_source_paths() -> None:
    for path in (FUNCTIONS_DIR, LOCAL_DIR, ROOT):
        if str(path) not in sys.path:
            sys.path.insert(0, str(path))


def child_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """Environment for a benchmark child process: sources importable, offline providers."""
    env = {**os.environ, **LOCAL_ENV, **(extra or {})}
    env["PYTHONPATH"] = os.pathsep.join(
        [str(FUNCTIONS_DIR), str(LOCAL_DIR), str(ROOT), env.get("PYTHONPATH", "")]
    ).rstrip(os.pathsep)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


# ------------------------------------------------------------------------------- inputs

_OPENINGS = (
    "I bought this for my kitchen last month.",
    "We have used it every day since it arrived.",
    "This was a gift for my brother and he likes it.",
    "I ordered it after reading a few reviews.",
    "It replaced an older model that finally wore out.",
)
_MIDDLES = (
    "Setup took about five minutes and the instructions were clear.",
    "The build quality feels solid and the finish looks good.",
    "It is quieter than I expected and easy to clean.",
    "The battery lasts most of the week with normal use.",
    "It fits neatly on the shelf and the buttons are easy to reach.",
    "Delivery was quick and the box was well packed.",
)
_CLOSINGS = (
    "Happy with the purchase overall.",
    "I would recommend it to friends.",
    "Good value for the price.",
    "It does exactly what it says.",
    "Pleased so far and would buy again.",
)
_PRODUCTS = ("Aurora Kettle", "X3 Headphones", "GripFlow Mat", "Lumen Desk Lamp", "Brisk Fan")
_NAMES = ("Maria", "Sam", "Priya", "Tom", None)


def run_child(module: str, mode: str, count: int, label: str) -> dict[str, Any]:
    """``module.child_main(mode, count, out)`` in a fresh interpreter; the JSON it wrote to ``out``.

    A child that exits non-zero raises ``RuntimeError`` with ``label`` and the end of its stderr.
    """
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as handle:
        out = handle.name
    try:
        code = f"from {module} import child_main; child_main({mode!r}, {count}, {out!r})"
        done = subprocess.run(
            [sys.executable, "-c", code],
            cwd=ROOT,
            env=child_env(),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            check=False,
        )
        if done.returncode != 0:
            raise RuntimeError(f"{label} failed:\n{done.stderr[-3000:]}")
        measured: dict[str, Any] = json.loads(Path(out).read_text())
    finally:
        Path(out).unlink(missing_ok=True)
    return measured


def auto_path_reviews(count: int, seed: int = 7, prefix: str = "bench") -> list[dict[str, Any]]:
    """``count`` polite English reviews (the auto path: safe, no person), the same for a seed."""
    rng = random.Random(seed)
    reviews = []
    for index in range(count):
        product = rng.choice(_PRODUCTS)
        review = {
            "review_id": f"{prefix}-{seed}-{index:05d}",
            "product_id": product.lower().replace(" ", "-"),
            "product_name": product,
            "rating": rng.choice((4, 5)),
            "language": "en",
            "review_text": " ".join((rng.choice(_OPENINGS), *rng.sample(_MIDDLES, 2), rng.choice(_CLOSINGS))),
        }
        name = rng.choice(_NAMES)
        if name:
            review["reviewer_name"] = name
        reviews.append(review)
    return reviews


def eventbridge_event(detail: dict[str, Any], index: int = 0) -> dict[str, Any]:
    """The envelope the input rule hands to the workflow (``$`` of the execution input)."""
    return {
        "version": "0",
        "id": f"00000000-0000-4000-8000-{index:012d}",
        "detail-type": INPUT_DETAIL_TYPE,
        "source": DEFAULT_INPUT_SOURCE,
        "account": "123456789012",
        "time": "2026-11-23T12:00:00Z",
        "region": "us-east-1",
        "resources": [],
        "detail": detail,
    }


def load_samples() -> list[dict[str, Any]]:
    return [json.loads(line) for line in SAMPLES.read_text(encoding="utf-8").splitlines() if line.strip()]


# ------------------------------------------------------------------------------ reporting


def median(values: Iterable[float]) -> float:
    return statistics.median(list(values))


def fmt(value: Any, digits: int = 2) -> str:
    if isinstance(value, float):
        if value != 0 and abs(value) < 10 ** (-digits):
            return f"{value:.2e}"
        return f"{value:,.{digits}f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def table(title: str, headers: Sequence[str], rows: Sequence[Sequence[Any]], digits: int = 2) -> str:
    """A Markdown table (readable in a terminal, pastable into docs)."""
    cells = [[fmt(cell, digits) for cell in row] for row in rows]
    widths = [max(len(h), *(len(r[i]) for r in cells)) if cells else len(h) for i, h in enumerate(headers)]

    def line(values: Sequence[str]) -> str:
        parts = [
            v.ljust(w) if i == 0 else v.rjust(w) for i, (v, w) in enumerate(zip(values, widths, strict=True))
        ]
        return "| " + " | ".join(parts) + " |"

    separator = (
        "|"
        + "|".join(("-" * (w + 2)) if i == 0 else ("-" * (w + 1) + ":") for i, w in enumerate(widths))
        + "|"
    )
    out = [f"\n### {title}\n", line(headers), separator, *(line(r) for r in cells)]
    return "\n".join(out)


def machine() -> dict[str, Any]:
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=False
        ).stdout.strip()
    except OSError:
        commit = ""
    return {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "commit": commit or None,
        "measured_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }


def shown(path: Path) -> str:
    """``path`` relative to the checkout when it is inside it."""
    try:
        return str(path.relative_to(ROOT))
    except ValueError:
        return str(path)


def write_result(name: str, payload: dict[str, Any]) -> Path:
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    path = RESULTS_DIR / f"{name}.json"
    path.write_text(json.dumps({"benchmark": name, "machine": machine(), **payload}, indent=2) + "\n")
    return path
