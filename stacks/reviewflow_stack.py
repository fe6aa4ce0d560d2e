"""The one reviewflow stack: composes the constructs and wires their grants and settings."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from aws_cdk import CfnOutput, Duration, Stack
from aws_cdk import aws_iam as iam
from constructs import Construct

from stacks.config import ReviewflowConfig
from stacks.constructs.approvals_api import ApprovalsApi
from stacks.constructs.approvals_table import APPROVAL_ITEMS_ONLY, ApprovalsTable
from stacks.constructs.events import ReviewEvents
from stacks.constructs.functions import Functions
from stacks.constructs.monitoring import Monitoring
from stacks.constructs.notifications import Notifications
from stacks.constructs.workflow import DEFINITION_FILE, Workflow, state_machine_arn
from stacks.nag import acknowledge


class ReviewflowStack(Stack):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: ReviewflowConfig,
        definition_file: Path = DEFINITION_FILE,
        **kwargs: Any,
    ) -> None:
        super().__init__(scope, construct_id, description="reviewflow: answers product reviews", **kwargs)
        prefix = config.resource_prefix
        # A fixed name lets the approval API be granted SendTask* on the state machine by ARN, without a
        # reference that would close the cycle state machine -> request_approval -> API -> approval_api.
        state_machine_name = f"{prefix}-review-response"

        table = ApprovalsTable(self, "ApprovalsTable").table
        notifications = Notifications(
            self, "Notifications", reviewer_email=config.reviewer_email, alarm_email=config.alarm_email
        )
        review_events = ReviewEvents(self, "Events", bus_name=f"{prefix}-reviews")
        functions = Functions(self, "Functions", config=config)
        api = ApprovalsApi(self, "ApprovalsApi", config=config, handler=functions.approval_api)

        # request_approval: store the token server-side, email the links.
        request_approval = functions.request_approval
        request_approval.add_environment("REVIEWFLOW_APPROVALS_TABLE", table.table_name)
        request_approval.add_environment(
            "REVIEWFLOW_NOTIFICATION_TOPIC_ARN", notifications.reviewer_topic.topic_arn
        )
        request_approval.add_environment("REVIEWFLOW_APPROVAL_BASE_URL", api.url)
        # Put the pending approval; delete it again if its email cannot be sent (nobody has the link).
        request_approval.add_to_role_policy(
            iam.PolicyStatement(
                actions=["dynamodb:PutItem", "dynamodb:DeleteItem"],
                resources=[table.table_arn],
                conditions=APPROVAL_ITEMS_ONLY,
            )
        )
        notifications.reviewer_topic.grant_publish(request_approval)
        acknowledge(
            request_approval.role,  # type: ignore[arg-type]
            "AwsSolutions-IAM5[Action::kms:GenerateDataKey*]",
            "Publishing to the encrypted topic needs a data key from the topic's KMS key; the grant names "
            "that one key, the wildcard only covers the GenerateDataKey variants.",
        )

        # approval_api: read the approval, decide it once (conditional update), resume the workflow.
        approval_api = functions.approval_api
        approval_api.add_environment("REVIEWFLOW_APPROVALS_TABLE", table.table_name)
        approval_api.add_to_role_policy(
            iam.PolicyStatement(
                actions=["dynamodb:GetItem", "dynamodb:UpdateItem"],
                resources=[table.table_arn],
                conditions=APPROVAL_ITEMS_ONLY,
            )
        )
        # Both decisions resume the workflow with SendTaskSuccess (a rejection is a decision, not
        # a task failure), so SendTaskFailure is not granted.
        approval_api.add_to_role_policy(
            iam.PolicyStatement(
                actions=["states:SendTaskSuccess"],
                resources=[state_machine_arn(self, state_machine_name)],
            )
        )

        workflow = Workflow(
            self,
            "Workflow",
            config=config,
            state_machine_name=state_machine_name,
            task_functions=functions.workflow_tasks,
            table=table,
            bus=review_events.bus,
            definition_file=definition_file,
        )
        review_events.route_reviews_to(
            workflow.state_machine,
            event_source=config.event_source,
            retry_attempts=config.rule_retry_attempts,
            max_event_age=Duration.seconds(config.rule_max_event_age_seconds),
        )
        Monitoring(
            self,
            "Monitoring",
            state_machine=workflow.state_machine,
            dead_letter_queue=review_events.dead_letter_queue,
            functions=functions.all,
            alarm_topic=notifications.alarm_topic,
            prefix=prefix,
        )

        CfnOutput(self, "EventBusName", value=review_events.bus.event_bus_name)
        CfnOutput(self, "EventSource", value=config.event_source)
        CfnOutput(self, "StateMachineArn", value=workflow.state_machine.state_machine_arn)
        CfnOutput(self, "ApprovalApiUrl", value=api.url)
        CfnOutput(self, "ApprovalsTableName", value=table.table_name)
        CfnOutput(self, "ReviewerTopicArn", value=notifications.reviewer_topic.topic_arn)
        CfnOutput(self, "InputDeadLetterQueueUrl", value=review_events.dead_letter_queue.queue_url)
