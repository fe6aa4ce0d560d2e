"""The in-process runner changes environment values but never the set of keys: moto's interpreter
threads iterate os.environ concurrently, and a key added or removed mid-iteration used to fail a
random task with States.Runtime."""

from __future__ import annotations

import json
import os
import sys
import types
from dataclasses import dataclass, field

import pytest

from reviewflow.contracts import EnvVar
from reviewflow_local.lambda_runner import InProcessLambdaRunner


@dataclass
class FakeFunction:
    function_name: str
    handler: str
    environment_vars: dict[str, str] = field(default_factory=dict)
    memory_size: int = 256
    timeout: int = 30
    function_arn: str = "arn:aws:lambda:us-east-1:123456789012:function:f"


@pytest.fixture
def probe_module(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, object]]:
    seen: list[dict[str, object]] = []
    module = types.ModuleType("runner_env_probe")

    def handler(event: object, context: object) -> dict[str, object]:
        seen.append({"keys": frozenset(os.environ), "table": os.environ.get(EnvVar.APPROVALS_TABLE)})
        return {"ok": True}

    module.handler = handler  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "runner_env_probe", module)
    return seen


def test_invocations_never_add_or_remove_environment_keys(probe_module, monkeypatch) -> None:
    for key in (EnvVar.APPROVALS_TABLE, EnvVar.TOXICITY_PROVIDER):
        monkeypatch.delenv(key, raising=False)
    with_table = FakeFunction("a", "runner_env_probe.handler", {EnvVar.APPROVALS_TABLE: "tbl"})
    without = FakeFunction("b", "runner_env_probe.handler", {EnvVar.TOXICITY_PROVIDER: "local"})
    runner = InProcessLambdaRunner([], overrides={"POWERTOOLS_TRACE_DISABLED": "true"})
    runner.reserve([with_table.environment_vars, without.environment_vars])
    before = frozenset(os.environ)

    body, errored = runner(with_table, json.dumps({}))
    assert not errored and json.loads(body) == {"ok": True}
    runner(without, json.dumps({}))

    assert frozenset(os.environ) == before
    assert probe_module[0]["keys"] == before and probe_module[1]["keys"] == before
    assert probe_module[0]["table"] == "tbl"
    assert probe_module[1]["table"] == ""  # another function's value never leaks in
    assert os.environ[EnvVar.APPROVALS_TABLE] == ""


def test_an_unreserved_key_is_refused_loudly(probe_module) -> None:
    runner = InProcessLambdaRunner([])
    fn = FakeFunction("c", "runner_env_probe.handler", {"REVIEWFLOW_NEVER_RESERVED_KEY": "x"})
    with pytest.raises(RuntimeError, match="not reserved"):
        runner(fn, json.dumps({}))


def test_a_closed_runner_runs_nothing(probe_module) -> None:
    runner = InProcessLambdaRunner([])
    runner.close()
    with pytest.raises(RuntimeError, match="stopped"):
        runner(FakeFunction("d", "runner_env_probe.handler"), json.dumps({}))
    assert probe_module == []
