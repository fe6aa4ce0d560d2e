"""Alarms on what means a review went unanswered or an event was lost, sent to the alarm topic."""

from __future__ import annotations

from collections.abc import Mapping

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as actions
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

PERIOD = Duration.minutes(5)


def alarm_on_any(
    scope: Construct, construct_id: str, metric: cloudwatch.IMetric, description: str, topic: sns.ITopic
) -> cloudwatch.Alarm:
    """An alarm that fires on the first occurrence in a period (none: not breaching), to ``topic``."""
    alarm = cloudwatch.Alarm(
        scope,
        construct_id,
        metric=metric,
        threshold=1,
        evaluation_periods=1,
        comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        alarm_description=description,
    )
    alarm.add_alarm_action(actions.SnsAction(topic))
    return alarm


class Monitoring(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        state_machine: sfn.StateMachine,
        dead_letter_queue: sqs.IQueue,
        functions: Mapping[str, lambda_.Function],
        alarm_topic: sns.ITopic,
        prefix: str,
    ) -> None:
        super().__init__(scope, construct_id)
        self._topic = alarm_topic
        self.alarms: dict[str, cloudwatch.Alarm] = {}

        self._alarm(
            "ExecutionsFailed",
            state_machine.metric_failed(period=PERIOD, statistic="Sum"),
            f"{prefix}: a workflow execution failed (its review may have no outcome event)",
        )
        self._alarm(
            "ExecutionsTimedOut",
            state_machine.metric_timed_out(period=PERIOD, statistic="Sum"),
            f"{prefix}: a workflow execution hit the workflow timeout",
        )
        self._alarm(
            "ExecutionsAborted",
            state_machine.metric_aborted(period=PERIOD, statistic="Sum"),
            f"{prefix}: a workflow execution was aborted",
        )
        self._alarm(
            "InputDeadLetters",
            dead_letter_queue.metric_approximate_number_of_messages_visible(
                period=PERIOD, statistic="Maximum"
            ),
            f"{prefix}: posted reviews could not start the workflow and wait in the dead-letter queue",
        )
        for name, fn in functions.items():
            construct_id = "".join(part.title() for part in name.split("_"))
            self._alarm(
                f"{construct_id}Errors",
                fn.metric_errors(period=PERIOD, statistic="Sum"),
                f"{prefix}: {name} raised errors (the workflow retries, then answers with a failure)",
            )

    def _alarm(self, construct_id: str, metric: cloudwatch.IMetric, description: str) -> None:
        self.alarms[construct_id] = alarm_on_any(self, construct_id, metric, description, self._topic)
