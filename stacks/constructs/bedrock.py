"""``bedrock:InvokeModel`` on exactly the model ids a function is configured with."""

from __future__ import annotations

import re

from aws_cdk import Aws
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_

from stacks.nag import acknowledge, nag_form

# Cross-region inference profile ids start with a geography: us.amazon.nova-lite-v1:0.
_PROFILE_GEO = re.compile(r"^(us|eu|apac|us-gov|jp|au|ca|global)\.(.+)$")
_ARN = re.compile(r"^arn:(?P<partition>[^:]+):bedrock:(?P<region>[^:]*):(?P<account>[^:]*):(?P<resource>.+)$")


def bedrock_statements(model_ids: list[str]) -> list[iam.PolicyStatement]:
    """``bedrock:InvokeModel`` (what Converse needs) on exactly the ARNs the model ids resolve to.

    A foundation model id resolves to its foundation-model ARN in this region. A cross-region
    inference profile id resolves to the profile in this account and region plus the foundation
    model in every region the profile may route to. An application inference profile ARN resolves
    to itself plus any foundation model, but only when called through that profile.
    """
    stack_partition, region, account = Aws.PARTITION, Aws.REGION, Aws.ACCOUNT_ID
    direct: list[str] = []
    through_profile: list[str] = []
    for model_id in model_ids:
        arn = _ARN.match(model_id)
        if arn:
            resource = arn["resource"]
            kind, _, ident = resource.partition("/")
            if kind == "foundation-model":
                direct.append(model_id)
            elif kind == "inference-profile":
                geo = _PROFILE_GEO.match(ident)
                direct.append(model_id)
                base = geo.group(2) if geo else ident
                direct.append(f"arn:{arn['partition']}:bedrock:*::foundation-model/{base}")
            elif kind == "application-inference-profile":
                direct.append(model_id)
                through_profile.append(model_id)
            else:
                raise ValueError(f"unsupported Bedrock ARN for model_id: {model_id!r}")
            continue
        geo = _PROFILE_GEO.match(model_id)
        if geo:
            direct.append(f"arn:{stack_partition}:bedrock:{region}:{account}:inference-profile/{model_id}")
            direct.append(f"arn:{stack_partition}:bedrock:*::foundation-model/{geo.group(2)}")
        else:
            direct.append(f"arn:{stack_partition}:bedrock:{region}::foundation-model/{model_id}")
    statements = []
    if direct:
        statements.append(
            iam.PolicyStatement(actions=["bedrock:InvokeModel"], resources=list(dict.fromkeys(direct)))
        )
    if through_profile:
        statements.append(
            iam.PolicyStatement(
                actions=["bedrock:InvokeModel"],
                resources=[f"arn:{stack_partition}:bedrock:*::foundation-model/*"],
                conditions={"StringEquals": {"bedrock:InferenceProfileArn": through_profile}},
            )
        )
    return statements


def grant_invoke_models(fn: lambda_.Function, model_ids: list[str]) -> None:
    """Add the statements for ``model_ids`` to the function's role, acknowledging each region wildcard."""
    for statement in bedrock_statements(model_ids):
        fn.add_to_role_policy(statement)
        for resource in statement.resources:
            if "*" in resource:
                acknowledge(
                    fn.role,  # type: ignore[arg-type]
                    f"AwsSolutions-IAM5[Resource::{nag_form(resource)}]",
                    "A Bedrock cross-region inference profile routes a call to the same foundation "
                    "model in any region of its geography, so the foundation-model ARN needs a "
                    "region wildcard; the model is named exactly, derived from the configured id.",
                )
