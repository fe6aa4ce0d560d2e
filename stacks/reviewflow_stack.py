"""The one reviewflow stack. It only composes: each construct grants and configures what it owns,
and the stack hands constructs to each other and names what the deployed stack exports."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from aws_cdk import CfnOutput, Duration, Stack
from constructs import Construct

from stacks.config import ReviewflowConfig
from stacks.constructs.approvals_api import ApprovalsApi
from stacks.constructs.approvals_table import ApprovalsTable
from stacks.constructs.evaluation import EvaluationSuite
from stacks.constructs.events import ReviewEvents
from stacks.constructs.functions import Functions
from stacks.constructs.insights import Insights
from stacks.constructs.monitoring import Monitoring
from stacks.constructs.notifications import Notifications
from stacks.constructs.storefront import StorefrontDelivery
from stacks.constructs.workflow import DEFINITION_FILE, Workflow, state_machine_arn


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
        # A fixed name lets the approval API resume the workflow by ARN: a reference would close the
        # cycle state machine -> request_approval -> API -> approval_api.
        state_machine_name = f"{prefix}-review-response"

        table = ApprovalsTable(self, "ApprovalsTable").table
        notifications = Notifications(
            self, "Notifications", reviewer_email=config.reviewer_email, alarm_email=config.alarm_email
        )
        review_events = ReviewEvents(self, "Events", bus_name=f"{prefix}-reviews")
        functions = Functions(self, "Functions", config=config)
        insights = Insights(
            self,
            "Insights",
            config=config,
            functions=functions,
            bus=review_events.bus,
            topic_key=notifications.key,
        )
        api = ApprovalsApi(
            self,
            "ApprovalsApi",
            config=config,
            request_approval=functions.request_approval,
            approval_api=functions.approval_api,
            table=table,
            reviewer_topic=notifications.reviewer_topic,
            workflow_arn=state_machine_arn(self, state_machine_name),
        )
        workflow = Workflow(
            self,
            "Workflow",
            config=config,
            state_machine_name=state_machine_name,
            task_functions={**functions.workflow_tasks, **insights.workflow_tasks},
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
        evaluation = EvaluationSuite(
            self,
            "Evaluation",
            config=config,
            functions=functions,
            bus=review_events.bus,
            alarm_topic=notifications.alarm_topic,
            # Named, because its role lets the distributed map start child executions of itself.
            state_machine_name=f"{prefix}-evaluation",
        )
        Monitoring(
            self,
            "Monitoring",
            state_machine=workflow.state_machine,
            dead_letter_queue=review_events.dead_letter_queue,
            functions={
                **functions.all,
                "extract_insights": insights.function,
                "insights_report": insights.report_function,
            },
            alarm_topic=notifications.alarm_topic,
            prefix=prefix,
        )

        # The outputs are the deployed stack's interface, looked up by key: they belong to the stack.
        CfnOutput(self, "EventBusName", value=review_events.bus.event_bus_name)
        CfnOutput(self, "EventSource", value=config.event_source)
        CfnOutput(self, "StateMachineArn", value=workflow.state_machine.state_machine_arn)
        CfnOutput(self, "ApprovalApiUrl", value=api.url)
        CfnOutput(self, "ApprovalsTableName", value=table.table_name)
        CfnOutput(self, "ReviewerTopicArn", value=notifications.reviewer_topic.topic_arn)
        CfnOutput(self, "InputDeadLetterQueueUrl", value=review_events.dead_letter_queue.queue_url)
        CfnOutput(self, "EvaluationBucketName", value=evaluation.bucket.bucket_name)
        CfnOutput(self, "EvaluationStateMachineArn", value=evaluation.state_machine.state_machine_arn)
        CfnOutput(self, "InsightsTableName", value=insights.table.table_name)
        CfnOutput(self, "InsightsReportBucketName", value=insights.reports_bucket.bucket_name)
        CfnOutput(self, "InsightsReportFunctionName", value=insights.report_function.function_name)
        CfnOutput(self, "ProductTeamTopicArn", value=insights.product_team_topic.topic_arn)

        # Storefront delivery (API destinations): only when the configuration names an endpoint.
        if config.storefront is not None and config.storefront.enabled:
            storefront = StorefrontDelivery(
                self,
                "Storefront",
                config=config.storefront,
                bus=review_events.bus,
                alarm_topic=notifications.alarm_topic,
                prefix=prefix,
            )
            CfnOutput(self, "StorefrontDeadLetterQueueUrl", value=storefront.dead_letter_queue.queue_url)
