"""SNS topics: one for reviewer emails (approval links), one for alarms. Both encrypted, TLS only."""

from __future__ import annotations

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from constructs import Construct


class Notifications(Construct):
    def __init__(
        self, scope: Construct, construct_id: str, *, reviewer_email: str | None, alarm_email: str | None
    ) -> None:
        super().__init__(scope, construct_id)
        # A customer managed key, because CloudWatch alarms cannot publish to a topic encrypted with the
        # AWS managed SNS key; the same key serves the reviewer topic.
        self.key = kms.Key(
            self,
            "TopicKey",
            description="reviewflow: encrypts the reviewer and alarm SNS topics",
            enable_key_rotation=True,
            pending_window=Duration.days(7),
            removal_policy=RemovalPolicy.DESTROY,
        )
        self.key.add_to_resource_policy(
            iam.PolicyStatement(
                sid="AllowCloudWatchAlarmsToPublish",
                principals=[iam.ServicePrincipal("cloudwatch.amazonaws.com")],
                actions=["kms:Decrypt", "kms:GenerateDataKey*"],
                resources=["*"],  # in a key policy, "*" means this key
            )
        )
        self.reviewer_topic = sns.Topic(
            self,
            "ReviewerTopic",
            display_name="reviewflow: reviews waiting for you",
            master_key=self.key,
            enforce_ssl=True,
        )
        self.alarm_topic = sns.Topic(
            self, "AlarmTopic", display_name="reviewflow alarms", master_key=self.key, enforce_ssl=True
        )
        if reviewer_email:
            self.reviewer_topic.add_subscription(subscriptions.EmailSubscription(reviewer_email))
        if alarm_email:
            self.alarm_topic.add_subscription(subscriptions.EmailSubscription(alarm_email))
