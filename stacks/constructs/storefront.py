"""Storefront delivery: outcome events sent to the storefront's HTTPS endpoints by EventBridge.

Configuration only, no function: one connection (API key or OAuth client credentials, the secret
an existing Secrets Manager secret referenced by name or ARN, so the template holds a dynamic
reference and never the value), one API destination per endpoint, and one rule per outcome
detail-type whose input transformer sends a small documented payload (``STOREFRONT_SCHEMA_VERSION``)
with the review id as ``Idempotency-Key``. Undeliverable events (after EventBridge's retries, or
older than the maximum age) land in an encrypted dead-letter queue with an alarm on its depth.
"""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import Duration, SecretValue
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from reviewflow.contracts import OUTCOME_SOURCE, OutcomeType
from stacks.config import StorefrontAuth, StorefrontConfig
from stacks.constructs.monitoring import PERIOD, alarm_on_any
from stacks.nag import acknowledge

#: Version of the payload the storefront receives (docs: storefront delivery payload). Bump it
#: when a field changes meaning or goes away; adding a field keeps it.
STOREFRONT_SCHEMA_VERSION = "1"
#: The header that carries the review id, so a redelivered event is recognisably the same.
IDEMPOTENCY_HEADER = "Idempotency-Key"
IDEMPOTENCY_PATH = "$.detail.review_id"


def reply_payload() -> events.RuleTargetInput:
    """What the reply endpoint receives for ``NEW_REVIEW_RESPONSE_CREATED``."""
    return events.RuleTargetInput.from_object(
        {
            "schema_version": STOREFRONT_SCHEMA_VERSION,
            "kind": "reply",
            "event_id": events.EventField.event_id,
            "occurred_at": events.EventField.time,
            "review_id": events.EventField.from_path("$.detail.review_id"),
            "product_id": events.EventField.from_path("$.detail.product_id"),
            "reply_text": events.EventField.from_path("$.detail.response_text"),
            "decided_by": events.EventField.from_path("$.detail.decided_by"),
        }
    )


def moderation_payload() -> events.RuleTargetInput:
    """What the moderation endpoint receives for ``HARMFUL_CONTENT_DETECTED``."""
    return events.RuleTargetInput.from_object(
        {
            "schema_version": STOREFRONT_SCHEMA_VERSION,
            "kind": "moderation",
            "event_id": events.EventField.event_id,
            "occurred_at": events.EventField.time,
            "review_id": events.EventField.from_path("$.detail.review_id"),
            "product_id": events.EventField.from_path("$.detail.product_id"),
            "reason": "harmful_content",
            "toxicity_score": events.EventField.from_path("$.detail.review_toxicity.score"),
            "decided_by": events.EventField.from_path("$.detail.decided_by"),
        }
    )


def authorization(auth: StorefrontAuth) -> events.Authorization:
    """The connection's authorization; the secret is a dynamic reference, resolved by CloudFormation."""
    secret = SecretValue.secrets_manager(auth.secret_name)
    if auth.api_key is not None:
        return events.Authorization.api_key(auth.api_key.header_name, secret)
    assert auth.oauth is not None
    body = {"grant_type": events.HttpParameter.from_string("client_credentials")}
    if auth.oauth.scope:
        body["scope"] = events.HttpParameter.from_string(auth.oauth.scope)
    return events.Authorization.oauth(
        authorization_endpoint=auth.oauth.token_url,
        client_id=auth.oauth.client_id,
        client_secret=secret,
        http_method=events.HttpMethod.POST,
        body_parameters=body,
    )


@dataclass(frozen=True)
class _Endpoint:
    construct_id: str
    url: str
    outcome: OutcomeType
    payload: events.RuleTargetInput
    description: str


class StorefrontDelivery(Construct):
    """Created only when the configuration names an endpoint (see ``StorefrontConfig.enabled``)."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: StorefrontConfig,
        bus: events.IEventBus,
        alarm_topic: sns.ITopic,
        prefix: str,
    ) -> None:
        super().__init__(scope, construct_id)
        if config.auth is None:
            raise ValueError("storefront delivery needs storefront.auth")
        self.connection = events.Connection(
            self,
            "Connection",
            authorization=authorization(config.auth),
            description=f"{prefix}: credentials for the storefront's endpoints",
        )
        self.dead_letter_queue = sqs.Queue(
            self,
            "DeadLetterQueue",
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            retention_period=Duration.days(14),
        )
        acknowledge(
            self.dead_letter_queue,
            "AwsSolutions-SQS3",
            "This queue is itself the dead-letter queue of the storefront delivery rules; an operator "
            "inspects and replays its messages (runbook: replaying the storefront DLQ), with an alarm.",
        )
        self.alarm: cloudwatch.Alarm = alarm_on_any(
            self,
            "DeadLettersAlarm",
            self.dead_letter_queue.metric_approximate_number_of_messages_visible(
                period=PERIOD, statistic="Maximum"
            ),
            f"{prefix}: outcome events could not be delivered to the storefront and wait in its "
            "dead-letter queue",
            alarm_topic,
        )
        self.destinations: dict[OutcomeType, events.ApiDestination] = {}
        self.rules: dict[OutcomeType, events.Rule] = {}
        endpoints = [
            _Endpoint("Reply", url, OutcomeType.RESPONSE_CREATED, reply_payload(), "reply endpoint")
            for url in [config.reply_url]
            if url
        ] + [
            _Endpoint(
                "Moderation", url, OutcomeType.HARMFUL_CONTENT, moderation_payload(), "moderation endpoint"
            )
            for url in [config.moderation_url]
            if url
        ]
        for endpoint in endpoints:
            destination = events.ApiDestination(
                self,
                f"{endpoint.construct_id}Destination",
                connection=self.connection,
                endpoint=endpoint.url,
                http_method=events.HttpMethod.POST,
                rate_limit_per_second=config.rate_limit_per_second,
                description=f"{prefix}: the storefront's {endpoint.description}",
            )
            # Only what the workflow publishes: the outcome source and this one detail-type.
            rule = events.Rule(
                self,
                f"{endpoint.construct_id}Rule",
                event_bus=bus,
                description=f"Delivers {endpoint.outcome.value} to the storefront's {endpoint.description}",
                event_pattern=events.EventPattern(
                    source=[OUTCOME_SOURCE], detail_type=[endpoint.outcome.value]
                ),
            )
            rule.add_target(
                targets.ApiDestination(
                    destination,
                    event=endpoint.payload,
                    header_parameters={IDEMPOTENCY_HEADER: IDEMPOTENCY_PATH},
                    dead_letter_queue=self.dead_letter_queue,
                    retry_attempts=config.retry_attempts,
                    max_event_age=Duration.seconds(config.max_event_age_seconds),
                )
            )
            self.destinations[endpoint.outcome] = destination
            self.rules[endpoint.outcome] = rule
