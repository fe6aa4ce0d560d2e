"""The ASL and the code must agree: every payload the workflow builds is accepted by the model its
function parses, every path it reads is a field the models write, every Lambda task retries with
the one policy, every error name it matches is one the code raises, and every Lambda task names
the handler module the stack runs behind it."""

from __future__ import annotations

import importlib
import inspect
import json
import re
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel

from reviewflow import errors
from reviewflow.domain.insights import InsightsRequest
from reviewflow.domain.publish_gate import band_of
from reviewflow.errors import RETRYABLE_ERROR_NAMES, ProviderThrottledError, ProviderTimeoutError
from reviewflow.handlers import HANDLER_MODULES
from reviewflow.models.events import ToxicityScore
from reviewflow.models.replies import Bands, ReplyCheck
from reviewflow.models.steps import (
    ApprovalRequest,
    OutcomeRequest,
    PublishGateRequest,
    ReplyCheckRequest,
    ResponseRequest,
    SentimentRequest,
    TaskDecision,
    ToxicityRequest,
    ValidateRequest,
    WorkflowState,
)

ROOT = Path(__file__).resolve().parents[3]
ASL_PATH = ROOT / "statemachines" / "review_response.asl.json"
ASL = json.loads(ASL_PATH.read_text())


def _all_states(states: dict[str, dict]) -> dict[str, dict]:
    """Every state, with the ones inside Parallel branches (names are unique across the machine)."""
    found: dict[str, dict] = {}
    for name, state in states.items():
        found[name] = state
        for branch in state.get("Branches", []):
            found.update(_all_states(branch["States"]))
    return found


STATES: dict[str, dict] = _all_states(ASL["States"])

REQUEST_MODELS: dict[str, type[BaseModel]] = {
    "${ValidateReviewFunctionArn}": ValidateRequest,
    "${ScoreToxicityFunctionArn}": ToxicityRequest,
    "${DetectSentimentFunctionArn}": SentimentRequest,
    "${GenerateResponseFunctionArn}": ResponseRequest,
    "${BuildOutcomeFunctionArn}": OutcomeRequest,
    "${ExtractInsightsFunctionArn}": InsightsRequest,
}


def _request_model(state: dict) -> type[BaseModel] | None:
    """The model the state's function parses its payload with (check_reply has two modes)."""
    if state["Resource"] == "${CheckReplyFunctionArn}":
        return PublishGateRequest if state["Parameters"].get("mode") == "publish" else ReplyCheckRequest
    return REQUEST_MODELS.get(state["Resource"])


def _rules(rules: list[dict]) -> list[dict]:
    """Every comparison of a Choice, with the ones nested in And / Or / Not."""
    flat = []
    for rule in rules:
        nested = rule.get("And", []) + rule.get("Or", []) + ([rule["Not"]] if "Not" in rule else [])
        flat += _rules(nested) if nested else [rule]
    return flat


def _keys(parameters: dict) -> set[str]:
    return {key.removesuffix(".$") for key in parameters}


def _tasks() -> list[tuple[str, dict]]:
    return [(name, s) for name, s in STATES.items() if s["Type"] == "Task"]


@pytest.mark.parametrize(("name", "state"), _tasks(), ids=[n for n, _ in _tasks()])
def test_every_task_payload_matches_its_model_and_has_a_catch(name: str, state: dict) -> None:
    assert state.get("Catch"), f"{name} has no Catch: an error would lose the review's outcome"
    resource = state["Resource"]
    model = _request_model(state)
    if model is not None:
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
    # The speculative sentiment (and its error) is kept out of WorkflowState on purpose: it is only
    # adopted, as ``sentiment``, once the review is cleared; a harmful outcome never carries it.
    runtime_only |= {"speculative_sentiment", "speculative_sentiment_error", "insights_error"}
    assert paths - runtime_only <= set(WorkflowState.model_fields)


def test_choices_read_fields_the_models_write() -> None:
    owners = {
        "review_toxicity": ToxicityScore,
        "response_toxicity": ToxicityScore,
        "review_decision": TaskDecision,
        "response_decision": TaskDecision,
        "draft_check": ReplyCheck,
        "reply_check": ReplyCheck,
    }
    for state in STATES.values():
        for rule in _rules(state.get("Choices", [])):
            parts = rule["Variable"].removeprefix("$.").split(".")
            if parts[0] in owners and len(parts) > 1:
                assert parts[1] in owners[parts[0]].model_fields, rule["Variable"]


