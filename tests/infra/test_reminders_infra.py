"""Reminders and escalation as synthesized: the sparse index, one schedule, least-privilege grants,
the escalation reviewers' filtered subscriptions, and the settings' validation."""

from __future__ import annotations

from typing import Any

import pytest

from reviewflow.contracts import EnvVar
from tests.infra.schedules import assert_errors_alarm, assert_schedule_invokes
from tests.infra.test_template import actions_on, logical_id, statements

BEDROCK = {"model_id": "us.amazon.nova-lite-v1:0"}


def _fn(template: dict[str, Any]) -> str:
    return logical_id(template, "AWS::Lambda::Function", "RemindersSendReminders")


def test_the_approvals_table_has_the_sparse_pending_by_deadline_index(template: dict[str, Any]) -> None:
    table = template["Resources"][logical_id(template, "AWS::DynamoDB::Table", "ApprovalsTable")]
    props = table["Properties"]
    (index,) = props["GlobalSecondaryIndexes"]
    assert index == {
        "IndexName": "PendingByDeadline",
        "KeySchema": [
            {"AttributeName": "pending_pk", "KeyType": "HASH"},
            {"AttributeName": "deadline_at", "KeyType": "RANGE"},
        ],
        "Projection": {"ProjectionType": "ALL"},
    }
    # The table's own key is unchanged; the index adds only its two string attributes.
    assert props["KeySchema"] == [{"AttributeName": "pk", "KeyType": "HASH"}]
    assert sorted(props["AttributeDefinitions"], key=lambda a: a["AttributeName"]) == [
        {"AttributeName": "deadline_at", "AttributeType": "S"},
        {"AttributeName": "pending_pk", "AttributeType": "S"},
        {"AttributeName": "pk", "AttributeType": "S"},
    ]


def test_the_index_name_is_the_one_the_runtime_queries() -> None:
    from reviewflow.providers.approval_store import KEY_PREFIX, PENDING_PK
    from reviewflow.providers.reminder_store import PENDING_INDEX
    from stacks.constructs.approvals_table import APPROVAL_ITEMS_ONLY
    from stacks.constructs.approvals_table import PENDING_INDEX as STACK_INDEX

    assert PENDING_INDEX == STACK_INDEX
    # The index's partition value starts with the approvals' own prefix, so the LeadingKeys
    # condition holds whichever key (the table's or the index's) IAM evaluates for the query.
    assert PENDING_PK.startswith(KEY_PREFIX)
    assert {"ForAllValues:StringLike": {"dynamodb:LeadingKeys": [f"{KEY_PREFIX}*"]}} == APPROVAL_ITEMS_ONLY


def test_one_schedule_invokes_the_reminder_function_with_retries(template: dict[str, Any]) -> None:
    assert_schedule_invokes(
        template,
        rule="RemindersSchedule",
        function="RemindersSendReminders",
        expression="rate(15 minutes)",
        max_event_age_seconds=600,
        retry_attempts=2,
    )
    alarm = assert_errors_alarm(template, function="RemindersSendReminders")
    assert "reminder run failed" in alarm["AlarmDescription"]


