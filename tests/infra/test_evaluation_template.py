"""The evaluation suite in the synthesized template, and its workflow definition against the code.

Intent, not counts: what each role may do and on what, the distributed map's concurrency coming
from the config, Retry and Catch on every task (the Lambda tasks with the review workflow's
canonical policy), each Lambda task naming the handler the stack puts behind it, every payload
accepted by the model its function parses, the bucket's encryption, TLS and public access, and
the completion event that no rule of the pipeline takes for a review outcome.
"""

from __future__ import annotations

import json
import re
import subprocess
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
from tests.infra.conftest import ROOT, Synthesized, cdk_json_context, node_tool, synthesize
from tests.infra.test_template import actions_on, logical_id, statements, walk_states
from tests.unit.core.test_workflow_contract import HANDLER_COMMENT, LAMBDA_TASK_RETRY, _policy

ASL_PATH = ROOT / "statemachines" / "evaluation.asl.json"
ASL: dict[str, Any] = json.loads(ASL_PATH.read_text(encoding="utf-8"))
STATES = dict(walk_states(ASL["States"]))
FUNCTIONS = {
    "PrepareEvaluationFunctionArn": "EvaluationPrepareEvaluation",
    "EvaluateCaseFunctionArn": "EvaluationEvaluateCase",
    "AggregateEvaluationFunctionArn": "EvaluationAggregateEvaluation",
}
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
BASELINE = {"logs:CreateLogStream", "logs:PutLogEvents", "xray:PutTraceSegments", "xray:PutTelemetryRecords"}
EXTRA_MODELS = "amazon.nova-pro-v1:0,us.anthropic.claude-3-5-haiku-20241022-v1:0"


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
    validator = node_tool("asl-validator")
    text = ASL_PATH.read_text(encoding="utf-8")
    for key in FUNCTIONS:
        text = text.replace("${" + key + "}", f"arn:aws:lambda:eu-west-1:123456789012:function:{key[:-11]}")
    for key, value in {
        "EventBusName": "reviewflow-reviews",
        "LowThreshold": "0.4",
        "HighThreshold": "0.6",
        "EvaluationMaxConcurrency": "4",
    }.items():
        text = text.replace("${" + key + "}", value)
    assert "${" not in text
    substituted = tmp_path / "evaluation.asl.json"
    substituted.write_text(text, encoding="utf-8")
    for path in (ASL_PATH, substituted):
        result = subprocess.run(
            [str(validator), "--json-path", str(path)],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert result.returncode == 0, f"{path}: {result.stdout}{result.stderr}"


# --- the synthesized template ------------------------------------------------------------------


def machine(synthesized: Synthesized) -> dict[str, Any]:
    props: dict[str, Any] = synthesized.template["Resources"][
        logical_id(synthesized.template, "AWS::StepFunctions::StateMachine", "EvaluationStateMachine")
    ]["Properties"]
    return props


def fn_arn(template: dict[str, Any], prefix: str) -> dict[str, Any]:
    return {"Fn::GetAtt": [logical_id(template, "AWS::Lambda::Function", prefix), "Arn"]}


def objects(template: dict[str, Any], folder: str) -> dict[str, Any]:
    bucket = logical_id(template, "AWS::S3::Bucket", "EvaluationBucket")
    return {"Fn::Join": ["", [{"Fn::GetAtt": [bucket, "Arn"]}, f"/{folder}/*"]]}


@pytest.fixture(scope="module")
def configured(tmp_path_factory: pytest.TempPathFactory) -> Synthesized:
    return synthesize(
        tmp_path_factory.mktemp("cdk.out"),
        {
            **cdk_json_context(),
            "reviewflow:evaluation_max_concurrency": "12",
            "reviewflow:evaluation_model_ids": EXTRA_MODELS,
        },
    )


def test_the_state_machine_is_standard_logged_and_substituted(
    synthesized: Synthesized, configured: Synthesized
) -> None:
    props = machine(synthesized)
    assert props["StateMachineType"] == "STANDARD"
    assert props["StateMachineName"] == "reviewflow-evaluation"
    assert props["LoggingConfiguration"]["IncludeExecutionData"] is False
    assert "DefinitionS3Location" in props
    subs = props["DefinitionSubstitutions"]
    used = set(re.findall(r"\$\{([A-Za-z0-9]+)\}", ASL_PATH.read_text()))
    assert used == set(subs)
    assert (subs["LowThreshold"], subs["HighThreshold"], subs["EvaluationMaxConcurrency"]) == (
        "0.4",
        "0.6",
        "4",
    )
    assert machine(configured)["DefinitionSubstitutions"]["EvaluationMaxConcurrency"] == "12"
    for key, prefix in FUNCTIONS.items():
        assert subs[key] == fn_arn(synthesized.template, prefix)
    assert subs["EventBusName"] == {
        "Ref": logical_id(synthesized.template, "AWS::Events::EventBus", "EventsBus")
    }


def test_the_state_machine_role_invokes_its_functions_publishes_and_runs_its_children(
    synthesized: Synthesized,
) -> None:
    template = synthesized.template
    granted = actions_on(statements(template, "EvaluationStateMachineRole"))
    invoked = granted.pop("lambda:InvokeFunction")
    assert sorted(map(json.dumps, invoked)) == sorted(
        json.dumps(fn_arn(template, p)) for p in FUNCTIONS.values()
    )
    bus = logical_id(template, "AWS::Events::EventBus", "EventsBus")
    assert granted.pop("events:PutEvents") == [{"Fn::GetAtt": [bus, "Arn"]}]
    (start,) = granted.pop("states:StartExecution")
    assert json.dumps(start).endswith(':stateMachine:reviewflow-evaluation"]]}')
    for action in ("states:DescribeExecution", "states:StopExecution"):
        (children,) = granted.pop(action)
        assert json.dumps(children).endswith(':execution:reviewflow-evaluation/*"]]}')
    assert all(resources == ["*"] and a.startswith(("xray:", "logs:")) for a, resources in granted.items())
    # The review workflow's role is not widened by the evaluation suite.
    review = actions_on(statements(template, "WorkflowStateMachineRole"))
    assert not any(a.startswith("states:") for a in review)
    assert not any("Evaluation" in json.dumps(r) for r in review["lambda:InvokeFunction"])


def test_each_function_reads_and_writes_only_its_folders(
    synthesized: Synthesized, configured: Synthesized
) -> None:
    template = synthesized.template
    granted = {
        name: actions_on(statements(template, f"Evaluation{name}Role"))
        for name in ("PrepareEvaluation", "EvaluateCase", "AggregateEvaluation")
    }
    assert set(granted["PrepareEvaluation"]) == BASELINE | {"s3:GetObject"}
    assert granted["PrepareEvaluation"]["s3:GetObject"] == [objects(template, "datasets")]
    case = granted["EvaluateCase"]
    assert set(case) == BASELINE | {
        "s3:GetObject",
        "s3:PutObject",
        "comprehend:DetectToxicContent",
        "bedrock:InvokeModel",
    }
    assert case["s3:GetObject"] == [objects(template, "datasets")]
    assert case["s3:PutObject"] == [objects(template, "results")]
    aggregate = granted["AggregateEvaluation"]
    assert set(aggregate) == BASELINE | {"s3:GetObject", "s3:PutObject", "s3:ListBucket"}
    assert aggregate["s3:GetObject"] == [objects(template, "datasets"), objects(template, "results")]
    assert aggregate["s3:PutObject"] == [objects(template, "reports")]
    (listing,) = [
        s for s in statements(template, "EvaluationAggregateEvaluationRole") if s["Action"] == "s3:ListBucket"
    ]
    assert listing["Condition"] == {"StringLike": {"s3:prefix": ["results/*"]}}
    # Bedrock: the deployment's model, plus the evaluation's models where configured.
    assert "nova-lite" in json.dumps(case["bedrock:InvokeModel"]) and "nova-pro" not in json.dumps(case)
    extra = json.dumps(
        actions_on(statements(configured.template, "EvaluationEvaluateCaseRole"))["bedrock:InvokeModel"]
    )
    assert "foundation-model/amazon.nova-pro-v1:0" in extra
    assert "inference-profile/us.anthropic.claude-3-5-haiku-20241022-v1:0" in extra
    for name in ("PrepareEvaluation", "AggregateEvaluation"):
        assert "bedrock" not in json.dumps(
            actions_on(statements(configured.template, f"Evaluation{name}Role"))
        )


def test_the_functions_are_told_the_bucket_and_the_providers(synthesized: Synthesized) -> None:
    template = synthesized.template
    bucket = {"Ref": logical_id(template, "AWS::S3::Bucket", "EvaluationBucket")}
    for prefix in FUNCTIONS.values():
        props = template["Resources"][logical_id(template, "AWS::Lambda::Function", prefix)]["Properties"]
        assert props["Environment"]["Variables"]["REVIEWFLOW_EVALUATION_BUCKET"] == bucket
        assert props["TracingConfig"] == {"Mode": "Active"}
    case = template["Resources"][logical_id(template, "AWS::Lambda::Function", "EvaluationEvaluateCase")]
    variables = case["Properties"]["Environment"]["Variables"]
    assert variables["REVIEWFLOW_LLM_PROVIDER"] == "bedrock"
    assert variables["REVIEWFLOW_TOXICITY_PROVIDER"] == "comprehend"


def test_the_bucket_is_encrypted_tls_only_private_and_retained(synthesized: Synthesized) -> None:
    template = synthesized.template
    bucket_id = logical_id(template, "AWS::S3::Bucket", "EvaluationBucket")
    bucket = template["Resources"][bucket_id]
    props = bucket["Properties"]
    (rule,) = props["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert rule["ServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"
    assert props["PublicAccessBlockConfiguration"] == dict.fromkeys(
        ("BlockPublicAcls", "BlockPublicPolicy", "IgnorePublicAcls", "RestrictPublicBuckets"), True
    )
    assert bucket["DeletionPolicy"] == "Retain"
    policy = synthesized.one("AWS::S3::BucketPolicy")["Properties"]
    assert policy["Bucket"] == {"Ref": bucket_id}
    (deny,) = policy["PolicyDocument"]["Statement"]
    assert deny["Effect"] == "Deny" and deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    types = {r["Type"] for r in template["Resources"].values()}
    assert not any(t.startswith("Custom::") for t in types), "no auto-delete or other custom resources"


def test_failed_and_timed_out_evaluations_alarm_and_the_outputs_name_the_suite(
    synthesized: Synthesized,
) -> None:
    template = synthesized.template
    machine_ref = {"Ref": logical_id(template, "AWS::StepFunctions::StateMachine", "EvaluationStateMachine")}
    topic = {"Ref": logical_id(template, "AWS::SNS::Topic", "NotificationsAlarmTopic")}
    watched = {
        a["Properties"]["MetricName"]
        for a in synthesized.resources("AWS::CloudWatch::Alarm").values()
        if a["Properties"].get("Dimensions") == [{"Name": "StateMachineArn", "Value": machine_ref}]
        and a["Properties"]["AlarmActions"] == [topic]
    }
    assert watched == {"ExecutionsFailed", "ExecutionsTimedOut"}
    outputs = template["Outputs"]
    assert outputs["EvaluationStateMachineArn"]["Value"] == machine_ref
    assert outputs["EvaluationBucketName"]["Value"] == {
        "Ref": logical_id(template, "AWS::S3::Bucket", "EvaluationBucket")
    }


def test_no_rule_of_the_pipeline_takes_the_completion_event(synthesized: Synthesized) -> None:
    from moto.events.models import EventPattern

    from reviewflow_local.evaluation_runs import completion_pattern
    from reviewflow_local.outcome_tap import tap_pattern

    prefix = "arn:aws:states:us-east-1:123456789012:execution:reviewflow-"
    event = {
        "source": OUTCOME_SOURCE,
        "detail-type": EVALUATION_COMPLETED,
        "detail": {"execution_id": prefix + "evaluation:ev-1", "status": "completed"},
    }
    (rule,) = synthesized.resources("AWS::Events::Rule").values()
    assert not EventPattern.load(json.dumps(rule["Properties"]["EventPattern"])).matches_event(event)
    assert not EventPattern.load(json.dumps(tap_pattern(prefix))).matches_event(event)
    assert EventPattern.load(json.dumps(completion_pattern(prefix + "evaluation:"))).matches_event(event)


def test_the_evaluation_settings_are_validated() -> None:
    from stacks.config import ReviewflowConfig

    base = {"model_id": "us.amazon.nova-lite-v1:0"}
    assert ReviewflowConfig(**base).evaluation_max_concurrency == 4
    for bad in (0, 41):
        with pytest.raises(ValueError, match="evaluation_max_concurrency"):
            ReviewflowConfig(**base, evaluation_max_concurrency=bad)
    with pytest.raises(ValueError, match="not a Bedrock model id"):
        ReviewflowConfig(**base, evaluation_model_ids=["no spaces allowed"])
    config = ReviewflowConfig(**base, evaluation_model_ids="amazon.nova-pro-v1:0, amazon.nova-pro-v1:0")  # type: ignore[arg-type]
    assert config.evaluation_bedrock_model_ids == ["us.amazon.nova-lite-v1:0", "amazon.nova-pro-v1:0"]
    assert (
        ReviewflowConfig(llm_provider="local", evaluation_model_ids=["a.b"]).evaluation_bedrock_model_ids
        == []
    )
