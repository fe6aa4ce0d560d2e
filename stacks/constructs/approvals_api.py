"""Human approval: the REST API behind the emailed links (``GET``/``POST /approvals/{approval_id}``,
and ``GET /reviewers/{reviewer_id}/queue`` for a roster reviewer's queue) and everything its two
functions may reach, so their grants and settings live next to the API."""

from __future__ import annotations

from aws_cdk import RemovalPolicy
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sns as sns
from constructs import Construct

from reviewflow.contracts import EnvVar
from stacks.config import ReviewflowConfig
from stacks.constructs.approvals_table import APPROVAL_ITEMS_ONLY, pending_index_arn
from stacks.constructs.functions import RETENTION
from stacks.nag import acknowledge

STAGE_NAME = "prod"

# Access log fields. Links carry the secret in the query string (?s=...), so nothing here may
# include it: resourcePath is the route template, never the requested URL.
ACCESS_LOG_FIELDS = {
    "requestId": "$context.requestId",
    "requestTime": "$context.requestTime",
    "ip": "$context.identity.sourceIp",
    "userAgent": "$context.identity.userAgent",
    "httpMethod": "$context.httpMethod",
    "resourcePath": "$context.resourcePath",
    "status": "$context.status",
    "responseLength": "$context.responseLength",
    "integrationLatency": "$context.integrationLatency",
}