def test_the_review_band_choice_and_the_publish_gate_draw_the_same_bands() -> None:
    """ReviewToxicityBand (in the ASL) and band_of (the gate, for replies) must agree at the edges."""
    rules = STATES["ReviewToxicityBand"]["Choices"]
    harmful = next(i for i, r in enumerate(rules) if r.get("NumericGreaterThanPath") == "$.settings.high")
    person = next(i for i, r in enumerate(rules) if r.get("NumericGreaterThanEqualsPath") == "$.settings.low")
    unscorable = next(i for i, r in enumerate(rules) if r.get("Variable") == "$.review_toxicity.scorable")
    assert rules[unscorable]["BooleanEquals"] is False
    assert rules[unscorable]["Next"] == rules[person]["Next"] != rules[harmful]["Next"]
    assert unscorable < harmful < person  # unscorable first, then above high wins over >= low
    bands = Bands(low=0.4, high=0.6)

    def band(score: float | None) -> str:
        return band_of(ToxicityScore(score=score, scorable=score is not None, provider="t"), bands)

    assert [band(s) for s in (0.39, 0.4, 0.6, 0.61, None)] == [
        "safe",
        "uncertain",
        "uncertain",
        "harmful",
        "unscorable",
    ]


def test_thresholds_are_never_literals() -> None:
    text = ASL_PATH.read_text()
    assert "${LowThreshold}" in text and "${HighThreshold}" in text
    assert not re.search(r'"Numeric\w+"\s*:\s*[0-9.]+', text), "thresholds must come from the config"


def test_every_state_is_reachable_and_every_next_exists() -> None:
    seen: set[str] = set()
    todo = [ASL["StartAt"]]
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        state = STATES[name]
        targets = [state.get("Next"), state.get("Default")]
        targets += [c["Next"] for c in state.get("Choices", []) + state.get("Catch", [])]
        targets += [branch["StartAt"] for branch in state.get("Branches", [])]
        todo += [t for t in targets if t]
    assert seen == set(STATES)


# ----------------------------------------------------------------------------- Retry policy

#: Lambda's own failures as Step Functions names them: worth retrying whatever the function does.
LAMBDA_SERVICE_ERRORS = ("Lambda.ServiceException", "Lambda.AWSLambdaException", "Lambda.SdkClientException")
THROTTLED = ProviderThrottledError.__name__
TIMED_OUT = ProviderTimeoutError.__name__

#: Every synchronous Lambda task: throttling backs off longer and more often than a transient fault.
LAMBDA_TASK_RETRY: list[dict[str, Any]] = [
    {
        "ErrorEquals": [THROTTLED, "Lambda.TooManyRequestsException"],
        "IntervalSeconds": 1,
        "BackoffRate": 2.0,
        "MaxAttempts": 5,
        "MaxDelaySeconds": 20,
        "JitterStrategy": "FULL",
    },
    {
        "ErrorEquals": [TIMED_OUT, *LAMBDA_SERVICE_ERRORS, "Lambda.Unknown"],
        "IntervalSeconds": 1,
        "BackoffRate": 2.0,
        "MaxAttempts": 3,
        "MaxDelaySeconds": 10,
        "JitterStrategy": "FULL",
    },
]

#: Every human-review task (``waitForTaskToken``): each attempt stores an approval and emails the
#: reviewer, so fewer attempts, and not on ``Lambda.Unknown`` (the function may have sent its email).
TASK_TOKEN_RETRY: list[dict[str, Any]] = [
    {
        "ErrorEquals": [THROTTLED, TIMED_OUT, "Lambda.TooManyRequestsException", *LAMBDA_SERVICE_ERRORS],
        "IntervalSeconds": 1,
        "BackoffRate": 2.0,
        "MaxAttempts": 3,
        "JitterStrategy": "FULL",
    },
]


def _function_substitution(state: dict) -> str | None:
    """``ScoreToxicityFunctionArn`` for a task that invokes one of our functions, else None."""
    if state["Type"] != "Task":
        return None
    resource = state["Resource"]
    if resource.startswith("arn:aws:states:::lambda:invoke"):
        resource = state["Parameters"]["FunctionName"]
    match = re.fullmatch(r"\$\{(\w+FunctionArn)\}", resource)
    return match.group(1) if match else None


