"""The stack's private buckets (evaluation datasets and reports, insights reports): one set of
settings, so a bucket added later cannot quietly differ from the rest."""

from __future__ import annotations

from aws_cdk import RemovalPolicy
from aws_cdk import aws_s3 as s3
from constructs import Construct

from stacks.nag import acknowledge


def private_bucket(scope: Construct, construct_id: str, *, holds: str) -> s3.Bucket:
    """A bucket only this stack's functions read and write: S3-managed encryption, TLS only, no
    public access, no ACLs (bucket owner enforced), kept on stack deletion.

    ``holds`` says what is in it and who writes it; it completes the written reason for the one
    cdk-nag finding every such bucket shares (no server access logs: CloudTrail data events are
    the audit trail). Kept on deletion because emptying a bucket on delete needs a custom
    resource (a Lambda the local runtime cannot run), and what these buckets hold outlives the
    stack.
    """
    bucket = s3.Bucket(
        scope,
        construct_id,
        encryption=s3.BucketEncryption.S3_MANAGED,
        enforce_ssl=True,
        block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
        object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
        removal_policy=RemovalPolicy.RETAIN,
    )
    acknowledge(
        bucket,
        "AwsSolutions-S1",
        f"The {holds}; CloudTrail data events, not server access logs, are its audit trail.",
    )
    return bucket
