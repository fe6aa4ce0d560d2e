"""cdk-nag wiring: the AwsSolutions pack as a policy-validation plugin, and written acknowledgments.

cdk-nag 3 runs as a CDK policy-validation plugin: any finding that is not acknowledged (errors and
warnings alike) makes ``app.synth()`` and ``cdk synth`` fail with a validation report. Every
acknowledgment goes through :func:`acknowledge`, which insists on a reason, and the reasons are
written into the template metadata (``cdk_nag.rules_to_suppress``) so reviewers can audit them.
"""

from __future__ import annotations

from aws_cdk import Acknowledgment, App, Aws, Validations
from cdk_nag import AwsSolutionsChecks
from constructs import IConstruct

MIN_REASON_LENGTH = 40


def enable_nag(app: App) -> None:
    Validations.of(app).add_plugins(
        AwsSolutionsChecks(app, verbose=True, write_suppressions_to_cloud_formation=True)
    )


def acknowledge(scope: IConstruct, rule_id: str, reason: str) -> None:
    """Accept one AwsSolutions finding on ``scope`` (and its children) for a written reason."""
    if not rule_id.startswith("AwsSolutions-"):
        raise ValueError(f"not an AwsSolutions rule id: {rule_id!r}")
    if len(reason.strip()) < MIN_REASON_LENGTH:
        raise ValueError(f"acknowledging {rule_id} needs a real reason, got {reason!r}")
    Validations.of(scope).acknowledge(Acknowledgment(id=rule_id, reason=reason.strip()))


def nag_form(resource: str) -> str:
    """How cdk-nag prints a resource ARN built from pseudo parameters, for granular acknowledgments."""
    for token, name in (
        (Aws.PARTITION, "AWS::Partition"),
        (Aws.REGION, "AWS::Region"),
        (Aws.ACCOUNT_ID, "AWS::AccountId"),
    ):
        resource = resource.replace(token, f"<{name}>")
    return resource
