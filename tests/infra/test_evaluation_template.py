"""The evaluation suite in the synthesized template, asserted for intent: what each role may do and
on what, the definition's substitutions (the map's concurrency from the config), the bucket's
encryption, TLS and public access, the alarms and outputs, and the completion event that no rule
of the pipeline takes for a review outcome. The definition itself: ``test_evaluation_asl.py``."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from reviewflow.contracts import EVALUATION_COMPLETED, OUTCOME_SOURCE
from tests.infra.conftest import ROOT, Synthesized, cdk_json_context, synthesize
from tests.infra.test_template import actions_on, logical_id, statements

ASL_PATH = ROOT / "statemachines" / "evaluation.asl.json"
FUNCTIONS = {
    "PrepareEvaluationFunctionArn": "EvaluationPrepareEvaluation",
    "EvaluateCaseFunctionArn": "EvaluationEvaluateCase",
    "AggregateEvaluationFunctionArn": "EvaluationAggregateEvaluation",
}
BASELINE = {"logs:CreateLogStream", "logs:PutLogEvents", "xray:PutTraceSegments", "xray:PutTelemetryRecords"}
EXTRA_MODELS = "amazon.nova-pro-v1:0,us.anthropic.claude-3-5-haiku-20241022-v1:0"


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
    (policy,) = (
        r["Properties"]
        for r in synthesized.resources("AWS::S3::BucketPolicy").values()
        if r["Properties"]["Bucket"] == {"Ref": bucket_id}
    )
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
    patterned = [
        r for r in synthesized.resources("AWS::Events::Rule").values() if "EventPattern" in r["Properties"]
    ]
    assert patterned  # the input rule (the insights report's schedule has no pattern)
    for rule in patterned:
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