#: The insight branch runs beside the reply and the Parallel waits for it, so it retries once, on
#: throttling only: a slow or failing extractor must never delay the reply by the full policy.
INSIGHT_TASK_RETRY: list[dict[str, Any]] = [
    {
        "ErrorEquals": [THROTTLED, "Lambda.TooManyRequestsException"],
        "IntervalSeconds": 1,
        "BackoffRate": 2.0,
        "MaxAttempts": 1,
        "JitterStrategy": "FULL",
    }
]
BOUNDED_TASKS = {"ExtractInsights"}


def _lambda_tasks() -> list[tuple[str, dict]]:
    return [(name, s) for name, s in STATES.items() if _function_substitution(s)]


def _policy(retry: list[dict]) -> list[dict]:
    """A Retry list as Step Functions reads it: retriers in order, the names of each as a set."""
    return [{**r, "ErrorEquals": sorted(r["ErrorEquals"])} for r in retry]


@pytest.mark.parametrize(("name", "state"), _lambda_tasks(), ids=[n for n, _ in _lambda_tasks()])
def test_every_lambda_task_retries_with_the_canonical_policy(name: str, state: dict) -> None:
    waits = state["Resource"].endswith(".waitForTaskToken")
    expected, which = (
        (TASK_TOKEN_RETRY, "TASK_TOKEN_RETRY") if waits else (LAMBDA_TASK_RETRY, "LAMBDA_TASK_RETRY")
    )
    if name in BOUNDED_TASKS:
        expected, which = INSIGHT_TASK_RETRY, "INSIGHT_TASK_RETRY"
    assert _policy(state.get("Retry", [])) == _policy(expected), (
        f"{name}: its Retry is not {which}; change the state (or the policy, for every task) — "
        f"found {json.dumps(state.get('Retry'), indent=1)}"
    )


def test_the_canonical_policies_retry_exactly_the_retryable_errors() -> None:
    for policy in (LAMBDA_TASK_RETRY, TASK_TOKEN_RETRY):
        custom = {n for r in policy for n in r["ErrorEquals"] if "." not in n}
        assert custom == set(RETRYABLE_ERROR_NAMES)
    flagged = {cls.__name__ for cls in _error_classes() if cls.retryable}
    assert flagged == set(RETRYABLE_ERROR_NAMES), "errors.retryable and RETRYABLE_ERROR_NAMES disagree"


def test_there_are_lambda_tasks_of_both_kinds() -> None:
    kinds = {s["Resource"].endswith(".waitForTaskToken") for _, s in _lambda_tasks()}
    assert kinds == {True, False}


# ------------------------------------------------------------------------------ Error names

#: Error classes the workflow does not match by name, and why. Everything else in errors.py must
#: appear in some ErrorEquals.
NOT_MATCHED_BY_THE_WORKFLOW = {
    "ReviewflowError": "the base class: Step Functions matches the class a function raised, never a base",
    "InvalidInputError": "a payload outside a handler's contract fails every attempt alike: the "
    "States.ALL Catch ends the review with its outcome",
    "ConfigurationError": "a misconfigured function fails every attempt alike: the States.ALL Catch "
    "ends the review with its outcome",
    "ProviderError": "a provider failure that retrying will not fix: the States.ALL Catch ends the "
    "review as provider_error",
    "MalformedModelOutputError": "the function has already run its bounded repair loop: the States.ALL "
    "Catch ends the review as provider_error",
    "UnsupportedLanguageError": "an unsupported language comes back as an unscorable score, which a "
    "Choice sends to a person; nothing raises it to the workflow",
    "ApprovalError": "storing or emailing an approval failed for a reason retrying will not fix: the "
    "human-review task's States.ALL Catch ends the review",
    "ExecutionNotWaitingError": "raised to the approval page (SendTaskSuccess after the execution "
    "stopped waiting), which shows 'no longer waiting'; no workflow task raises it",
}

#: Error namespaces AWS defines, and the tasks whose errors may carry them (by service integration).
AWS_NAMESPACES = {"States": None, "Lambda": "lambda", "DynamoDB": "dynamodb"}


def _error_classes() -> list[type[errors.ReviewflowError]]:
    return [
        cls
        for _, cls in inspect.getmembers(errors, inspect.isclass)
        if issubclass(cls, errors.ReviewflowError) and cls.__module__ == errors.__name__
    ]


def _service(state: dict) -> str | None:
    if _function_substitution(state):
        return "lambda"
    match = re.match(r"arn:aws:states:::(\w+):", state.get("Resource", ""))
    return match.group(1) if match else None


