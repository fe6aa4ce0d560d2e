"""The ASL and the handler models must agree: every payload the workflow builds is accepted by the
model its function parses, and every path it reads is a field the models write."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from pydantic import BaseModel

from reviewflow.models.events import ToxicityScore
from reviewflow.models.steps import (
    ApprovalRequest,
    OutcomeRequest,
    ResponseRequest,
    SentimentRequest,
    TaskDecision,
    ToxicityRequest,
    ValidateRequest,
    WorkflowState,
)

ASL_PATH = Path(__file__).resolve().parents[3] / "statemachines" / "review_response.asl.json"
ASL = json.loads(ASL_PATH.read_text())
STATES: dict[str, dict] = ASL["States"]

REQUEST_MODELS: dict[str, type[BaseModel]] = {
    "${ValidateReviewFunctionArn}": ValidateRequest,
    "${ScoreToxicityFunctionArn}": ToxicityRequest,
    "${DetectSentimentFunctionArn}": SentimentRequest,
    "${GenerateResponseFunctionArn}": ResponseRequest,
    "${BuildOutcomeFunctionArn}": OutcomeRequest,
}


def _keys(parameters: dict) -> set[str]:
    return {key.removesuffix(".$") for key in parameters}


def _tasks() -> list[tuple[str, dict]]:
    return [(name, s) for name, s in STATES.items() if s["Type"] == "Task"]


@pytest.mark.parametrize(("name", "state"), _tasks(), ids=[n for n, _ in _tasks()])
def test_every_task_payload_matches_its_model_and_has_a_catch(name: str, state: dict) -> None:
    assert state.get("Catch"), f"{name} has no Catch: an error would lose the review's outcome"
    resource = state["Resource"]
    if resource in REQUEST_MODELS:
        model = REQUEST_MODELS[resource]
        keys = _keys(state["Parameters"])
        assert keys <= set(model.model_fields), f"{name} sends fields {keys - set(model.model_fields)}"
        required = {n for n, f in model.model_fields.items() if f.is_required()}
        assert required <= keys, f"{name} omits required {required - keys}"
    elif resource.endswith("lambda:invoke.waitForTaskToken"):
        assert state["Parameters"]["FunctionName"] == "${RequestApprovalFunctionArn}"
        keys = _keys(state["Parameters"]["Payload"])
        assert keys <= set(ApprovalRequest.model_fields)
        assert {n for n, f in ApprovalRequest.model_fields.items() if f.is_required()} <= keys
        assert "TimeoutSecondsPath" in state or "TimeoutSeconds" in state
        assert any("States.Timeout" in c["ErrorEquals"] for c in state["Catch"])
    else:
        assert resource.startswith("arn:aws:states:::"), f"{name}: unexpected resource {resource}"


def test_every_choice_has_a_default() -> None:
    choices = [n for n, s in STATES.items() if s["Type"] == "Choice"]
    assert choices
    assert all("Default" in STATES[n] for n in choices)


def test_result_paths_are_fields_of_the_workflow_state() -> None:
    paths = {
        s["ResultPath"].removeprefix("$.")
        for s in STATES.values()
        if isinstance(s.get("ResultPath"), str) and s["ResultPath"] != "$"
    }
    runtime_only = {"settings", "outcome", "outcome_error", "published", "publish_error"}
    assert paths - runtime_only <= set(WorkflowState.model_fields)


def test_choices_read_fields_the_models_write() -> None:
    owners = {
        "review_toxicity": ToxicityScore,
        "response_toxicity": ToxicityScore,
        "review_decision": TaskDecision,
        "response_decision": TaskDecision,
    }
    for state in STATES.values():
        for rule in state.get("Choices", []):
            parts = rule["Variable"].removeprefix("$.").split(".")
            if parts[0] in owners:
                assert parts[1] in owners[parts[0]].model_fields, rule["Variable"]


def test_thresholds_are_never_literals() -> None:
    text = ASL_PATH.read_text()
    assert "${LowThreshold}" in text and "${HighThreshold}" in text
    assert not re.search(r'"Numeric\w+"\s*:\s*[0-9.]+', text), "thresholds must come from the config"


def test_every_state_is_reachable_and_every_next_exists() -> None:
    seen, todo = set(), [ASL["StartAt"]]
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        state = STATES[name]
        targets = [state.get("Next"), state.get("Default")]
        targets += [c["Next"] for c in state.get("Choices", []) + state.get("Catch", [])]
        todo += [t for t in targets if t]
    assert seen == set(STATES)
