"""The Standard state machine, loaded from statemachines/review_response.asl.json."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path

from aws_cdk import ArnFormat, RemovalPolicy, Stack
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_events as events
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from stacks.config import APPROVAL_MARGIN_SECONDS, ReviewflowConfig
from stacks.constructs.approvals_table import REVIEW_CLAIMS_ONLY
from stacks.constructs.functions import RETENTION
from stacks.nag import acknowledge

DEFINITION_FILE = Path(__file__).resolve().parents[2] / "statemachines" / "review_response.asl.json"


def state_machine_arn(scope: Construct, name: str) -> str:
    """The ARN of the state machine named ``name`` in this stack, without referencing the resource.

    Used where a reference would close a dependency cycle (the approval API's SendTask* grant).
    """
    return Stack.of(scope).format_arn(
        service="states",
        resource="stateMachine",
        resource_name=name,
        arn_format=ArnFormat.COLON_RESOURCE_NAME,
    )


def read_definition(path: Path) -> dict:
    with path.open(encoding="utf-8") as handle:
        definition: dict = json.load(handle)
    return definition


class Workflow(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: ReviewflowConfig,
        state_machine_name: str,
        task_functions: Mapping[str, lambda_.IFunction],
        table: dynamodb.ITable,
        bus: events.IEventBus,
        definition_file: Path = DEFINITION_FILE,
    ) -> None:
        super().__init__(scope, construct_id)
        definition = read_definition(definition_file)
        self._check_workflow_timeout(definition, config, definition_file)

        substitutions = {key: fn.function_arn for key, fn in task_functions.items()}
        substitutions.update(
            {
                "EventBusName": bus.event_bus_name,
                "ApprovalsTableName": table.table_name,
                # Numbers travel as strings; the definition parses them with States.StringToJson.
                "LowThreshold": _number(config.low_threshold),
                "HighThreshold": _number(config.high_threshold),
                "ApprovalTimeoutSeconds": str(config.approval_timeout_seconds),
                "MaxDraftRounds": str(config.max_draft_rounds),
            }
        )
        self.log_group = logs.LogGroup(
            self,
            "ExecutionLogs",
            log_group_name=f"/aws/vendedlogs/states/{state_machine_name}",
            retention=RETENTION[config.log_retention_days],
            removal_policy=RemovalPolicy.DESTROY,
        )
        self.state_machine = sfn.StateMachine(
            self,
            "StateMachine",
            state_machine_name=state_machine_name,
            state_machine_type=sfn.StateMachineType.STANDARD,
            definition_body=sfn.DefinitionBody.from_file(str(definition_file)),
            definition_substitutions=substitutions,
            tracing_enabled=True,
            # Execution data stays out of the logs: task inputs carry task tokens and review text.
            logs=sfn.LogOptions(
                destination=self.log_group, level=sfn.LogLevel.ALL, include_execution_data=False
            ),
        )
        role = self.state_machine.role
        role.add_to_principal_policy(
            iam.PolicyStatement(
                sid="InvokeWorkflowFunctions",
                actions=["lambda:InvokeFunction"],
                resources=[fn.function_arn for fn in task_functions.values()],
            )
        )
        role.add_to_principal_policy(
            iam.PolicyStatement(
                sid="ClaimReview",
                actions=["dynamodb:PutItem"],
                resources=[table.table_arn],
                conditions=REVIEW_CLAIMS_ONLY,
            )
        )
        role.add_to_principal_policy(
            iam.PolicyStatement(
                sid="PublishOutcome", actions=["events:PutEvents"], resources=[bus.event_bus_arn]
            )
        )
        acknowledge(
            role,
            "AwsSolutions-IAM5[Resource::*]",
            "Step Functions X-Ray tracing (xray:PutTraceSegments, PutTelemetryRecords, GetSampling*) and "
            "log delivery (logs:CreateLogDelivery, PutResourcePolicy, DescribeLogGroups, ...) support no "
            "resource-level permissions, so CDK grants them on '*'.",
        )

    @staticmethod
    def _check_workflow_timeout(definition: dict, config: ReviewflowConfig, path: Path) -> None:
        """The ASL's own ``TimeoutSeconds`` (its one home) must outlast every human review.

        A workflow timeout ends an execution without an outcome event, so it is only a backstop:
        every path must reach its outcome first, including the longest one: the review's approval,
        the first draft's and one more per new-draft round, each waiting its whole window.
        """
        actual = definition.get("TimeoutSeconds")
        approvals = 2 + config.max_draft_rounds
        needed = approvals * config.approval_timeout_seconds + APPROVAL_MARGIN_SECONDS
        if not isinstance(actual, int) or actual < needed:
            raise ValueError(
                f"{path.name} has TimeoutSeconds={actual!r}, but {approvals} approvals of "
                f"approval_timeout_seconds={config.approval_timeout_seconds} plus a margin of "
                f"{APPROVAL_MARGIN_SECONDS} s need at least {needed}: raise TimeoutSeconds in {path.name}"
            )


def _number(value: float) -> str:
    """``0.4`` -> ``"0.4"``, ``1.0`` -> ``"1"``: valid JSON for States.StringToJson."""
    text = repr(float(value))
    return text[:-2] if text.endswith(".0") else text


__all__ = ["DEFINITION_FILE", "Workflow", "read_definition", "state_machine_arn"]