def _matched_names() -> list[tuple[str, str]]:
    """(state, name) for every name of every ErrorEquals, in Retry and in Catch."""
    return [
        (state_name, name)
        for state_name, state in STATES.items()
        for rule in state.get("Retry", []) + state.get("Catch", [])
        for name in rule["ErrorEquals"]
    ]


def test_every_error_name_the_workflow_matches_is_raised_by_the_code_or_aws() -> None:
    ours = {cls.__name__ for cls in _error_classes()}
    for state_name, name in _matched_names():
        namespace, dot, _ = name.partition(".")
        if dot:
            assert namespace in AWS_NAMESPACES, f"{state_name}: {name} is in no AWS error namespace"
            service = AWS_NAMESPACES[namespace]
            assert service in (None, _service(STATES[state_name])), (
                f"{state_name}: {name} cannot come from a {_service(STATES[state_name])} task"
            )
        else:
            assert name in ours, f"{state_name}: {name} is not a class in reviewflow/errors.py"


def test_every_error_class_meant_for_the_workflow_is_matched_somewhere() -> None:
    classes = {cls.__name__ for cls in _error_classes()}
    matched = {name for _, name in _matched_names()}
    assert set(NOT_MATCHED_BY_THE_WORKFLOW) <= classes, "the allowlist names a class errors.py lacks"
    assert not set(NOT_MATCHED_BY_THE_WORKFLOW) & matched, "an allowlisted class is matched after all"
    unmatched = classes - matched - set(NOT_MATCHED_BY_THE_WORKFLOW)
    assert not unmatched, f"no ErrorEquals names {sorted(unmatched)}: match them, or say why not"


# ---------------------------------------------------------------------- State -> handler

HANDLER_COMMENT = re.compile(r"(?:^|\s)handler: reviewflow\.handlers\.(\w+)$")


@pytest.fixture(scope="module")
def stack_handlers() -> dict[str, str]:
    """``ScoreToxicityFunctionArn`` -> ``score_toxicity``, as the CDK app wires it: the stack hands
    ``Functions.workflow_tasks`` to the workflow, whose keys are the definition substitutions."""
    import aws_cdk as cdk
    from aws_cdk import aws_events as events
    from aws_cdk import aws_kms as kms

    from stacks.config import ReviewflowConfig
    from stacks.constructs.functions import Functions
    from stacks.constructs.insights import Insights

    context = json.loads((ROOT / "cdk.json").read_text())["context"]
    app = cdk.App(context={**context, "aws:cdk:disable-asset-staging": True})
    stack = cdk.Stack(app, "HandlerMap")
    config = ReviewflowConfig.from_context(app.node)
    functions = Functions(stack, "Functions", config=config)
    bus = events.EventBus(stack, "Bus")
    insights = Insights(
        stack, "Insights", config=config, functions=functions, bus=bus, topic_key=kms.Key(stack, "Key")
    )
    found = {}
    for key, function in {**functions.workflow_tasks, **insights.workflow_tasks}.items():
        handler = stack.resolve(function.node.default_child.handler)
        match = re.fullmatch(r"reviewflow\.handlers\.(\w+)\.handler", handler)
        assert match, f"${{{key}}} runs {handler}, which is no reviewflow handler"
        found[key] = match.group(1)
    return found


@pytest.mark.parametrize(("name", "state"), _lambda_tasks(), ids=[n for n, _ in _lambda_tasks()])
def test_every_lambda_task_names_the_handler_behind_it(
    name: str, state: dict, stack_handlers: dict[str, str]
) -> None:
    match = HANDLER_COMMENT.search(state.get("Comment", ""))
    assert match, f'{name}: its Comment must end with "handler: reviewflow.handlers.<module>"'
    module = match.group(1)
    substitution = _function_substitution(state)
    assert substitution in stack_handlers, f"{name}: the stack passes no function as ${{{substitution}}}"
    assert module == stack_handlers[substitution], (
        f"{name}: the Comment names {module}, but ${{{substitution}}} runs {stack_handlers[substitution]}"
    )
    assert module in HANDLER_MODULES
    assert callable(importlib.import_module(f"reviewflow.handlers.{module}").handler)


def test_only_lambda_tasks_name_a_handler() -> None:
    lambda_tasks = {name for name, _ in _lambda_tasks()}
    for name, state in STATES.items():
        if name not in lambda_tasks:
            assert "handler:" not in state.get("Comment", ""), f"{name} runs no handler"
