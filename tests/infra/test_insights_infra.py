"""The insight branch as synthesized: its table, its function's grants, the two Parallel states."""

from __future__ import annotations

import json
from typing import Any

import pytest

from reviewflow.contracts import EnvVar
from stacks.config import DEFAULT_INSIGHTS_MODEL_ID
from tests.infra.conftest import ASL_FILE, Synthesized
from tests.infra.schedules import assert_errors_alarm, assert_schedule_invokes
from tests.infra.test_template import actions_on, logical_id, statements, walk_states


def _states() -> dict[str, dict[str, Any]]:
    return dict(walk_states(json.loads(ASL_FILE.read_text(encoding="utf-8"))["States"]))


def test_insights_table_has_product_keys_pitr_encryption_and_ttl(template: dict[str, Any]) -> None:
    table = template["Resources"][logical_id(template, "AWS::DynamoDB::Table", "InsightsTable")]
    props = table["Properties"]
    assert props["KeySchema"] == [
        {"AttributeName": "pk", "KeyType": "HASH"},
        {"AttributeName": "sk", "KeyType": "RANGE"},
    ]
    assert props["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    assert props["SSESpecification"]["SSEEnabled"] is True
    assert props["TimeToLiveSpecification"] == {"AttributeName": "ttl", "Enabled": True}
    assert props["BillingMode"] == "PAY_PER_REQUEST" and table["DeletionPolicy"] == "Retain"


def test_the_function_writes_only_its_keys_publishes_on_the_bus_and_calls_its_own_model(
    template: dict[str, Any],
) -> None:
    fn = template["Resources"][logical_id(template, "AWS::Lambda::Function", "InsightsExtractInsights")]
    env = fn["Properties"]["Environment"]["Variables"]
    table = logical_id(template, "AWS::DynamoDB::Table", "InsightsTable")
    assert env[EnvVar.INSIGHTS_TABLE.value] == {"Ref": table}
    assert env[EnvVar.INSIGHTS_MODEL_ID.value] == DEFAULT_INSIGHTS_MODEL_ID
    assert env[EnvVar.INSIGHTS_MODEL_ID.value] != env[EnvVar.MODEL_ID.value]
    assert env[EnvVar.EVENT_BUS_NAME.value] == {
        "Ref": logical_id(template, "AWS::Events::EventBus", "EventsBus")
    }
    assert fn["Properties"]["Timeout"] == 15
    stmts = statements(template, "InsightsExtractInsightsRole")
    granted = actions_on(stmts)
    assert granted["dynamodb:PutItem"] == [{"Fn::GetAtt": [table, "Arn"]}]
    put = next(s for s in stmts if s["Action"] == "dynamodb:PutItem")
    assert put["Condition"] == {
        "ForAllValues:StringLike": {"dynamodb:LeadingKeys": ["product#*", "products"]}
    }
    assert granted["events:PutEvents"] == [
        {"Fn::GetAtt": [logical_id(template, "AWS::Events::EventBus", "EventsBus"), "Arn"]}
    ]
    assert not any(a.startswith("dynamodb:") and a != "dynamodb:PutItem" for a in granted)
    bedrock = [r for a, rs in granted.items() if a.startswith("bedrock:") for r in rs]
    assert bedrock and all("nova-micro" in json.dumps(r) for r in bedrock)


def test_the_workflow_may_invoke_it_and_substitutes_its_arn(
    synthesized: Synthesized, template: dict[str, Any]
) -> None:
    fn = logical_id(template, "AWS::Lambda::Function", "InsightsExtractInsights")
    machine = template["Resources"][
        logical_id(template, "AWS::StepFunctions::StateMachine", "WorkflowStateMachine")
    ]
    assert machine["Properties"]["DefinitionSubstitutions"]["ExtractInsightsFunctionArn"] == {
        "Fn::GetAtt": [fn, "Arn"]
    }
    invoke = actions_on(statements(template, "WorkflowStateMachineRole"))["lambda:InvokeFunction"]
    assert {"Fn::GetAtt": [fn, "Arn"]} in invoke


def test_toxicity_runs_beside_a_speculative_sentiment() -> None:
    states = _states()
    screen = states["ScreenReview"]
    assert screen["Type"] == "Parallel"
    assert [b["StartAt"] for b in screen["Branches"]] == ["ScoreReviewToxicity", "DetectSentiment"]
    assert states["DetectSentiment"]["ResultPath"] == "$.speculative_sentiment"
    # Only a cleared review adopts it: the harmful path never reads it.
    assert states["ReviewToxicityBand"]["Default"] == "SentimentReady"
    assert states["AdoptSentiment"]["ResultPath"] == "$.sentiment"


def test_the_reply_runs_beside_the_insight_branch_which_cannot_fail_it() -> None:
    states = _states()
    answer = states["AnswerReview"]
    assert answer["Type"] == "Parallel" and answer["Next"] == "BuildOutcome"
    reply, insight = answer["Branches"]
    assert reply["StartAt"] == "GenerateResponse" and insight["StartAt"] == "ExtractInsights"
    targets = {
        target
        for state in reply["States"].values()
        for target in [state.get("Next"), state.get("Default")]
        + [c.get("Next") for c in state.get("Choices", []) + state.get("Catch", [])]
        if target
    }
    assert targets <= set(reply["States"])  # every reply path ends inside its branch
    extract = insight["States"]["ExtractInsights"]
    assert extract["TimeoutSeconds"] <= 30
    assert all(r["MaxAttempts"] <= 1 for r in extract["Retry"])
    assert [c["ErrorEquals"] for c in extract["Catch"]] == [["States.ALL"]]
    failed = insight["States"][extract["Catch"][0]["Next"]]
    assert failed["Type"] == "Pass" and failed.get("End") is True
    assert failed["Parameters"]["insights"]["status"] == "failed"
    assert "Catch" not in answer  # nothing in the insight branch can escape its catch-all


# --- the insights report job -------------------------------------------------------------------


def test_the_report_job_reads_by_query_writes_its_folder_and_emails_the_product_team(
    template: dict[str, Any],
) -> None:
    fn = template["Resources"][logical_id(template, "AWS::Lambda::Function", "InsightsInsightsReport")]
    props = fn["Properties"]
    assert props["Handler"] == "reviewflow.handlers.insights_report.handler"
    env = props["Environment"]["Variables"]
    table = logical_id(template, "AWS::DynamoDB::Table", "InsightsTable")
    bucket = logical_id(template, "AWS::S3::Bucket", "InsightsReportsBucket")
    topic = logical_id(template, "AWS::SNS::Topic", "InsightsProductTeamTopic")
    assert env[EnvVar.INSIGHTS_TABLE.value] == {"Ref": table}
    assert env[EnvVar.INSIGHTS_REPORT_BUCKET.value] == {"Ref": bucket}
    assert env[EnvVar.PRODUCT_TEAM_TOPIC_ARN.value] == {"Ref": topic}
    assert env[EnvVar.INSIGHTS_REPORT_PERIOD_DAYS.value] == "7"
    stmts = statements(template, "InsightsInsightsReportRole")
    granted = actions_on(stmts)
    # The table: Query only, on the extractor's two key families; never a scan or a write.
    assert [a for a in granted if a.startswith("dynamodb:")] == ["dynamodb:Query"]
    assert granted["dynamodb:Query"] == [{"Fn::GetAtt": [table, "Arn"]}]
    query = next(s for s in stmts if s["Action"] == "dynamodb:Query")
    assert query["Condition"] == {
        "ForAllValues:StringLike": {"dynamodb:LeadingKeys": ["product#*", "products"]}
    }
    # The bucket: PutObject under reports/ only.
    assert [a for a in granted if a.startswith("s3:")] == ["s3:PutObject"]
    assert granted["s3:PutObject"] == [{"Fn::Join": ["", [{"Fn::GetAtt": [bucket, "Arn"]}, "/reports/*"]]}]
    # The topic, and the data key that publishing to an encrypted topic needs.
    assert granted["sns:Publish"] == [{"Ref": topic}]
    key = logical_id(template, "AWS::KMS::Key", "NotificationsTopicKey")
    assert {"Fn::GetAtt": [key, "Arn"]} in granted["kms:GenerateDataKey*"]
    assert not any(a.startswith(("bedrock:", "events:")) for a in granted)


def test_the_report_runs_weekly_with_retries_and_its_failures_alarm(template: dict[str, Any]) -> None:
    assert_schedule_invokes(
        template,
        rule="InsightsReportSchedule",
        function="InsightsInsightsReport",
        expression="cron(0 6 ? * MON *)",
        max_event_age_seconds=3600,
        retry_attempts=2,
    )
    assert_errors_alarm(template, function="InsightsInsightsReport")


def test_the_reports_bucket_and_product_topic_are_private_encrypted_and_kept(
    template: dict[str, Any],
) -> None:
    bucket_id = logical_id(template, "AWS::S3::Bucket", "InsightsReportsBucket")
    bucket = template["Resources"][bucket_id]
    assert bucket["DeletionPolicy"] == "Retain"
    assert bucket["Properties"]["PublicAccessBlockConfiguration"] == dict.fromkeys(
        ("BlockPublicAcls", "BlockPublicPolicy", "IgnorePublicAcls", "RestrictPublicBuckets"), True
    )
    (policy,) = (
        r["Properties"]
        for r in template["Resources"].values()
        if r["Type"] == "AWS::S3::BucketPolicy" and r["Properties"]["Bucket"] == {"Ref": bucket_id}
    )
    (deny,) = policy["PolicyDocument"]["Statement"]
    assert deny["Effect"] == "Deny" and deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    topic = template["Resources"][logical_id(template, "AWS::SNS::Topic", "InsightsProductTeamTopic")]
    key = logical_id(template, "AWS::KMS::Key", "NotificationsTopicKey")
    assert topic["Properties"]["KmsMasterKeyId"] == {"Fn::GetAtt": [key, "Arn"]}
    outputs = template["Outputs"]
    assert outputs["InsightsReportBucketName"]["Value"] == {"Ref": bucket_id}
    assert outputs["ProductTeamTopicArn"]["Value"] == {
        "Ref": logical_id(template, "AWS::SNS::Topic", "InsightsProductTeam")
    }


def test_product_team_emails_subscribe_to_the_topic_and_the_schedule_is_configurable(
    tmp_path: Any,
) -> None:
    from tests.infra.conftest import cdk_json_context, synthesize

    context = cdk_json_context()
    context.update(
        {
            "reviewflow:product_team_emails": "pm@example.com, design@example.com",
            "reviewflow:insights_report_schedule": "rate(1 day)",
            "reviewflow:insights_report_period_days": "1",
        }
    )
    template = synthesize(tmp_path, context).template
    topic = {"Ref": logical_id(template, "AWS::SNS::Topic", "InsightsProductTeamTopic")}
    subscribed = sorted(
        r["Properties"]["Endpoint"]
        for r in template["Resources"].values()
        if r["Type"] == "AWS::SNS::Subscription" and r["Properties"]["TopicArn"] == topic
    )
    assert subscribed == ["design@example.com", "pm@example.com"]
    rule = template["Resources"][logical_id(template, "AWS::Events::Rule", "InsightsReportSchedule")]
    assert rule["Properties"]["ScheduleExpression"] == "rate(1 day)"
    fn = template["Resources"][logical_id(template, "AWS::Lambda::Function", "InsightsInsightsReport")]
    assert fn["Properties"]["Environment"]["Variables"][EnvVar.INSIGHTS_REPORT_PERIOD_DAYS.value] == "1"


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("product_team_emails", "pm@example.com, not-an-address"),
        ("insights_report_schedule", "every monday"),
        ("insights_report_schedule", "rate(0 days)"),
        ("insights_report_period_days", 0),
        ("insights_report_period_days", 93),
    ],
)
def test_report_settings_are_validated(field: str, value: Any) -> None:
    from pydantic import ValidationError

    from stacks.config import ReviewflowConfig

    with pytest.raises(ValidationError, match=field):
        ReviewflowConfig(llm_provider="local", toxicity_provider="local", **{field: value})
