"""Product insights: the insights table, the ExtractInsights function, and the report job (its
schedule, its bucket, the product team's topic), each function granted only what it does.

ExtractInsights (built in the shared style by ``Functions.build``) writes the table's two item
kinds (``product#<id>`` feedback, the ``products`` markers; layout in
``reviewflow.models.insights``), publishes ``PRODUCT_FEEDBACK_EXTRACTED`` on the reviews bus,
and, with Bedrock, invokes the insights model only. The workflow invokes it from the insight
branch of its Parallel.

InsightsReport runs on an EventBridge schedule (weekly by default): it queries the same two key
families (never scans, never writes the table), writes ``reports/<period>/insights.{md,json}`` to
the reports bucket, and publishes the summary to the product team's topic.
"""

from __future__ import annotations

from aws_cdk import Duration, Stack
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from constructs import Construct

from reviewflow.contracts import EnvVar
from stacks.config import ReviewflowConfig
from stacks.constructs.approvals_table import record_table
from stacks.constructs.bedrock import grant_invoke_models
from stacks.constructs.buckets import private_bucket
from stacks.constructs.functions import Functions, FunctionSpec
from stacks.nag import acknowledge

#: Shorter than the reply branch's first model call: the Parallel waits for this branch.
SPEC = FunctionSpec("extract_insights", "Extracts product feedback from a cleared review", 15)
#: Reads a few thousand items per product at most; five minutes leaves room for a large catalogue.
REPORT_SPEC = FunctionSpec("insights_report", "Builds and emails the periodic product insights report", 300)
ITEM_KEYS = ["product#*", "products"]
REPORTS_FOLDER = "reports"


class Insights(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: ReviewflowConfig,
        functions: Functions,
        bus: events.IEventBus,
        topic_key: kms.IKey,
    ) -> None:
        super().__init__(scope, construct_id)
        # Kept on stack deletion: it is the product team's record of what customers said.
        self.table = record_table(self, ttl_attribute="ttl", sort_key=True)
        environment: dict[EnvVar, str] = {
            **functions.llm_environment(),
            EnvVar.INSIGHTS_TABLE: self.table.table_name,
            EnvVar.INSIGHTS_TTL_DAYS: str(config.insights_ttl_days),
            EnvVar.EVENT_BUS_NAME: bus.event_bus_name,
        }
        model_id = config.effective_insights_model_id
        if model_id:
            environment[EnvVar.INSIGHTS_MODEL_ID] = model_id
        if config.insights_prompt_version:
            environment[EnvVar.INSIGHTS_PROMPT_VERSION] = config.insights_prompt_version
        self.function: lambda_.Function = functions.build(SPEC, environment, scope=self)

        # Writes only (no reads, no deletes), and only the two key families it owns.
        self.function.add_to_role_policy(
            iam.PolicyStatement(
                actions=["dynamodb:PutItem"],
                resources=[self.table.table_arn],
                conditions={"ForAllValues:StringLike": {"dynamodb:LeadingKeys": ITEM_KEYS}},
            )
        )
        self.function.add_to_role_policy(
            iam.PolicyStatement(actions=["events:PutEvents"], resources=[bus.event_bus_arn])
        )
        if config.llm_provider == "bedrock" and model_id:
            grant_invoke_models(self.function, [model_id])
        acknowledge(
            self.function.role,  # type: ignore[arg-type]
            "AwsSolutions-IAM5[Resource::*]",
            "Active X-Ray tracing needs xray:PutTraceSegments and xray:PutTelemetryRecords, which support "
            "no resource-level permissions, so CDK grants them on '*'.",
        )

        self._report_job(config, functions, topic_key)

        acknowledge(
            self,
            "AwsSolutions-L1",
            "The runtime is pinned (python_version) with the Powertools layer, as for every function of "
            "the stack (see the Functions construct).",
        )

    def _report_job(self, config: ReviewflowConfig, functions: Functions, topic_key: kms.IKey) -> None:
        # Reports outlive the stack, like the table they summarise.
        self.reports_bucket = private_bucket(
            self,
            "ReportsBucket",
            holds="reports bucket holds generated insights reports written only by the report job",
        )
        self.product_team_topic = sns.Topic(
            self,
            "ProductTeamTopic",
            display_name="reviewflow: product insights",
            master_key=topic_key,
            enforce_ssl=True,
        )
        for email in config.product_team_emails:
            self.product_team_topic.add_subscription(subscriptions.EmailSubscription(email))

        self.report_function: lambda_.Function = functions.build(
            REPORT_SPEC,
            {
                EnvVar.INSIGHTS_TABLE: self.table.table_name,
                EnvVar.INSIGHTS_REPORT_BUCKET: self.reports_bucket.bucket_name,
                EnvVar.INSIGHTS_REPORT_PERIOD_DAYS: str(config.insights_report_period_days),
                EnvVar.PRODUCT_TEAM_TOPIC_ARN: self.product_team_topic.topic_arn,
            },
            scope=self,
        )
        report = self.report_function
        # Queries only, and only the two key families the extractor writes.
        report.add_to_role_policy(
            iam.PolicyStatement(
                actions=["dynamodb:Query"],
                resources=[self.table.table_arn],
                conditions={"ForAllValues:StringLike": {"dynamodb:LeadingKeys": ITEM_KEYS}},
            )
        )
        report.add_to_role_policy(
            iam.PolicyStatement(
                actions=["s3:PutObject"],
                resources=[self.reports_bucket.arn_for_objects(f"{REPORTS_FOLDER}/*")],
            )
        )
        self.product_team_topic.grant_publish(report)
        bucket_id = Stack.of(self).get_logical_id(self.reports_bucket.node.default_child)  # type: ignore[arg-type]
        acknowledge(
            report.role,  # type: ignore[arg-type]
            f"AwsSolutions-IAM5[Resource::<{bucket_id}.Arn>/{REPORTS_FOLDER}/*]",
            "The report's object keys are made at run time from the period's end, so the grant names the "
            "reports/ folder of the reports bucket.",
        )
        acknowledge(
            report.role,  # type: ignore[arg-type]
            "AwsSolutions-IAM5[Action::kms:GenerateDataKey*]",
            "Publishing to the encrypted topic needs a data key from the topic's KMS key; the grant names "
            "that one key, the wildcard only covers the GenerateDataKey variants.",
        )
        acknowledge(
            report.role,  # type: ignore[arg-type]
            "AwsSolutions-IAM5[Resource::*]",
            "Active X-Ray tracing needs xray:PutTraceSegments and xray:PutTelemetryRecords, which support "
            "no resource-level permissions, so CDK grants them on '*'.",
        )
        # One schedule for the whole catalogue. EventBridge retries a failed invocation (twice, within
        # an hour); a run that still fails raises the function's error alarm (Monitoring).
        self.report_rule = events.Rule(
            self,
            "ReportSchedule",
            description="reviewflow: the periodic product insights report",
            schedule=events.Schedule.expression(config.insights_report_schedule),
            targets=[targets.LambdaFunction(report, retry_attempts=2, max_event_age=Duration.hours(1))],
        )

    @property
    def workflow_tasks(self) -> dict[str, lambda_.Function]:
        """The function the state machine invokes, keyed by its definition substitution."""
        return {"ExtractInsightsFunctionArn": self.function}
