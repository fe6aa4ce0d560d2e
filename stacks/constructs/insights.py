"""Product insights: the insights table and the ExtractInsights function, granted only what it does.

The function (built in the shared style by ``Functions.build``) writes the table's two item kinds
(``product#<id>`` feedback, the ``products`` markers; layout in ``reviewflow.models.insights``),
publishes ``PRODUCT_FEEDBACK_EXTRACTED`` on the reviews bus, and, with Bedrock, invokes the
insights model only. The workflow invokes it from the insight branch of its Parallel.
"""

from __future__ import annotations

from aws_cdk import RemovalPolicy
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_events as events
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from reviewflow.contracts import EnvVar
from stacks.config import ReviewflowConfig
from stacks.constructs.bedrock import grant_invoke_models
from stacks.constructs.functions import Functions, FunctionSpec
from stacks.nag import acknowledge

#: Shorter than the reply branch's first model call: the Parallel waits for this branch.
SPEC = FunctionSpec("extract_insights", "Extracts product feedback from a cleared review", 15)
ITEM_KEYS = ["product#*", "products"]


class Insights(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: ReviewflowConfig,
        functions: Functions,
        bus: events.IEventBus,
    ) -> None:
        super().__init__(scope, construct_id)
        # ``Table`` (not ``TableV2``, which the local runtime cannot deploy). Kept on stack deletion:
        # it is the product team's record of what customers said.
        self.table = dynamodb.Table(
            self,
            "Table",
            partition_key=dynamodb.Attribute(name="pk", type=dynamodb.AttributeType.STRING),
            sort_key=dynamodb.Attribute(name="sk", type=dynamodb.AttributeType.STRING),
            billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
            time_to_live_attribute="ttl",
            point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                point_in_time_recovery_enabled=True
            ),
            encryption=dynamodb.TableEncryption.AWS_MANAGED,
            removal_policy=RemovalPolicy.RETAIN,
        )
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

        acknowledge(
            self,
            "AwsSolutions-L1",
            "The runtime is pinned (python_version) with the Powertools layer, as for every function of "
            "the stack (see the Functions construct).",
        )

    @property
    def workflow_tasks(self) -> dict[str, lambda_.Function]:
        """The function the state machine invokes, keyed by its definition substitution."""
        return {"ExtractInsightsFunctionArn": self.function}
