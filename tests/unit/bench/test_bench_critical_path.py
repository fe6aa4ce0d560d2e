"""The critical-path walker on small definitions: sequence adds, Parallel takes its slowest branch."""

from __future__ import annotations

from typing import Any

from bench.critical_path import DESIGNS, measure, path_ms
from bench.workflow_paths import walk


def _task(ms: int, **rest: Any) -> dict[str, Any]:
    return {"Type": "Task", "Resource": f"ms:{ms}", **rest}


def _own(spec: Any) -> float:
    return float(spec["Resource"].split(":")[1]) if spec["Type"] == "Task" else 1.0


def test_a_sequence_adds_up() -> None:
    asl = {"StartAt": "A", "States": {"A": _task(10, Next="B"), "B": _task(20, End=True)}}
    assert path_ms(walk(asl, {}), _own) == 30


def test_a_parallel_costs_its_slowest_branch_even_nested() -> None:
    inner = {
        "Type": "Parallel",
        "Branches": [
            {"StartAt": "C", "States": {"C": _task(100, End=True)}},
            {"StartAt": "D", "States": {"D": _task(5, Next="E"), "E": _task(5, End=True)}},
        ],
        "End": True,
    }
    asl = {
        "StartAt": "P",
        "States": {
            "P": {
                "Type": "Parallel",
                "Branches": [
                    {"StartAt": "A", "States": {"A": _task(50, End=True)}},
                    {"StartAt": "Q", "States": {"Q": inner}},
                ],
                "Next": "Z",
            },
            "Z": _task(7, End=True),
        },
    }
    # P (1) + max(A 50, Q (1) + max(C 100, D+E 10)) + Z 7
    assert path_ms(walk(asl, {}), _own) == 1 + 101 + 7


def test_the_parallel_states_shorten_this_workflows_auto_path() -> None:
    rows = {row["design"]: row for row in measure(DESIGNS)}
    assert rows["after"]["critical_path_ms"] < rows["before"]["critical_path_ms"]
    assert rows["after"]["states_entered"] > rows["before"]["states_entered"]
