"""The evaluation suite: its bucket, its three functions, the evaluation workflow and its alarms.

The workflow (``statemachines/evaluation.asl.json``, docs/evaluation.md) runs every golden case of
a dataset through each candidate's review steps and writes a report. Everything it touches is
here and granted per function, by folder of the bucket: ``datasets/`` is read, ``results/`` is
written by the case function and read by the aggregate, ``reports/`` is written by the aggregate.
"""

from __future__ import annotations

from pathlib import Path

from aws_cdk import ArnFormat, Duration, RemovalPolicy, Stack
from aws_cdk import aws_events as events
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sns as sns
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from reviewflow.contracts import EnvVar
from stacks.config import ReviewflowConfig
from stacks.constructs.bedrock import grant_invoke_models
from stacks.constructs.buckets import private_bucket
from stacks.constructs.functions import RETENTION, Functions, FunctionSpec
from stacks.constructs.monitoring import alarm_on_any
from stacks.constructs.workflow import _number, state_machine_arn
from stacks.nag import acknowledge, nag_form

DEFINITION_FILE = Path(__file__).resolve().parents[2] / "statemachines" / "evaluation.asl.json"

SPECS = {
    "prepare_evaluation": FunctionSpec(
        "prepare_evaluation", "Checks an evaluation request and pins its dataset version", 60
    ),
    "evaluate_case": FunctionSpec(
        "evaluate_case", "Runs one golden case as one candidate and judges the reply", 300
    ),
    "aggregate_evaluation": FunctionSpec(
        "aggregate_evaluation", "Builds an evaluation's report from every case result", 600
    ),
}
ALARM_PERIOD = Duration.minutes(5)


