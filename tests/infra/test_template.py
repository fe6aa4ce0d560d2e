"""The synthesized template, asserted for intent: what each resource lets happen, not counts."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import pytest

from tests.infra.conftest import ASL_FILE, Synthesized

FUNCTIONS = (
    "ValidateReview",
    "ScoreToxicity",
    "DetectSentiment",
    "GenerateResponse",
    "CheckReply",
    "RequestApproval",
    "ApprovalApi",
    "BuildOutcome",
)
EVALUATION_FUNCTIONS = (
    "EvaluationPrepareEvaluation",
    "EvaluationEvaluateCase",
    "EvaluationAggregateEvaluation",
)


def logical_id(template: dict[str, Any], type_: str, prefix: str) -> str:
    found = [k for k, r in template["Resources"].items() if r["Type"] == type_ and k.startswith(prefix)]
    assert len(found) == 1, (type_, prefix, found)
    return found[0]


def input_rule(synthesized: Synthesized) -> dict[str, Any]:
    """The rule that starts the workflow (the insights report's schedule is the other rule)."""
    rule: dict[str, Any] = synthesized.template["Resources"][
        logical_id(synthesized.template, "AWS::Events::Rule", "EventsNewReviewRule")
    ]
    return rule


def statements(template: dict[str, Any], role_prefix: str) -> list[dict[str, Any]]:
    """Every statement of the policies attached to the role whose logical id starts with the prefix."""
    role = logical_id(template, "AWS::IAM::Role", role_prefix)
    found = []
    for resource in template["Resources"].values():
        if resource["Type"] != "AWS::IAM::Policy":
            continue
        if {"Ref": role} in resource["Properties"]["Roles"]:
            found.extend(resource["Properties"]["PolicyDocument"]["Statement"])
    return found


def actions_on(stmts: list[dict[str, Any]]) -> dict[str, list[Any]]:
    """action -> resources it is allowed on."""
    granted: dict[str, list[Any]] = {}
    for st in stmts:
        assert st["Effect"] == "Allow"
        actions = st["Action"] if isinstance(st["Action"], list) else [st["Action"]]
        resources = st["Resource"] if isinstance(st["Resource"], list) else [st["Resource"]]
        for action in actions:
            granted.setdefault(action, []).extend(resources)
    return granted


def walk_states(states: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    for name, state in states.items():
        yield name, state
        for branch in state.get("Branches", []):
            yield from walk_states(branch["States"])
        for key in ("ItemProcessor", "Iterator"):
            if key in state:
                yield from walk_states(state[key]["States"])


# --- events ------------------------------------------------------------------------------------


def test_rule_matches_only_posted_reviews_from_the_configured_source(synthesized: Synthesized) -> None:
    rule = input_rule(synthesized)["Properties"]
    assert rule["EventPattern"] == {"source": ["reviews.storefront"], "detail-type": ["NEW_REVIEW_POSTED"]}
    assert rule["EventBusName"] == {
        "Ref": logical_id(synthesized.template, "AWS::Events::EventBus", "EventsBus")
    }


def test_outcome_events_never_match_the_rule(synthesized: Synthesized) -> None:
    from moto.events.models import EventPattern

    pattern = EventPattern.load(json.dumps(input_rule(synthesized)["Properties"]["EventPattern"]))
    posted = {"source": "reviews.storefront", "detail-type": "NEW_REVIEW_POSTED", "detail": {}}
    assert pattern.matches_event(posted)
    for detail_type in (
        "NEW_REVIEW_RESPONSE_CREATED",
        "HARMFUL_CONTENT_DETECTED",
        "RESPONSE_GENERATION_FAILED",
    ):
        outcome = {"source": "reviews.response-pipeline", "detail-type": detail_type, "detail": {}}
        assert not pattern.matches_event(outcome)
    # Even an outcome-source event carrying the input detail-type does not start a workflow.
    assert not pattern.matches_event({**posted, "source": "reviews.response-pipeline"})


def test_rule_target_is_the_state_machine_with_retries_and_a_dead_letter_queue(
    synthesized: Synthesized,
) -> None:
    template = synthesized.template
    (target,) = input_rule(synthesized)["Properties"]["Targets"]
    assert target["Arn"] == {"Ref": logical_id(template, "AWS::StepFunctions::StateMachine", "Workflow")}
    assert "Input" not in target and "InputPath" not in target and "InputTransformer" not in target
    assert target["RetryPolicy"] == {"MaximumEventAgeInSeconds": 7200, "MaximumRetryAttempts": 8}
    dlq = logical_id(template, "AWS::SQS::Queue", "EventsInputDeadLetterQueue")
    assert target["DeadLetterConfig"] == {"Arn": {"Fn::GetAtt": [dlq, "Arn"]}}
    queue = template["Resources"][dlq]["Properties"]
    assert queue["SqsManagedSseEnabled"] is True
    # EventBridge may send to the DLQ; the events role may only start this state machine.
    policy = synthesized.one("AWS::SQS::QueuePolicy")["Properties"]["PolicyDocument"]["Statement"]
    assert any(
        st.get("Principal") == {"Service": "events.amazonaws.com"} and st["Action"] == "sqs:SendMessage"
        for st in policy
    )
    events_role = actions_on(statements(template, "WorkflowStateMachineEventsRole"))
    assert events_role == {
        "states:StartExecution": [
            {"Ref": logical_id(template, "AWS::StepFunctions::StateMachine", "Workflow")}
        ]
    }


# --- workflow ----------------------------------------------------------------------------------


def review_machine(synthesized: Synthesized) -> dict[str, Any]:
    """The review workflow's properties (the evaluation suite's is in test_evaluation_template.py)."""
    logical = logical_id(synthesized.template, "AWS::StepFunctions::StateMachine", "Workflow")
    props: dict[str, Any] = synthesized.template["Resources"][logical]["Properties"]
    return props


@pytest.fixture(scope="module")
def definition(synthesized: Synthesized) -> dict[str, Any]:
    """The ASL as Step Functions will see it: the file with the template's substitutions applied."""
    machine = review_machine(synthesized)
    text = ASL_FILE.read_text(encoding="utf-8")
    used = set(re.findall(r"\$\{([A-Za-z0-9]+)\}", text))
    substitutions = machine["DefinitionSubstitutions"]
    assert used <= set(substitutions), f"not substituted: {sorted(used - set(substitutions))}"
    for key, value in substitutions.items():
        # Tokens (Fn::GetAtt/Ref) become recognisable ARN-like placeholders.
        placeholder = (
            value if isinstance(value, str) else f"arn:aws:lambda:us-east-1:123456789012:function:{key}"
        )
        text = text.replace("${" + key + "}", placeholder)
    assert "${" not in text
    parsed: dict[str, Any] = json.loads(text)
    return parsed


def test_state_machine_is_standard_traced_and_logged_without_execution_data(synthesized: Synthesized) -> None:
    machine = review_machine(synthesized)
    assert machine["StateMachineType"] == "STANDARD"
    assert machine["StateMachineName"] == "reviewflow-review-response"
    assert machine["TracingConfiguration"] == {"Enabled": True}
    assert machine["LoggingConfiguration"]["Level"] == "ALL"
    assert machine["LoggingConfiguration"]["IncludeExecutionData"] is False  # task tokens stay out of logs
    assert "DefinitionS3Location" in machine  # DefinitionBody.from_file, not an inlined copy


def test_substitutions_carry_the_configured_values(synthesized: Synthesized) -> None:
    template = synthesized.template
    subs = review_machine(synthesized)["DefinitionSubstitutions"]
    assert subs["LowThreshold"] == "0.4"
    assert subs["HighThreshold"] == "0.6"
    assert subs["ApprovalTimeoutSeconds"] == "172800"
    assert subs["ApprovalsTableName"] == {
        "Ref": logical_id(template, "AWS::DynamoDB::Table", "ApprovalsTable")
    }
    assert subs["EventBusName"] == {"Ref": logical_id(template, "AWS::Events::EventBus", "EventsBus")}
    for key, fn in {
        "ValidateReviewFunctionArn": "ValidateReview",
        "ScoreToxicityFunctionArn": "ScoreToxicity",
        "DetectSentimentFunctionArn": "DetectSentiment",
        "GenerateResponseFunctionArn": "GenerateResponse",
        "RequestApprovalFunctionArn": "RequestApproval",
        "BuildOutcomeFunctionArn": "BuildOutcome",
    }.items():
        assert subs[key] == {
            "Fn::GetAtt": [logical_id(template, "AWS::Lambda::Function", f"Functions{fn}"), "Arn"]
        }


def test_definition_has_a_workflow_timeout_outlasting_two_approvals(definition: dict[str, Any]) -> None:
    assert definition["TimeoutSeconds"] >= (2 + 2) * 172_800 + 3_600  # review, first draft, 2 new drafts
    assert "QueryLanguage" not in definition or definition["QueryLanguage"] == "JSONPath"


def test_every_task_has_a_catch_and_every_choice_a_default(definition: dict[str, Any]) -> None:
    tasks = choices = 0
    for name, state in walk_states(definition["States"]):
        if state["Type"] == "Task":
            tasks += 1
            catchers = state.get("Catch", [])
            assert any("States.ALL" in c["ErrorEquals"] for c in catchers), f"{name} has no catch-all Catch"
        if state["Type"] == "Choice":
            choices += 1
            assert state.get("Default"), f"Choice {name} has no Default"
    assert tasks >= 8 and choices >= 3


def test_wait_for_token_tasks_have_timeouts(definition: dict[str, Any]) -> None:
    waits = [
        (name, s)
        for name, s in walk_states(definition["States"])
        if s["Type"] == "Task" and s["Resource"].endswith(".waitForTaskToken")
    ]
    assert waits, "no human-review task found"
    for name, state in waits:
        assert "TimeoutSeconds" in state or "TimeoutSecondsPath" in state, name
        assert state["Parameters"]["FunctionName"].endswith(":function:RequestApprovalFunctionArn")
        assert any("States.Timeout" in c["ErrorEquals"] for c in state["Catch"]), f"{name}: no timeout path"


def test_state_machine_role_invokes_only_the_task_functions(synthesized: Synthesized) -> None:
    template = synthesized.template
    granted = actions_on(statements(template, "WorkflowStateMachineRole"))
    expected = [
        {"Fn::GetAtt": [logical_id(template, "AWS::Lambda::Function", f"Functions{fn}"), "Arn"]}
        for fn in FUNCTIONS
        if fn != "ApprovalApi"
    ] + [{"Fn::GetAtt": [logical_id(template, "AWS::Lambda::Function", "InsightsExtractInsights"), "Arn"]}]
    assert sorted(map(json.dumps, granted["lambda:InvokeFunction"])) == sorted(map(json.dumps, expected))
    table = logical_id(template, "AWS::DynamoDB::Table", "ApprovalsTable")
    assert granted["dynamodb:PutItem"] == [{"Fn::GetAtt": [table, "Arn"]}]
    bus = logical_id(template, "AWS::Events::EventBus", "EventsBus")
    assert granted["events:PutEvents"] == [{"Fn::GetAtt": [bus, "Arn"]}]
    # Only X-Ray and log delivery (no resource-level permissions) are on "*".
    star = {a for a, resources in granted.items() if "*" in resources}
    assert star and all(a.startswith(("xray:", "logs:")) for a in star), star


# --- functions -----------------------------------------------------------------------------------


def function(synthesized: Synthesized, name: str) -> dict[str, Any]:
    props: dict[str, Any] = synthesized.template["Resources"][
        logical_id(synthesized.template, "AWS::Lambda::Function", f"Functions{name}")
    ]["Properties"]
    return props


def test_functions_share_one_asset_runtime_layer_tracing_and_json_logs(synthesized: Synthesized) -> None:
    functions = synthesized.resources("AWS::Lambda::Function")
    # No helper functions (custom resources) anywhere: the pipeline's, the insight branch's two
    # (extraction, report job), the reminder schedule's one and the evaluation suite's three.
    assert len(functions) == len(FUNCTIONS) + 3 + len(EVALUATION_FUNCTIONS)
    assert all(f["Properties"]["Handler"].startswith("reviewflow.handlers.") for f in functions.values())
    code_keys = {json.dumps(f["Properties"]["Code"]) for f in functions.values()}
    assert len(code_keys) == 1
    for name in FUNCTIONS:
        props = function(synthesized, name)
        snake = re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()
        assert props["Handler"] == f"reviewflow.handlers.{snake}.handler"
        assert props["Runtime"] in ("python3.12", "python3.13")
        assert props["TracingConfig"] == {"Mode": "Active"}
        assert props["LoggingConfig"]["LogFormat"] == "JSON"
        log_group = props["LoggingConfig"]["LogGroup"]["Ref"]
        assert synthesized.template["Resources"][log_group]["Properties"]["RetentionInDays"] == 30
        (layer,) = props["Layers"]
        assert re.fullmatch(
            r"arn:\$\{AWS::Partition\}:lambda:\$\{AWS::Region\}:017000801446:layer:"
            r"AWSLambdaPowertoolsPythonV3-python31[23]-(x86_64|arm64):\d+",
            layer["Fn::Sub"],
        )
        env = props["Environment"]["Variables"]
        assert env["POWERTOOLS_SERVICE_NAME"] == "reviewflow"
        assert env["POWERTOOLS_METRICS_NAMESPACE"] == "Reviewflow"
    assert (
        function(synthesized, "GenerateResponse")["Timeout"]
        > function(synthesized, "BuildOutcome")["Timeout"]
    )


def test_function_environments_follow_the_contract(synthesized: Synthesized) -> None:
    template = synthesized.template
    env = {name: function(synthesized, name)["Environment"]["Variables"] for name in FUNCTIONS}
    assert env["ScoreToxicity"]["REVIEWFLOW_TOXICITY_PROVIDER"] == "comprehend"
    for name in ("DetectSentiment", "GenerateResponse"):
        assert env[name]["REVIEWFLOW_LLM_PROVIDER"] == "bedrock"
        assert env[name]["REVIEWFLOW_MODEL_ID"] == "us.amazon.nova-lite-v1:0"
    assert env["ValidateReview"]["REVIEWFLOW_LEDGER_TTL_DAYS"] == "30"
    table = {"Ref": logical_id(template, "AWS::DynamoDB::Table", "ApprovalsTable")}
    assert env["RequestApproval"]["REVIEWFLOW_APPROVALS_TABLE"] == table
    assert env["ApprovalApi"]["REVIEWFLOW_APPROVALS_TABLE"] == table
    topic = {"Ref": logical_id(template, "AWS::SNS::Topic", "NotificationsReviewerTopic")}
    assert env["RequestApproval"]["REVIEWFLOW_NOTIFICATION_TOPIC_ARN"] == topic
    url = json.dumps(env["RequestApproval"]["REVIEWFLOW_APPROVAL_BASE_URL"])
    assert '"/prod"' in url and "execute-api" in url  # the stage URL, no trailing slash
    # No secrets or AWS settings leak into any environment.
    for variables in env.values():
        assert not any("KEY" in k or "SECRET" in k or "TOKEN" in k for k in variables)


def test_each_function_role_grants_only_what_it_calls(synthesized: Synthesized) -> None:
    template = synthesized.template
    table = {"Fn::GetAtt": [logical_id(template, "AWS::DynamoDB::Table", "ApprovalsTable"), "Arn"]}
    topic = {"Ref": logical_id(template, "AWS::SNS::Topic", "NotificationsReviewerTopic")}
    key = {"Fn::GetAtt": [logical_id(template, "AWS::KMS::Key", "NotificationsTopicKey"), "Arn"]}
    baseline = {
        "logs:CreateLogStream",
        "logs:PutLogEvents",
        "xray:PutTraceSegments",
        "xray:PutTelemetryRecords",
    }

    granted = {name: actions_on(statements(template, f"Functions{name}Role")) for name in FUNCTIONS}
    for name, actions in granted.items():
        log_group = function(synthesized, name)["LoggingConfig"]["LogGroup"]["Ref"]
        assert actions["logs:PutLogEvents"] == [{"Fn::GetAtt": [log_group, "Arn"]}], name
        # No managed policies: the role's permissions are exactly the statements checked here.
        role = template["Resources"][logical_id(template, "AWS::IAM::Role", f"Functions{name}Role")]
        assert "ManagedPolicyArns" not in role["Properties"], name

    assert set(granted["ValidateReview"]) == baseline
    assert set(granted["BuildOutcome"]) == baseline
    # The review, the draft, the reply about to be published and a reviewer's edit are all scored
    # with the same provider.
    for name in ("ScoreToxicity", "CheckReply"):
        assert set(granted[name]) == baseline | {"comprehend:DetectToxicContent"}
    for name in ("DetectSentiment", "GenerateResponse"):
        assert set(granted[name]) == baseline | {"bedrock:InvokeModel"}
        resources = json.dumps(granted[name]["bedrock:InvokeModel"])
        assert "inference-profile/us.amazon.nova-lite-v1:0" in resources
        assert ":bedrock:*::foundation-model/amazon.nova-lite-v1:0" in resources
        assert "foundation-model/*" not in resources
    assert set(granted["RequestApproval"]) == baseline | {
        "dynamodb:PutItem",
        "dynamodb:DeleteItem",
        "sns:Publish",
        "kms:Decrypt",
        "kms:GenerateDataKey*",
    }
    assert granted["RequestApproval"]["dynamodb:PutItem"] == [table]
    assert granted["RequestApproval"]["sns:Publish"] == [topic]
    assert granted["RequestApproval"]["kms:GenerateDataKey*"] == [key]
    assert set(granted["ApprovalApi"]) == baseline | {
        "dynamodb:GetItem",
        "dynamodb:UpdateItem",
        "states:SendTaskSuccess",
        "comprehend:DetectToxicContent",
    }
    send = json.dumps(granted["ApprovalApi"]["states:SendTaskSuccess"])
    assert ":stateMachine:reviewflow-review-response" in send


def test_table_access_is_limited_to_each_role_s_own_items(synthesized: Synthesized) -> None:
    """Approval functions touch only ``approval#`` items; the workflow only ``review#`` claims."""
    template = synthesized.template
    prefixes = {
        "FunctionsRequestApprovalRole": "approval#*",
        "FunctionsApprovalApiRole": "approval#*",
        "WorkflowStateMachineRole": "review#*",
    }
    for role, prefix in prefixes.items():
        dynamo = [
            stmt
            for stmt in statements(template, role)
            if any(str(a).startswith("dynamodb:") for a in _as_list(stmt["Action"]))
        ]
        assert dynamo, role
        for stmt in dynamo:
            leading = stmt["Condition"]["ForAllValues:StringLike"]["dynamodb:LeadingKeys"]
            assert leading == [prefix], role


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def test_bedrock_resources_follow_the_kind_of_model_id() -> None:
    import aws_cdk as cdk

    from stacks.constructs.bedrock import bedrock_statements

    stack = cdk.Stack(cdk.App(), "S", env=cdk.Environment(account="123456789012", region="eu-west-1"))

    def resolved(model_id: str) -> list[dict[str, Any]]:
        return [stack.resolve(s.to_statement_json()) for s in bedrock_statements([model_id])]

    (plain,) = resolved("amazon.nova-lite-v1:0")
    assert plain["Resource"] == {
        "Fn::Join": [
            "",
            [
                "arn:",
                {"Ref": "AWS::Partition"},
                ":bedrock:",
                {"Ref": "AWS::Region"},
                "::foundation-model/amazon.nova-lite-v1:0",
            ],
        ]
    }
    app_profile = "arn:aws:bedrock:eu-west-1:123456789012:application-inference-profile/abc123"
    direct, conditioned = resolved(app_profile)
    assert direct["Resource"] == app_profile
    assert conditioned["Condition"] == {"StringEquals": {"bedrock:InferenceProfileArn": [app_profile]}}
    with pytest.raises(ValueError, match="unsupported"):
        bedrock_statements(["arn:aws:bedrock:eu-west-1:123456789012:provisioned-model/x"])


# --- table, API, notifications, monitoring -------------------------------------------------------


def test_table_is_on_demand_with_ttl_and_point_in_time_recovery(synthesized: Synthesized) -> None:
    tables = synthesized.resources("AWS::DynamoDB::Table")
    table = tables[logical_id(synthesized.template, "AWS::DynamoDB::Table", "ApprovalsTable")]
    props = table["Properties"]
    assert props["KeySchema"] == [{"AttributeName": "pk", "KeyType": "HASH"}]
    assert props["BillingMode"] == "PAY_PER_REQUEST"
    assert props["TimeToLiveSpecification"] == {"AttributeName": "expires_at", "Enabled": True}
    assert props["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"] is True
    assert table["DeletionPolicy"] == "Retain"  # keeps the decision audit records


def test_api_has_the_two_approval_routes_throttling_and_access_logs(synthesized: Synthesized) -> None:
    template = synthesized.template
    paths = {r["Properties"]["PathPart"] for r in synthesized.resources("AWS::ApiGateway::Resource").values()}
    assert paths == {"approvals", "{approval_id}"}
    methods = synthesized.resources("AWS::ApiGateway::Method").values()
    assert sorted(m["Properties"]["HttpMethod"] for m in methods) == ["GET", "POST"]
    approval_fn = logical_id(template, "AWS::Lambda::Function", "FunctionsApprovalApi")
    for method in methods:
        integration = method["Properties"]["Integration"]
        assert integration["Type"] == "AWS_PROXY"
        assert approval_fn in json.dumps(integration["Uri"])
    stage = synthesized.one("AWS::ApiGateway::Stage")["Properties"]
    assert stage["StageName"] == "prod"
    (settings,) = stage["MethodSettings"]
    assert (settings["ThrottlingRateLimit"], settings["ThrottlingBurstLimit"]) == (5, 10)
    assert settings["DataTraceEnabled"] is False
    log_format = stage["AccessLogSetting"]["Format"]
    json.loads(log_format)  # one JSON object per request
    assert "$context.resourcePath" in log_format
    # The link secret travels in the query string: nothing that contains it may be logged.
    for leaky in ("$context.path", "querystring", "$input.params", "$context.requestOverride"):
        assert leaky not in log_format


def test_topics_are_encrypted_and_the_reviewer_email_is_optional(synthesized: Synthesized) -> None:
    key = logical_id(synthesized.template, "AWS::KMS::Key", "NotificationsTopicKey")
    topics = synthesized.resources("AWS::SNS::Topic")
    assert len(topics) == 3  # reviewers, alarms, the product team
    for topic in topics.values():
        assert topic["Properties"]["KmsMasterKeyId"] == {"Fn::GetAtt": [key, "Arn"]}
    assert synthesized.one("AWS::KMS::Key")["Properties"]["EnableKeyRotation"] is True
    # cdk.json carries no reviewer email: no subscription.
    assert synthesized.resources("AWS::SNS::Subscription") == {}


def test_alarms_watch_executions_dead_letters_and_every_function(synthesized: Synthesized) -> None:
    template = synthesized.template
    alarm_topic = {"Ref": logical_id(template, "AWS::SNS::Topic", "NotificationsAlarmTopic")}
    alarms = list(synthesized.resources("AWS::CloudWatch::Alarm").values())
    seen: set[tuple[str, str]] = set()
    for alarm in alarms:
        props = alarm["Properties"]
        assert props["AlarmActions"] == [alarm_topic]
        assert props["Threshold"] == 1 and props["ComparisonOperator"] == "GreaterThanOrEqualToThreshold"
        dims = {d["Name"]: d["Value"] for d in props.get("Dimensions", [])}
        seen.add((props["MetricName"], json.dumps(dims, sort_keys=True)))
    machine = {"Ref": logical_id(template, "AWS::StepFunctions::StateMachine", "Workflow")}
    for metric in ("ExecutionsFailed", "ExecutionsTimedOut"):
        assert (metric, json.dumps({"StateMachineArn": machine}, sort_keys=True)) in seen
    dlq = {"Fn::GetAtt": [logical_id(template, "AWS::SQS::Queue", "EventsInputDeadLetterQueue"), "QueueName"]}
    assert ("ApproximateNumberOfMessagesVisible", json.dumps({"QueueName": dlq}, sort_keys=True)) in seen
    for name in FUNCTIONS:
        fn = {"Ref": logical_id(template, "AWS::Lambda::Function", f"Functions{name}")}
        assert ("Errors", json.dumps({"FunctionName": fn}, sort_keys=True)) in seen, name


def test_no_custom_resources_or_constructs_the_local_runtime_cannot_deploy(synthesized: Synthesized) -> None:
    types = {r["Type"] for r in synthesized.template["Resources"].values()}
    assert not any(t.startswith("Custom::") or t == "AWS::CloudFormation::CustomResource" for t in types)
    assert "AWS::DynamoDB::GlobalTable" not in types
    # Two buckets, the evaluation suite's and the insights reports', without the auto-delete custom
    # resource (moto cannot run it).
    assert sorted(
        k for k, r in synthesized.template["Resources"].items() if r["Type"] == "AWS::S3::Bucket"
    ) == [
        logical_id(synthesized.template, "AWS::S3::Bucket", "EvaluationBucket"),
        logical_id(synthesized.template, "AWS::S3::Bucket", "InsightsReportsBucket"),
    ]


def test_every_acknowledged_nag_finding_carries_a_written_reason(synthesized: Synthesized) -> None:
    acknowledged = {}
    for resource in synthesized.template["Resources"].values():
        for rule in resource.get("Metadata", {}).get("cdk_nag", {}).get("rules_to_suppress", []):
            acknowledged[rule["id"]] = rule["reason"]
    assert acknowledged, "expected acknowledgments in the template metadata"
    for rule_id, reason in acknowledged.items():
        assert len(reason) >= 40 and reason[0].isupper(), (rule_id, reason)
    # Wildcard grants are acknowledged per finding, never for the whole IAM5 rule.
    assert "AwsSolutions-IAM5" not in acknowledged
