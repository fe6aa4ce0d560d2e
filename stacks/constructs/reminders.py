"""Reminders and escalation (docs/human-review.md): one schedule, one function, and the
escalation reviewers' subscriptions on the reviewer topic.

The function queries the approvals table's sparse ``PendingByDeadline`` index, records each step
with one conditional update and publishes one message per recipient with the message attribute
``reviewer``; each escalation reviewer's email subscription filters on its own id.
"""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_sns as sns
from constructs import Construct

from reviewflow.contracts import EnvVar
from stacks.config import ReviewflowConfig
from stacks.constructs.approvals_table import APPROVAL_ITEMS_ONLY, pending_index_arn
from stacks.constructs.functions import Functions, FunctionSpec
from stacks.constructs.monitoring import alarm_on_any
from stacks.constructs.notifications import reviewer_subscription
from stacks.nag import acknowledge

SPEC = FunctionSpec("send_reminders", "Reminds and escalates pending approvals before their deadline", 60)


def reminder_environment(config: ReviewflowConfig) -> dict[EnvVar, str]:
    env = {EnvVar.REMINDER_FRACTIONS: ",".join(f"{value:g}" for value in sorted(config.reminder_fractions))}
    if config.escalation_reviewers and config.escalation_fraction is not None:
        env[EnvVar.ESCALATION_FRACTION] = f"{config.escalation_fraction:g}"
        env[EnvVar.ESCALATION_REVIEWER_IDS] = ",".join(r.id for r in config.escalation_reviewers)
    return env


class Reminders(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: ReviewflowConfig,
        functions: Functions,
        table: dynamodb.ITable,
        reviewer_topic: sns.ITopic,
        alarm_topic: sns.ITopic,
        approval_base_url: str,
    ) -> None:
        super().__init__(scope, construct_id)
        self.function = functions.build(
            SPEC,
            {
                **reminder_environment(config),
                EnvVar.APPROVALS_TABLE: table.table_name,
                EnvVar.NOTIFICATION_TOPIC_ARN: reviewer_topic.topic_arn,
                EnvVar.APPROVAL_BASE_URL: approval_base_url,
            },
            scope=self,
        )
        # The index's partition key value starts with "approval#" too, so one LeadingKeys condition
        # keeps both the query and the update away from the workflow's review ledger.
        self.function.add_to_role_policy(
            iam.PolicyStatement(
                actions=["dynamodb:Query"],
                resources=[pending_index_arn(table)],
                conditions=APPROVAL_ITEMS_ONLY,
            )
        )
        self.function.add_to_role_policy(
            iam.PolicyStatement(
                actions=["dynamodb:UpdateItem"], resources=[table.table_arn], conditions=APPROVAL_ITEMS_ONLY
            )
        )
        reviewer_topic.grant_publish(self.function)
        acknowledge(
            self.function.role,  # type: ignore[arg-type]
            "AwsSolutions-IAM5[Action::kms:GenerateDataKey*]",
            "Publishing to the encrypted topic needs a data key from the topic's KMS key; the grant names "
            "that one key, the wildcard only covers the GenerateDataKey variants.",
        )
        acknowledge(
            self.function.role,  # type: ignore[arg-type]
            "AwsSolutions-IAM5[Resource::*]",
            "Active X-Ray tracing needs xray:PutTraceSegments and xray:PutTelemetryRecords, which support "
            "no resource-level permissions, so CDK grants them on '*'.",
        )

        acknowledge(
            self.function,
            "AwsSolutions-L1",
            "The runtime is pinned (python_version) together with the Powertools layer, like the "
            "pipeline's functions: a newer runtime is a config change made with the layer version.",
        )

        # One rule for every approval (not a timer per approval); the event's time is the run's now.
        self.rule = events.Rule(
            self,
            "Schedule",
            description="reviewflow: remind and escalate pending approvals",
            schedule=events.Schedule.rate(Duration.minutes(config.reminder_schedule_minutes)),
            targets=[
                targets.LambdaFunction(self.function, retry_attempts=2, max_event_age=Duration.minutes(10))
            ],
        )
        # Each escalation reviewer receives only the messages addressed to their id, like the roster.
        for reviewer in config.escalation_reviewers:
            reviewer_topic.add_subscription(reviewer_subscription(reviewer))
        self.alarm = alarm_on_any(
            self,
            "FailedRuns",
            self.function.metric_errors(period=Duration.minutes(5), statistic="Sum"),
            "reviewflow: a reminder run failed (pending approvals may get no reminder)",
            alarm_topic,
        )
