"""The custom event bus and the input rule that starts one workflow execution per posted review."""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_sqs as sqs
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from reviewflow.contracts import INPUT_DETAIL_TYPE
from stacks.nag import acknowledge


class ReviewEvents(Construct):
    """The bus exists before the workflow (the workflow publishes to it); the rule is added after."""

    def __init__(self, scope: Construct, construct_id: str, *, bus_name: str) -> None:
        super().__init__(scope, construct_id)
        self.bus = events.EventBus(self, "Bus", event_bus_name=bus_name)
        # Events the rule could not deliver (after retries, or older than the maximum age) land here.
        self.dead_letter_queue = sqs.Queue(
            self,
            "InputDeadLetterQueue",
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            retention_period=Duration.days(14),
        )
        acknowledge(
            self.dead_letter_queue,
            "AwsSolutions-SQS3",
            "This queue is itself the dead-letter queue of the input rule's target; messages in it are "
            "inspected by an operator (there is an alarm on its depth), not redriven automatically.",
        )
        self.rule: events.Rule | None = None

    def route_reviews_to(
        self,
        state_machine: sfn.IStateMachine,
        *,
        event_source: str,
        retry_attempts: int,
        max_event_age: Duration,
    ) -> events.Rule:
        # Only the configured source and the input detail-type: the workflow's own outcome events
        # (OUTCOME_SOURCE, which the configuration refuses as input source) never start another one.
        self.rule = events.Rule(
            self,
            "NewReviewRule",
            event_bus=self.bus,
            description="Starts the review-response workflow for every posted review",
            event_pattern=events.EventPattern(source=[event_source], detail_type=[INPUT_DETAIL_TYPE]),
        )
        # The whole event is the execution input (the workflow's first step validates it).
        self.rule.add_target(
            targets.SfnStateMachine(
                state_machine,
                dead_letter_queue=self.dead_letter_queue,
                retry_attempts=retry_attempts,
                max_event_age=max_event_age,
            )
        )
        return self.rule