class ApprovalsApi(Construct):
    """``request_approval`` stores a pending approval and emails its links; ``approval_api`` serves
    them and resumes the workflow named by ``workflow_arn`` (an ARN, not a reference: the reference
    would close the cycle state machine -> request_approval -> API -> approval_api)."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: ReviewflowConfig,
        request_approval: lambda_.Function,
        approval_api: lambda_.Function,
        table: dynamodb.ITable,
        reviewer_topic: sns.ITopic,
        workflow_arn: str,
    ) -> None:
        super().__init__(scope, construct_id)
        self.access_logs = logs.LogGroup(
            self,
            "AccessLogs",
            retention=RETENTION[config.log_retention_days],
            removal_policy=RemovalPolicy.DESTROY,
        )
        self.api = apigw.RestApi(
            self,
            "Api",
            rest_api_name=f"{config.resource_prefix}-approvals",
            description="reviewflow: approval pages and decisions (links are emailed to reviewers)",
            endpoint_types=[apigw.EndpointType.REGIONAL],
            cloud_watch_role=config.api_gateway_cloudwatch_role,
            deploy_options=apigw.StageOptions(
                stage_name=STAGE_NAME,
                throttling_rate_limit=config.api_throttle_rate_limit,
                throttling_burst_limit=config.api_throttle_burst_limit,
                tracing_enabled=True,
                metrics_enabled=True,
                access_log_destination=apigw.LogGroupLogDestination(self.access_logs),
                access_log_format=apigw.AccessLogFormat.custom(_json(ACCESS_LOG_FIELDS)),
            ),
        )
        validator = apigw.RequestValidator(
            self.api,
            "PathValidator",
            rest_api=self.api,
            validate_request_parameters=True,
            validate_request_body=True,
        )
        integration = apigw.LambdaIntegration(approval_api, proxy=True)
        approval = self.api.root.add_resource("approvals").add_resource("{approval_id}")
        for method in ("GET", "POST"):
            approval.add_method(
                method,
                integration,
                request_parameters={"method.request.path.approval_id": True},
                request_validator=validator,
                authorization_type=apigw.AuthorizationType.NONE,
            )
        # Known reviewers (the roster, or escalation reviewers) each have a queue: shown only (no
        # POST), opened with the approval and secret of one of their emails. Without any, no route.
        has_queue = bool(config.reviewers or config.escalation_reviewers)
        if has_queue:
            queue = (
                self.api.root.add_resource("reviewers").add_resource("{reviewer_id}").add_resource("queue")
            )
            queue.add_method(
                "GET",
                integration,
                request_parameters={"method.request.path.reviewer_id": True},
                request_validator=validator,
                authorization_type=apigw.AuthorizationType.NONE,
            )

        acknowledge(
            self.api,
            "AwsSolutions-APIG4",
            "Reviewers open these pages from an emailed link; the link's per-approval secret (>=128 bits, "
            "only its hash stored, single use, expiring) is the authorization, checked by the function.",
        )
        acknowledge(
            self.api,
            "AwsSolutions-COG4",
            "No Cognito user pool: reviewers are authorized by the per-approval link secret, not by an "
            "account (see AwsSolutions-APIG4).",
        )
        acknowledge(
            self.api,
            "AwsSolutions-APIG3",
            "No WAF web ACL: the API serves a few routes to a handful of reviewers, is throttled at the "
            "stage, and every request needs an unguessable secret; a web ACL would cost more than it adds.",
        )
        acknowledge(
            self.api,
            "AwsSolutions-APIG6",
            "Execution logging is off on purpose: it records request details including the query string, "
            "which carries the link secret. Access logs (without the query string) are on.",
        )
        cloud_watch_role = self.api.node.try_find_child("CloudWatchRole")
        if cloud_watch_role is not None:
            acknowledge(
                cloud_watch_role,
                "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/"
                "AmazonAPIGatewayPushToCloudWatchLogs]",
                "The account-level API Gateway logging role uses the AWS managed policy made for exactly "
                "this purpose.",
            )
        self._wire_request_approval(request_approval, table, reviewer_topic)
        self._wire_approval_api(approval_api, table, workflow_arn, queue=has_queue)
        if config.reviewers:
            # The roster's ids only: one link per reviewer, published with the ``reviewer`` attribute
            # that their subscription's filter policy matches. The emails stay in the subscriptions.
            request_approval.add_environment(
                EnvVar.REVIEWER_IDS, ",".join(reviewer.id for reviewer in config.reviewers)
            )

    def _wire_request_approval(
        self, function: lambda_.Function, table: dynamodb.ITable, reviewer_topic: sns.ITopic
    ) -> None:
        function.add_environment(EnvVar.APPROVALS_TABLE, table.table_name)
        function.add_environment(EnvVar.NOTIFICATION_TOPIC_ARN, reviewer_topic.topic_arn)
        function.add_environment(EnvVar.APPROVAL_BASE_URL, self.url)
        # Put the pending approval; delete it again if its email cannot be sent (nobody has the link).
        function.add_to_role_policy(
            iam.PolicyStatement(
                actions=["dynamodb:PutItem", "dynamodb:DeleteItem"],
                resources=[table.table_arn],
                conditions=APPROVAL_ITEMS_ONLY,
            )
        )
        reviewer_topic.grant_publish(function)
        acknowledge(
            function.role,  # type: ignore[arg-type]
            "AwsSolutions-IAM5[Action::kms:GenerateDataKey*]",
            "Publishing to the encrypted topic needs a data key from the topic's KMS key; the grant names "
            "that one key, the wildcard only covers the GenerateDataKey variants.",
        )

    @staticmethod
    def _wire_approval_api(
        function: lambda_.Function, table: dynamodb.ITable, workflow_arn: str, *, queue: bool
    ) -> None:
        # Read the approval, decide it once (conditional update), resume the workflow.
        function.add_environment(EnvVar.APPROVALS_TABLE, table.table_name)
        function.add_to_role_policy(
            iam.PolicyStatement(
                actions=["dynamodb:GetItem", "dynamodb:UpdateItem"],
                resources=[table.table_arn],
                conditions=APPROVAL_ITEMS_ONLY,
            )
        )
        if queue:
            # The reviewer queue lists pending approvals from the sparse index; its partition key
            # value ("approval#PENDING") keeps the query inside the approval items as well.
            function.add_to_role_policy(
                iam.PolicyStatement(
                    actions=["dynamodb:Query"],
                    resources=[pending_index_arn(table)],
                    conditions=APPROVAL_ITEMS_ONLY,
                )
            )
        # Both decisions resume the workflow with SendTaskSuccess (a rejection is a decision, not
        # a task failure), so SendTaskFailure is not granted.
        function.add_to_role_policy(
            iam.PolicyStatement(actions=["states:SendTaskSuccess"], resources=[workflow_arn])
        )

    @property
    def url(self) -> str:
        """The stage URL without a trailing slash (what ``EnvVar.APPROVAL_BASE_URL`` expects)."""
        api = self.api
        stack = api.stack
        return f"https://{api.rest_api_id}.execute-api.{stack.region}.{stack.url_suffix}/{STAGE_NAME}"


def _json(fields: dict[str, str]) -> str:
    # Every value quoted: API Gateway writes "-" for a missing value, which would break bare numbers.
    return "{" + ",".join(f'"{key}":"{value}"' for key, value in fields.items()) + "}"