class EvaluationSuite(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: ReviewflowConfig,
        functions: Functions,
        bus: events.IEventBus,
        alarm_topic: sns.ITopic,
        state_machine_name: str,
        definition_file: Path = DEFINITION_FILE,
    ) -> None:
        super().__init__(scope, construct_id)
        # Datasets and reports outlive the stack (``private_bucket`` keeps it on deletion).
        self.bucket = private_bucket(
            self,
            "Bucket",
            holds="evaluation bucket holds test datasets and generated reports written only by this "
            "stack's functions",
        )
        self._build_functions(config, functions)
        self.state_machine = self._state_machine(config, state_machine_name, bus, definition_file)
        self.alarms = [
            alarm_on_any(
                self,
                "EvaluationsFailed",
                self.state_machine.metric_failed(period=ALARM_PERIOD, statistic="Sum"),
                f"{config.resource_prefix}: an evaluation failed (its EVALUATION_COMPLETED event says where)",
                alarm_topic,
            ),
            alarm_on_any(
                self,
                "EvaluationsTimedOut",
                self.state_machine.metric_timed_out(period=ALARM_PERIOD, statistic="Sum"),
                f"{config.resource_prefix}: an evaluation hit the workflow timeout and announced nothing",
                alarm_topic,
            ),
        ]

    @property
    def task_functions(self) -> dict[str, lambda_.Function]:
        """The functions the evaluation workflow invokes, keyed by their definition substitution."""
        return {
            "PrepareEvaluationFunctionArn": self.prepare_evaluation,
            "EvaluateCaseFunctionArn": self.evaluate_case,
            "AggregateEvaluationFunctionArn": self.aggregate_evaluation,
        }

    def _build_functions(self, config: ReviewflowConfig, functions: Functions) -> None:
        bucket_env = {EnvVar.EVALUATION_BUCKET: self.bucket.bucket_name}
        llm_env = functions.llm_environment()
        # prepare_evaluation builds every candidate's providers (no call) to refuse one it cannot run.
        self.prepare_evaluation = functions.build(
            SPECS["prepare_evaluation"], {**bucket_env, **llm_env}, scope=self
        )
        self.evaluate_case = functions.build(
            SPECS["evaluate_case"],
            {**bucket_env, **llm_env, **functions.reply_check_environment()},
            scope=self,
        )
        self.aggregate_evaluation = functions.build(SPECS["aggregate_evaluation"], bucket_env, scope=self)

        self._allow(self.prepare_evaluation, "s3:GetObject", ["datasets"])
        self._allow(self.evaluate_case, "s3:GetObject", ["datasets"])
        self._allow(self.evaluate_case, "s3:PutObject", ["results"])
        self._allow(self.aggregate_evaluation, "s3:GetObject", ["datasets", "results"])
        self._allow(self.aggregate_evaluation, "s3:PutObject", ["reports"])
        self.aggregate_evaluation.add_to_role_policy(
            iam.PolicyStatement(
                actions=["s3:ListBucket"],
                resources=[self.bucket.bucket_arn],
                conditions={"StringLike": {"s3:prefix": ["results/*"]}},
            )
        )
        comprehend = config.toxicity_provider == "comprehend"
        if comprehend:
            self.evaluate_case.add_to_role_policy(
                iam.PolicyStatement(actions=["comprehend:DetectToxicContent"], resources=["*"])
            )
        if functions.guardrail is not None:
            functions.guardrail.grant_apply(self.evaluate_case)
        grant_invoke_models(self.evaluate_case, config.evaluation_bedrock_model_ids)
        for fn in self.task_functions.values():
            reason = (
                "Active X-Ray tracing needs xray:PutTraceSegments and xray:PutTelemetryRecords, which "
                "support no resource-level permissions, so CDK grants them on '*'."
            )
            if fn is self.evaluate_case and comprehend:
                reason += " comprehend:DetectToxicContent supports no resource-level permissions either."
            acknowledge(fn.role, "AwsSolutions-IAM5[Resource::*]", reason)  # type: ignore[arg-type]
        acknowledge(
            self,
            "AwsSolutions-L1",
            "The runtime is pinned (python_version) together with the Powertools layer, like the "
            "pipeline's functions: a newer runtime is a config change made with the layer version.",
        )

    def _allow(self, fn: lambda_.Function, action: str, folders: list[str]) -> None:
        """``action`` on the objects of the bucket's ``folders`` (their keys are made at run time)."""
        resources = [self.bucket.arn_for_objects(f"{folder}/*") for folder in folders]
        fn.add_to_role_policy(iam.PolicyStatement(actions=[action], resources=resources))
        for folder in folders:
            acknowledge(
                fn.role,  # type: ignore[arg-type]
                f"AwsSolutions-IAM5[Resource::<{self._bucket_logical_id()}.Arn>/{folder}/*]",
                "Objects of one folder of the evaluation bucket: their keys are made at run time from the "
                "evaluation id, the candidate and the case id, so the grant names the folder.",
            )

    def _bucket_logical_id(self) -> str:
        return Stack.of(self).get_logical_id(self.bucket.node.default_child)  # type: ignore[arg-type]

    def _state_machine(
        self, config: ReviewflowConfig, name: str, bus: events.IEventBus, definition_file: Path
    ) -> sfn.StateMachine:
        substitutions = {key: fn.function_arn for key, fn in self.task_functions.items()}
        substitutions.update(
            {
                "EventBusName": bus.event_bus_name,
                # Numbers travel as strings; the definition parses them with States.StringToJson.
                "LowThreshold": _number(config.low_threshold),
                "HighThreshold": _number(config.high_threshold),
                "EvaluationMaxConcurrency": str(config.evaluation_max_concurrency),
            }
        )
        log_group = logs.LogGroup(
            self,
            "ExecutionLogs",
            log_group_name=f"/aws/vendedlogs/states/{name}",
            retention=RETENTION[config.log_retention_days],
            removal_policy=RemovalPolicy.DESTROY,
        )
        machine = sfn.StateMachine(
            self,
            "StateMachine",
            state_machine_name=name,
            state_machine_type=sfn.StateMachineType.STANDARD,
            definition_body=sfn.DefinitionBody.from_file(str(definition_file)),
            definition_substitutions=substitutions,
            tracing_enabled=True,
            # Execution data stays out of the logs: task inputs carry review text.
            logs=sfn.LogOptions(destination=log_group, level=sfn.LogLevel.ALL, include_execution_data=False),
        )
        role = machine.role
        role.add_to_principal_policy(
            iam.PolicyStatement(
                sid="InvokeEvaluationFunctions",
                actions=["lambda:InvokeFunction"],
                resources=[fn.function_arn for fn in self.task_functions.values()],
            )
        )
        role.add_to_principal_policy(
            iam.PolicyStatement(
                sid="PublishEvaluationCompleted", actions=["events:PutEvents"], resources=[bus.event_bus_arn]
            )
        )
        # The distributed map runs each case as a child execution of this state machine (named by
        # ARN: a reference to the machine from its own role's policy would be a cycle).
        children = Stack.of(self).format_arn(
            service="states",
            resource="execution",
            resource_name=f"{name}/*",
            arn_format=ArnFormat.COLON_RESOURCE_NAME,
        )
        role.add_to_principal_policy(
            iam.PolicyStatement(
                sid="RunCaseExecutions",
                actions=["states:StartExecution"],
                resources=[state_machine_arn(self, name)],
            )
        )
        role.add_to_principal_policy(
            iam.PolicyStatement(
                sid="WatchCaseExecutions",
                actions=["states:DescribeExecution", "states:StopExecution"],
                resources=[children],
            )
        )
        acknowledge(
            role,
            f"AwsSolutions-IAM5[Resource::{nag_form(children)}]",
            "The distributed map's child executions get names only at run time; the grant is limited to "
            "executions of this one state machine, as the Step Functions documentation prescribes.",
        )
        acknowledge(
            role,
            "AwsSolutions-IAM5[Resource::*]",
            "Step Functions X-Ray tracing and log delivery support no resource-level permissions, so CDK "
            "grants them on '*'.",
        )
        return machine
