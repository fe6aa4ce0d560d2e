"""The auto path's critical path on AWS, walked on the ASL: before and after the Parallel states.

A safe review that no person sees (``walk`` with the path's Choice branches) is timed state by
state with the per-service latencies below: states in sequence add up, a Parallel costs its own
transition plus its slowest branch. Three definitions are compared, each with its own choices:

- ``original``: the strictly sequential sample this project started from
  (``bench/original_design.asl.json``);
- ``before``: this workflow before the Parallel states (``bench/asl_before_parallel.asl.json``,
  a copy of ``statemachines/review_response.asl.json`` taken just before the change);
- ``after``: the current definition (toxicity beside a speculative sentiment; the reply beside
  the insight extraction).

The numbers are stated, not measured (nothing here calls AWS): ratios between the three are what
the table is for. ``python -m bench.critical_path`` prints the table; ``make bench`` runs it.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.common import ASL, ORIGINAL_ASL, table
from bench.workflow_paths import ORIGINAL_PATHS, PATHS, PathWalk, walk

BEFORE_ASL = Path(__file__).resolve().parent / "asl_before_parallel.asl.json"

#: Per-service latency on AWS (ms, p50, one call), with where each number comes from.
LATENCY_MS: dict[str, tuple[float, str]] = {
    "state_transition": (
        25.0,
        "Step Functions Standard, per state entered (AWS re:Post/benchmarks: 20-50 ms)",
    ),
    "lambda_invoke": (20.0, "warm Lambda invoke overhead from Step Functions (bench/assumptions.py)"),
    "lambda_cpu": (5.0, "handler CPU besides its service calls (measured offline: 1-5 ms)"),
    "comprehend": (120.0, "Comprehend DetectToxicContent, one short text (bench/assumptions.py)"),
    "bedrock_sentiment": (500.0, "Bedrock Converse, ~40 output tokens, Nova Lite (bench/assumptions.py)"),
    "bedrock_response": (1500.0, "Bedrock Converse, ~120 output tokens, Nova Lite (bench/assumptions.py)"),
    "bedrock_insights": (
        900.0,
        "Bedrock Converse, ~250 output tokens, Nova Micro (assumed: faster per token)",
    ),
    "dynamodb": (15.0, "DynamoDB single-item write (bench/assumptions.py)"),
    "eventbridge": (30.0, "EventBridge PutEvents (bench/assumptions.py)"),
}

#: What each Lambda task waits for, by its definition substitution.
TASK_SERVICES: dict[str, tuple[str, ...]] = {
    "${ValidateReviewFunctionArn}": (),
    "${ScoreToxicityFunctionArn}": ("comprehend",),
    "${DetectSentimentFunctionArn}": ("bedrock_sentiment",),
    "${GenerateResponseFunctionArn}": ("bedrock_response",),
    "${CheckReplyFunctionArn}": ("comprehend",),
    "${BuildOutcomeFunctionArn}": (),
    "${ExtractInsightsFunctionArn}": ("bedrock_insights", "dynamodb", "eventbridge"),
}

#: The auto path through the definition before the Parallel states (its own state names).
BEFORE_SAFE = {
    "IsReviewValid": "ScoreReviewToxicity",
    "ReviewToxicityBand": "DetectSentiment",
    "DraftVerdict": "PublishGate",
    "GateVerdict": "BuildOutcome",
}


def latency(name: str) -> float:
    return LATENCY_MS[name][0]


def state_ms(spec: Mapping[str, Any]) -> float:
    """One state's own time: its transition, plus the service calls a Task makes."""
    total = latency("state_transition")
    if spec.get("Type") != "Task":
        return total
    resource = str(spec.get("Resource", ""))
    if resource.endswith(":dynamodb:putItem"):
        return total + latency("dynamodb")
    if resource.endswith(":events:putEvents"):
        return total + latency("eventbridge")
    if resource in TASK_SERVICES:
        return (
            total
            + latency("lambda_invoke")
            + latency("lambda_cpu")
            + sum(map(latency, TASK_SERVICES[resource]))
        )
    raise ValueError(f"no latency stated for task resource {resource!r}")


def path_ms(walked: PathWalk, own_ms: Callable[[Mapping[str, Any]], float] = state_ms) -> float:
    """Sequence = sum; Parallel = its own time plus the maximum over its branches (recursively)."""

    def along(states: list[str]) -> float:
        total = 0.0
        for name in states:
            total += own_ms(walked.specs[name])
            if name in walked.branches:
                total += max((along(branch) for branch in walked.branches[name]), default=0.0)
        return total

    return along(walked.top)


@dataclass(frozen=True)
class Design:
    key: str
    label: str
    file: Path
    choices: dict[str, str]


DESIGNS = (
    Design("original", "original sample (strictly sequential)", ORIGINAL_ASL, ORIGINAL_PATHS["safe"][1]),
    Design("before", "this workflow before the Parallel states", BEFORE_ASL, BEFORE_SAFE),
    Design("after", "this workflow with the Parallel states", ASL, PATHS["safe"][1]),
)


def measure(designs: tuple[Design, ...] = DESIGNS) -> list[dict[str, Any]]:
    rows = []
    for design in designs:
        walked = walk(json.loads(design.file.read_text(encoding="utf-8")), design.choices)
        rows.append(
            {
                "design": design.key,
                "label": design.label,
                "critical_path_ms": path_ms(walked),
                "states_entered": len(walked.states),
            }
        )
    return rows


def render(rows: list[dict[str, Any]]) -> str:
    by_key = {row["design"]: row["critical_path_ms"] for row in rows}
    body = [
        (
            row["label"],
            row["states_entered"],
            row["critical_path_ms"],
            row["critical_path_ms"] / by_key["original"],
            row["critical_path_ms"] / by_key["before"],
        )
        for row in rows
    ]
    headers = ("auto path (safe review, no person)", "states", "critical path ms", "/ original", "/ before")
    sources = "\n".join(f"  {name}: {ms:g} ms - {source}" for name, (ms, source) in LATENCY_MS.items())
    return table("Critical path on AWS (stated latencies)", headers, body) + "\nLatencies:\n" + sources


def main() -> int:
    print(render(measure()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
