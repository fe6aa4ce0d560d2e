"""The eight Lambda functions: one code asset (``functions/``), the managed Powertools layer, an
explicit log group each, X-Ray tracing, and a role per function that grants only what it calls.
``Functions.build`` makes other constructs' functions (the evaluation suite's) in the same style."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from aws_cdk import Duration, Fn, RemovalPolicy
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from reviewflow.contracts import EnvVar
from stacks.config import ReviewflowConfig
from stacks.constructs.bedrock import grant_invoke_models
from stacks.constructs.guardrail import ToxicityGuardrail
from stacks.nag import acknowledge

FUNCTIONS_DIR = Path(__file__).resolve().parents[2] / "functions"

# Published by the Powertools team in every commercial region; bundles pydantic and aws-xray-sdk.
POWERTOOLS_LAYER_ACCOUNT = "017000801446"

# Files that must never reach the deployment package.
ASSET_EXCLUDES = ["**/__pycache__", "**/*.pyc", "**/.pytest_cache", "**/.mypy_cache", "**/*.egg-info"]

RETENTION = {
    1: logs.RetentionDays.ONE_DAY,
    3: logs.RetentionDays.THREE_DAYS,
    5: logs.RetentionDays.FIVE_DAYS,
    7: logs.RetentionDays.ONE_WEEK,
    14: logs.RetentionDays.TWO_WEEKS,
    30: logs.RetentionDays.ONE_MONTH,
    60: logs.RetentionDays.TWO_MONTHS,
    90: logs.RetentionDays.THREE_MONTHS,
    120: logs.RetentionDays.FOUR_MONTHS,
    150: logs.RetentionDays.FIVE_MONTHS,
    180: logs.RetentionDays.SIX_MONTHS,
    365: logs.RetentionDays.ONE_YEAR,
    400: logs.RetentionDays.THIRTEEN_MONTHS,
    545: logs.RetentionDays.EIGHTEEN_MONTHS,
    731: logs.RetentionDays.TWO_YEARS,
    1096: logs.RetentionDays.THREE_YEARS,
    1827: logs.RetentionDays.FIVE_YEARS,
    3653: logs.RetentionDays.TEN_YEARS,
}


@dataclass(frozen=True)
class FunctionSpec:
    name: str
    description: str
    timeout_seconds: int


#: Functions that score text with the toxicity provider: the review and the draft, the reply about
#: to be published, and a reviewer's edit on the approval page.
TOXICITY_SCORERS = ("score_toxicity", "check_reply", "approval_api")

SPECS = {
    "validate_review": FunctionSpec("validate_review", "Reads the posted event into a review", 10),
    "score_toxicity": FunctionSpec("score_toxicity", "Scores review or reply toxicity", 30),
    "detect_sentiment": FunctionSpec("detect_sentiment", "Asks the LLM for the review's sentiment", 90),
    "generate_response": FunctionSpec("generate_response", "Asks the LLM to write the reply", 120),
    "check_reply": FunctionSpec(
        "check_reply", "Checks a reply's toxicity and reply policy before publishing", 30
    ),
    "request_approval": FunctionSpec("request_approval", "Stores the task token and emails the reviewer", 20),
    "approval_api": FunctionSpec("approval_api", "Serves the approval pages and records decisions", 20),
    "build_outcome": FunctionSpec("build_outcome", "Assembles the one outcome event of a review", 10),
}


class Functions(Construct):
    """Builds the functions; the other constructs add their grants (table, topic, state machine)."""

    def __init__(self, scope: Construct, construct_id: str, *, config: ReviewflowConfig) -> None:
        super().__init__(scope, construct_id)
        self._config = config
        arch = config.architecture
        python_tag = "python" + config.python_version.replace(".", "")
        self.runtime = {"3.12": lambda_.Runtime.PYTHON_3_12, "3.13": lambda_.Runtime.PYTHON_3_13}[
            config.python_version
        ]
        self.powertools_layer_arn = Fn.sub(
            "arn:${AWS::Partition}:lambda:${AWS::Region}:"
            f"{POWERTOOLS_LAYER_ACCOUNT}:layer:AWSLambdaPowertoolsPythonV3-{python_tag}-{arch}:"
            f"{config.powertools_layer_version}"
        )
        self.powertools_layer = lambda_.LayerVersion.from_layer_version_arn(
            self, "PowertoolsLayer", self.powertools_layer_arn
        )
        # One asset for all functions. With the context key aws:cdk:disable-asset-staging the asset
        # points at functions/ itself (the local runtime relies on that).
        self.code = lambda_.Code.from_asset(str(FUNCTIONS_DIR), exclude=ASSET_EXCLUDES)

        # The Bedrock guardrail the toxicity scorers apply (toxicity_provider: guardrails), or None.
        self.guardrail = (
            ToxicityGuardrail(self, "ToxicityGuardrail", config=config)
            if config.toxicity_provider == "guardrails"
            else None
        )

        self.validate_review = self.build(
            SPECS["validate_review"], {EnvVar.LEDGER_TTL_DAYS: str(config.ledger_ttl_days)}
        )
        self.score_toxicity = self.build(SPECS["score_toxicity"], self.toxicity_environment())
        self.detect_sentiment = self.build(SPECS["detect_sentiment"], self.llm_environment())
        self.generate_response = self.build(SPECS["generate_response"], self.llm_environment())
        # The publish gate and the approval page check reply texts with the same provider and policy.
        self.check_reply = self.build(SPECS["check_reply"], self.reply_check_environment())
        # request_approval and approval_api get their table/topic/API settings from ApprovalsApi.
        self.request_approval = self.build(SPECS["request_approval"], {})
        self.approval_api = self.build(SPECS["approval_api"], self.reply_check_environment())
        self.build_outcome = self.build(SPECS["build_outcome"], {})

        xray = (
            "Active X-Ray tracing needs xray:PutTraceSegments and xray:PutTelemetryRecords, which support "
            "no resource-level permissions, so CDK grants them on '*'."
        )
        for name, fn in self.all.items():
            reason = xray
            if name in TOXICITY_SCORERS and config.toxicity_provider == "comprehend":
                fn.add_to_role_policy(
                    iam.PolicyStatement(actions=["comprehend:DetectToxicContent"], resources=["*"])
                )
                reason += (
                    " comprehend:DetectToxicContent supports no resource-level permissions either, so its "
                    "only valid resource is '*'."
                )
            if name in TOXICITY_SCORERS and self.guardrail is not None:
                self.guardrail.grant_apply(fn)
            acknowledge(fn.role, "AwsSolutions-IAM5[Resource::*]", reason)  # type: ignore[arg-type]
        acknowledge(
            self,
            "AwsSolutions-L1",
            "The runtime is pinned (python_version) to one for which the pinned Powertools layer, with its "
            "pydantic-core build, is published and was tested; moving to a newer runtime is a config change "
            "made together with the layer version.",
        )
        for fn in (self.detect_sentiment, self.generate_response):
            grant_invoke_models(fn, config.bedrock_model_ids)

    @property
    def all(self) -> dict[str, lambda_.Function]:
        return {name: getattr(self, name) for name in SPECS}

    @property
    def workflow_tasks(self) -> dict[str, lambda_.Function]:
        """The functions the state machine invokes, keyed by their definition substitution."""
        return {
            "ValidateReviewFunctionArn": self.validate_review,
            "ScoreToxicityFunctionArn": self.score_toxicity,
            "DetectSentimentFunctionArn": self.detect_sentiment,
            "GenerateResponseFunctionArn": self.generate_response,
            "CheckReplyFunctionArn": self.check_reply,
            "RequestApprovalFunctionArn": self.request_approval,
            "BuildOutcomeFunctionArn": self.build_outcome,
        }

    def toxicity_environment(self) -> dict[EnvVar, str]:
        """The toxicity provider's settings, for every function that scores text with it."""
        env: dict[EnvVar, str] = {EnvVar.TOXICITY_PROVIDER: self._config.toxicity_provider}
        if self.guardrail is not None:
            env.update(self.guardrail.environment)
        return env

    def reply_check_environment(self) -> dict[EnvVar, str]:
        config = self._config
        env = self.toxicity_environment()
        if config.reply_policy_version:
            env[EnvVar.REPLY_POLICY_VERSION] = config.reply_policy_version
        return env

    def llm_environment(self) -> dict[EnvVar, str]:
        config = self._config
        env: dict[EnvVar, str] = {EnvVar.LLM_PROVIDER: config.llm_provider}
        remote = config.llm_provider != "local"  # the offline responder uses no model id
        optional = {
            EnvVar.MODEL_ID: config.model_id if remote else None,
            EnvVar.SENTIMENT_MODEL_ID: config.sentiment_model_id if remote else None,
            EnvVar.OPENAI_BASE_URL: config.openai_base_url if config.llm_provider == "openai" else None,
            EnvVar.RESPONSE_MAX_TOKENS: (
                str(config.response_max_tokens) if config.response_max_tokens is not None else None
            ),
            EnvVar.SENTIMENT_PROMPT_VERSION: config.sentiment_prompt_version,
            EnvVar.RESPONSE_PROMPT_VERSION: config.response_prompt_version,
        }
        env.update({key: value for key, value in optional.items() if value})
        return env

    def build(
        self, spec: FunctionSpec, environment: Mapping[EnvVar, str], *, scope: Construct | None = None
    ) -> lambda_.Function:
        """A function in the shared style (asset, layer, runtime, own log group and role, tracing),
        under ``scope`` (default: this construct); other constructs build theirs with it."""
        config = self._config
        scope = scope or self
        construct_id = "".join(part.title() for part in spec.name.split("_"))
        log_group = logs.LogGroup(
            scope,
            f"{construct_id}Logs",
            retention=RETENTION[config.log_retention_days],
            removal_policy=RemovalPolicy.DESTROY,
        )
        # An own role without the AWSLambdaBasicExecutionRole managed policy: logs go to this one
        # log group only.
        role = iam.Role(
            scope,
            f"{construct_id}Role",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description=f"reviewflow {spec.name}: only what this function calls",
        )
        role.add_to_policy(
            iam.PolicyStatement(
                actions=["logs:CreateLogStream", "logs:PutLogEvents"], resources=[log_group.log_group_arn]
            )
        )
        fn = lambda_.Function(
            scope,
            construct_id,
            description=f"reviewflow: {spec.description}",
            runtime=self.runtime,
            architecture=(
                lambda_.Architecture.ARM_64 if config.architecture == "arm64" else lambda_.Architecture.X86_64
            ),
            handler=f"reviewflow.handlers.{spec.name}.handler",
            code=self.code,
            layers=[self.powertools_layer],
            memory_size=config.lambda_memory_mb,
            timeout=Duration.seconds(spec.timeout_seconds),
            tracing=lambda_.Tracing.ACTIVE,
            logging_format=lambda_.LoggingFormat.JSON,
            log_group=log_group,
            role=role,
            environment={
                "POWERTOOLS_SERVICE_NAME": "reviewflow",
                "POWERTOOLS_METRICS_NAMESPACE": "Reviewflow",
                "POWERTOOLS_LOG_LEVEL": config.log_level,
                **{name.value: value for name, value in environment.items()},
            },
        )
        return fn