def test_the_reminder_function_queries_the_index_updates_approvals_and_publishes(
    template: dict[str, Any],
) -> None:
    fn = template["Resources"][_fn(template)]
    props = fn["Properties"]
    assert props["Handler"] == "reviewflow.handlers.send_reminders.handler"
    table = logical_id(template, "AWS::DynamoDB::Table", "ApprovalsTable")
    topic = logical_id(template, "AWS::SNS::Topic", "NotificationsReviewerTopic")
    env = props["Environment"]["Variables"]
    assert env[EnvVar.APPROVALS_TABLE.value] == {"Ref": table}
    assert env[EnvVar.NOTIFICATION_TOPIC_ARN.value] == {"Ref": topic}
    assert env[EnvVar.REMINDER_FRACTIONS.value] == "0.5"
    # No escalation list configured: no escalation settings at all.
    assert EnvVar.ESCALATION_FRACTION.value not in env and EnvVar.ESCALATION_REVIEWER_IDS.value not in env

    stmts = statements(template, "RemindersSendRemindersRole")
    granted = actions_on(stmts)
    assert sorted(a for a in granted if a.startswith("dynamodb:")) == [
        "dynamodb:Query",
        "dynamodb:UpdateItem",
    ]
    assert granted["dynamodb:Query"] == [
        {"Fn::Join": ["", [{"Fn::GetAtt": [table, "Arn"]}, "/index/PendingByDeadline"]]}
    ]
    assert granted["dynamodb:UpdateItem"] == [{"Fn::GetAtt": [table, "Arn"]}]
    for action in ("dynamodb:Query", "dynamodb:UpdateItem"):
        statement = next(s for s in stmts if s["Action"] == action)
        assert statement["Condition"] == {"ForAllValues:StringLike": {"dynamodb:LeadingKeys": ["approval#*"]}}
    assert granted["sns:Publish"] == [{"Ref": topic}]
    key = logical_id(template, "AWS::KMS::Key", "NotificationsTopicKey")
    assert {"Fn::GetAtt": [key, "Arn"]} in granted["kms:GenerateDataKey*"]
    # Never the task token's consumer, a model, the bus or another table.
    assert not any(a.startswith(("states:", "bedrock:", "events:", "s3:", "comprehend:")) for a in granted)


def test_escalation_reviewers_get_filtered_subscriptions_and_the_settings(tmp_path: Any) -> None:
    from tests.infra.conftest import cdk_json_context, synthesize

    context = cdk_json_context()
    context.update(
        {
            "reviewflow:reminder_fractions": "[0.3, 0.6]",
            "reviewflow:escalation_fraction": "0.9",
            "reviewflow:escalation_reviewers": '[{"id": "lead", "email": "lead@example.com"}]',
            "reviewflow:reminder_schedule_minutes": "5",
        }
    )
    template = synthesize(tmp_path, context).template
    topic = {"Ref": logical_id(template, "AWS::SNS::Topic", "NotificationsReviewerTopic")}
    escalation = [
        r["Properties"]
        for r in template["Resources"].values()
        if r["Type"] == "AWS::SNS::Subscription"
        and r["Properties"]["TopicArn"] == topic
        and r["Properties"]["Endpoint"] == "lead@example.com"
    ]
    assert escalation == [
        {
            "Protocol": "email",
            "TopicArn": topic,
            "Endpoint": "lead@example.com",
            "FilterPolicy": {"reviewer": ["lead"]},
        }
    ]
    env = template["Resources"][_fn(template)]["Properties"]["Environment"]["Variables"]
    assert env[EnvVar.REMINDER_FRACTIONS.value] == "0.3,0.6"
    assert env[EnvVar.ESCALATION_FRACTION.value] == "0.9"
    assert env[EnvVar.ESCALATION_REVIEWER_IDS.value] == "lead"
    rule = template["Resources"][logical_id(template, "AWS::Events::Rule", "RemindersSchedule")]
    assert rule["Properties"]["ScheduleExpression"] == "rate(5 minutes)"


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"reminder_fractions": [0.0]}, "strictly between 0 and 1"),
        ({"reminder_fractions": [0.5, 0.5]}, "distinct"),
        ({"reminder_fractions": [0.85]}, "later than every reminder fraction"),
        (
            {"escalation_fraction": None, "escalation_reviewers": [{"id": "lead", "email": "l@example.com"}]},
            "escalation_fraction is not",
        ),
        ({"escalation_reviewers": [{"id": "lead", "email": "nope"}]}, "is not an email address"),
        (
            {
                "reviewers": [{"id": "ana", "email": "ana@example.com"}],
                "escalation_reviewers": [{"id": "ana", "email": "boss@example.com"}],
            },
            "must not repeat roster ids: ana",
        ),
        ({"reminder_schedule_minutes": 0}, "reminder_schedule_minutes"),
    ],
)
def test_reminder_settings_are_validated(settings: dict[str, Any], message: str) -> None:
    from stacks.config import ReviewflowConfig

    with pytest.raises(ValueError, match=message):
        ReviewflowConfig(**BEDROCK, **settings)
