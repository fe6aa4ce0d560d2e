"""The one DynamoDB table: approval records (``approval#<id>``) and the workflow's review ledger
(``review#<id>``, written by the state machine itself). Both expire through ``expires_at``."""

from __future__ import annotations

from aws_cdk import RemovalPolicy
from aws_cdk import aws_dynamodb as dynamodb
from constructs import Construct


def items_under(prefix: str) -> dict[str, dict[str, list[str]]]:
    """An IAM condition limiting DynamoDB item actions to partition keys starting with ``prefix``:
    the approval functions cannot touch the review ledger, nor the workflow an approval."""
    return {"ForAllValues:StringLike": {"dynamodb:LeadingKeys": [f"{prefix}*"]}}


APPROVAL_ITEMS_ONLY = items_under("approval#")
REVIEW_CLAIMS_ONLY = items_under("review#")


def record_table(scope: Construct, *, ttl_attribute: str, sort_key: bool = False) -> dynamodb.Table:
    """A table of records the stack must not lose: on demand, point-in-time recovery, encrypted,
    expiring through ``ttl_attribute``, string keys ``pk`` (and ``sk``), kept on stack deletion.

    ``Table`` (not ``TableV2``): TableV2 synthesizes a GlobalTable, which the local runtime cannot
    deploy."""
    return dynamodb.Table(
        scope,
        "Table",
        partition_key=dynamodb.Attribute(name="pk", type=dynamodb.AttributeType.STRING),
        sort_key=dynamodb.Attribute(name="sk", type=dynamodb.AttributeType.STRING) if sort_key else None,
        billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
        time_to_live_attribute=ttl_attribute,
        point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
            point_in_time_recovery_enabled=True
        ),
        encryption=dynamodb.TableEncryption.AWS_MANAGED,
        removal_policy=RemovalPolicy.RETAIN,
    )


class ApprovalsTable(Construct):
    def __init__(self, scope: Construct, construct_id: str) -> None:
        super().__init__(scope, construct_id)
        # Kept on stack deletion: it holds the decision audit records.
        self.table = record_table(self, ttl_attribute="expires_at")
