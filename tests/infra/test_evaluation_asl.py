"""The evaluation workflow's definition against the code: Retry and Catch on every task (the Lambda
tasks with the review workflow's canonical policy), every payload accepted by the model its
function parses, each Lambda task naming the handler the stack puts behind it, every state
reachable, the completion event on every path, the cases as child executions of a distributed
map whose concurrency comes from the config, and asl-validator on the file."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel

from reviewflow.contracts import EVALUATION_COMPLETED, OUTCOME_SOURCE
from reviewflow.handlers import HANDLER_MODULES
from reviewflow.models.evaluation_steps import (
    AggregateRequest,
    CaseTask,
    EvaluationCompleted,
    PreparedEvaluation,
    PrepareRequest,
)
from tests.infra.conftest import ROOT, assert_asl_validates, cdk_json_context
from tests.infra.test_template import walk_states
from tests.unit.core.test_workflow_contract import HANDLER_COMMENT, LAMBDA_TASK_RETRY, _policy

ASL_PATH = ROOT / "statemachines" / "evaluation.asl.json"
ASL: dict[str, Any] = json.loads(ASL_PATH.read_text(encoding="utf-8"))
STATES = dict(walk_states(ASL["States"]))
PUBLISH_RETRY = [
    {
        "ErrorEquals": ["States.ALL"],
        "IntervalSeconds": 1,
        "BackoffRate": 2.0,
        "MaxAttempts": 6,
        "MaxDelaySeconds": 30,
        "JitterStrategy": "FULL",
    }
]


def _tasks() -> list[tuple[str, dict[str, Any]]]:
    return [(name, state) for name, state in STATES.items() if state["Type"] == "Task"]


def _lambda_tasks() -> list[tuple[str, dict[str, Any]]]:
    return [(name, s) for name, s in _tasks() if re.fullmatch(r"\$\{\w+FunctionArn\}", s["Resource"])]


def _keys(parameters: dict[str, Any]) -> set[str]:
    return {key.removesuffix(".$") for key in parameters}


def _accepts(model: type[BaseModel], parameters: dict[str, Any], where: str) -> None:
    keys = _keys(parameters)
    assert keys <= set(model.model_fields), f"{where} sends {keys - set(model.model_fields)}"
    required = {name for name, f in model.model_fields.items() if f.is_required()}
    assert required <= keys, f"{where} omits {required - keys}"


# --- the definition against the code -----------------------------------------------------------


@pytest.mark.parametrize(("name", "state"), _tasks(), ids=[n for n, _ in _tasks()])
def test_every_task_retries_and_catches_everything(name: str, state: dict[str, Any]) -> None:
    assert state.get("Retry"), f"{name} has no Retry"
    assert any("States.ALL" in c["ErrorEquals"] for c in state.get("Catch", [])), f"{name}: no catch-all"
    expected = LAMBDA_TASK_RETRY if (name, state) in _lambda_tasks() else PUBLISH_RETRY
    assert _policy(state["Retry"]) == _policy(expected), f"{name}: not the canonical Retry"


def test_the_payloads_are_what_the_functions_parse() -> None:
    _accepts(PrepareRequest, STATES["PrepareEvaluation"]["Parameters"], "PrepareEvaluation")
    for name in ("EvaluateCase", "RecordCaseFailure"):
        parameters = STATES[name]["Parameters"]
        _accepts(CaseTask, parameters, name)
        assert (
            CaseTask.model_validate(
                {
                    **{key.removesuffix(".$"): None for key in parameters},
                    "mode": parameters["mode"],
                    "evaluation_id": "e",
                    "dataset": {"bucket": "bkt", "key": "datasets/d"},
                    "dataset_etag": "x",
                    "case_index": 0,
                    "candidate": {"name": "c", "model_id": "m", "prompt_version": "v1"},
                    "judge": "rule",
                    "bands": {"low": 0.4, "high": 0.6},
                    "error": "ProviderTimeoutError",
                }
            ).mode
            == parameters["mode"]
        )
    assert STATES["RecordCaseFailure"]["Parameters"]["error.$"] == "$.error.Error"  # the name, not the Cause
    _accepts(AggregateRequest, STATES["AggregateEvaluation"]["Parameters"], "AggregateEvaluation")
    # The child executions get only what the prepared evaluation holds, plus the bands.
    selected = _keys(STATES["EvaluateCases"]["ItemSelector"]) - {"case_index", "bands"}
    assert selected <= set(PreparedEvaluation.model_fields)
    inner = _keys(STATES["EvaluateCandidates"]["ItemSelector"])
    assert inner <= set(CaseTask.model_fields)
    for name in ("NamedEvaluationFailed", "UnnamedEvaluationFailed", "AggregationFailed"):
        _accepts(EvaluationCompleted, STATES[name]["Parameters"], name)
        assert STATES[name]["Parameters"]["status"] == "failed"
        assert STATES[name]["Parameters"]["error_type.$"] == "$.error.Error"


@pytest.fixture(scope="module")
def suite_handlers() -> dict[str, str]:
    """``EvaluateCaseFunctionArn`` -> ``evaluate_case``, as the construct wires it (no synth)."""
    import aws_cdk as cdk
    from aws_cdk import aws_events as events
    from aws_cdk import aws_sns as sns

    from stacks.config import ReviewflowConfig
    from stacks.constructs.evaluation import EvaluationSuite
    from stacks.constructs.functions import Functions

    app = cdk.App(context={**cdk_json_context(), "aws:cdk:disable-asset-staging": True})
    stack = cdk.Stack(app, "HandlerMap")
    config = ReviewflowConfig.from_context(app.node)
    suite = EvaluationSuite(
        stack,
        "Evaluation",
        config=config,
        functions=Functions(stack, "Functions", config=config),
        bus=events.EventBus(stack, "Bus"),
        alarm_topic=sns.Topic(stack, "Alarms"),
        state_machine_name="handler-map",
    )
    found = {}
    for key, function in suite.task_functions.items():
        handler = stack.resolve(function.node.default_child.handler)  # type: ignore[union-attr]
        found[key] = re.fullmatch(r"reviewflow\.handlers\.(\w+)\.handler", handler).group(1)  # type: ignore[union-attr]
    return found


@pytest.mark.parametrize(("name", "state"), _lambda_tasks(), ids=[n for n, _ in _lambda_tasks()])
def test_every_lambda_task_names_the_handler_behind_it(
    name: str, state: dict[str, Any], suite_handlers: dict[str, str]
) -> None:
    match = HANDLER_COMMENT.search(state.get("Comment", ""))
    assert match, f'{name}: its Comment must end with "handler: reviewflow.handlers.<module>"'
    substitution = state["Resource"][2:-1]
    assert match.group(1) == suite_handlers[substitution], f"{name} names {match.group(1)}"
    assert match.group(1) in HANDLER_MODULES


def test_only_lambda_tasks_name_a_handler_and_every_state_is_reachable() -> None:
    lambda_tasks = {name for name, _ in _lambda_tasks()}
    for name, state in STATES.items():
        if name not in lambda_tasks:
            assert "handler:" not in state.get("Comment", ""), name

    def reachable(states: dict[str, Any], start: str) -> set[str]:
        seen, todo = set(), [start]
        while todo:
            name = todo.pop()
            if name not in seen:
                seen.add(name)
                state = states[name]
                todo += [t for t in (state.get("Next"), state.get("Default")) if t]
                todo += [c["Next"] for c in state.get("Choices", []) + state.get("Catch", [])]
                processor = state.get("ItemProcessor")
                if processor:
                    assert reachable(processor["States"], processor["StartAt"]) == set(processor["States"])
        return seen

    assert reachable(ASL["States"], ASL["StartAt"]) == set(ASL["States"])


def test_the_completion_event_is_the_contract_s_and_every_path_publishes_it() -> None:
    (entry,) = STATES["PublishEvaluationCompleted"]["Parameters"]["Entries"]
    assert (entry["Source"], entry["DetailType"], entry["Detail.$"]) == (
        OUTCOME_SOURCE,
        EVALUATION_COMPLETED,
        "$.completion",
    )
    ways_in = [n for n, s in STATES.items() if s.get("Next") == "PublishEvaluationCompleted"]
    assert sorted(ways_in) == [
        "AggregateEvaluation",
        "AggregationFailed",
        "NamedEvaluationFailed",
        "UnnamedEvaluationFailed",
    ]
    # A failure is announced, then fails the execution, so the failed-evaluation alarm fires.
    choice = STATES["DidTheEvaluationComplete"]
    assert STATES[choice["Default"]]["Type"] == "Fail"
    assert STATES[STATES["PublishEvaluationCompleted"]["Catch"][0]["Next"]]["Type"] == "Fail"


def test_cases_run_as_child_executions_whose_output_is_discarded() -> None:
    cases = STATES["EvaluateCases"]
    assert cases["ItemProcessor"]["ProcessorConfig"] == {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"}
    assert cases["ItemsPath"] == "$.case_indexes"  # indexes, never the cases
    assert cases["MaxConcurrencyPath"] == "$.settings.max_concurrency"
    assert cases["ResultPath"] is None and STATES["EvaluateCandidates"]["OutputPath"] is None
    assert cases["Catch"][0]["Next"] == "AggregateEvaluation"  # the aggregate counts what is missing
    assert "'${EvaluationMaxConcurrency}'" in STATES["LoadSettings"]["Parameters"]["max_concurrency.$"]
    assert not re.search(r'"MaxConcurrency"\s*:', ASL_PATH.read_text()), "concurrency comes from the config"


def test_asl_validator_passes_on_the_file_and_on_the_substituted_definition(tmp_path: Path) -> None:
    values = {
        "EventBusName": "reviewflow-reviews",
        "LowThreshold": "0.4",
        "HighThreshold": "0.6",
        "EvaluationMaxConcurrency": "4",
    }
    assert_asl_validates(ASL_PATH, values, tmp_path)
