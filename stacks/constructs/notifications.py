"""SNS topics: one for reviewer emails (approval links), one for alarms. Both encrypted, TLS only."""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from constructs import Construct

from stacks.config import RosterReviewer

#: the SNS message attribute request_approval sets on each per-reviewer message.
REVIEWER_ATTRIBUTE = "reviewer"


def reviewer_subscription(reviewer: RosterReviewer) -> subscriptions.EmailSubscription:
    """An email subscription that receives only the messages addressed to this reviewer.

    The filter policy matches the ``reviewer`` message attribute, so a reviewer's mailbox gets their
    own link and no one else's: the mailbox is what proves the reviewer's identity. Reused for the
    escalation reviewers.
    """
    return subscriptions.EmailSubscription(
        reviewer.email,
        filter_policy={REVIEWER_ATTRIBUTE: sns.SubscriptionFilter.string_filter(allowlist=[reviewer.id])},
    )


class Notifications(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        reviewer_email: str | None,
        alarm_email: str | None,
        reviewers: Sequence[RosterReviewer] = (),
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
        if reviewers:
            # A roster: each reviewer receives only their own link (docs/human-review.md).
            for reviewer in reviewers:
                self.reviewer_topic.add_subscription(reviewer_subscription(reviewer))
        elif reviewer_email:
            # No roster: one anonymous link to one mailbox.
            self.reviewer_topic.add_subscription(subscriptions.EmailSubscription(reviewer_email))
        if alarm_email:
            self.alarm_topic.add_subscription(subscriptions.EmailSubscription(alarm_email))
