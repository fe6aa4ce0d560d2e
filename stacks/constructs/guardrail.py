"""The Bedrock guardrail the Guardrails toxicity provider applies, and the one grant to apply it.

With ``toxicity_provider: guardrails`` and no ``guardrail_id``, the stack creates the guardrail:
content filters for hate, insults, sexual content, violence and misconduct at the configured
strengths (input and output alike), a prompt-attack filter on input, the configured tier, and a
numbered version the functions apply (a version is immutable; the description carries a digest of
the filter settings, so changing them makes a new version). With a ``guardrail_id`` and
``guardrail_version``, the functions apply that existing guardrail instead. Either way each
scoring function may call ``bedrock:ApplyGuardrail`` on that guardrail only (and, on the standard
tier, on the cross-region guardrail profile it routes through).
"""

from __future__ import annotations

import hashlib
import json

from aws_cdk import Aws
from aws_cdk import aws_bedrock as bedrock
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from reviewflow.contracts import EnvVar
from stacks.config import ReviewflowConfig
from stacks.nag import acknowledge, nag_form

BLOCKED_MESSAGE = "This text was not checked as safe by the review pipeline's guardrail."


class ToxicityGuardrail(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, config: ReviewflowConfig) -> None:
        super().__init__(scope, construct_id)
        self._config = config
        partition, region, account = Aws.PARTITION, Aws.REGION, Aws.ACCOUNT_ID
        if config.guardrail_id and config.guardrail_version:
            self.guardrail_id: str = config.guardrail_id
            self.version: str = config.guardrail_version
            self.guardrail_arn = f"arn:{partition}:bedrock:{region}:{account}:guardrail/{config.guardrail_id}"
        else:
            guardrail = bedrock.CfnGuardrail(
                self,
                "Guardrail",
                name=f"{config.resource_prefix}-toxicity",
                description="reviewflow: scores reviews and replies for toxicity (ApplyGuardrail)",
                blocked_input_messaging=BLOCKED_MESSAGE,
                blocked_outputs_messaging=BLOCKED_MESSAGE,
                content_policy_config=self._content_policy(),
                cross_region_config=(
                    bedrock.CfnGuardrail.GuardrailCrossRegionConfigProperty(
                        guardrail_profile_arn=self.profile_arn(region)
                    )
                    if config.guardrail_tier == "STANDARD"
                    else None
                ),
            )
            version = bedrock.CfnGuardrailVersion(
                self,
                "Version",
                guardrail_identifier=guardrail.attr_guardrail_id,
                description=f"reviewflow filters {self._digest()}",
            )
            self.guardrail_id = guardrail.attr_guardrail_id
            self.version = version.attr_version
            self.guardrail_arn = guardrail.attr_guardrail_arn

    def _content_policy(self) -> bedrock.CfnGuardrail.ContentPolicyConfigProperty:
        config = self._config
        filters = [
            bedrock.CfnGuardrail.ContentFilterConfigProperty(
                type=name, input_strength=strength, output_strength=strength
            )
            for name, strength in config.guardrail_filter_strengths.items()
        ]
        if config.guardrail_prompt_attack_strength != "NONE":
            # The prompt-attack filter applies to input only; its output strength must be NONE.
            filters.append(
                bedrock.CfnGuardrail.ContentFilterConfigProperty(
                    type="PROMPT_ATTACK",
                    input_strength=config.guardrail_prompt_attack_strength,
                    output_strength="NONE",
                )
            )
        return bedrock.CfnGuardrail.ContentPolicyConfigProperty(
            filters_config=filters,
            content_filters_tier_config=bedrock.CfnGuardrail.ContentFiltersTierConfigProperty(
                tier_name=config.guardrail_tier
            ),
        )

    def _digest(self) -> str:
        config = self._config
        settings = {
            "filters": config.guardrail_filter_strengths,
            "prompt_attack": config.guardrail_prompt_attack_strength,
            "tier": config.guardrail_tier,
            "profile": config.guardrail_profile_id if config.guardrail_tier == "STANDARD" else None,
        }
        return hashlib.sha256(json.dumps(settings, sort_keys=True).encode()).hexdigest()[:16]

    def profile_arn(self, region: str) -> str:
        return (
            f"arn:{Aws.PARTITION}:bedrock:{region}:{Aws.ACCOUNT_ID}:guardrail-profile/"
            f"{self._config.guardrail_profile_id}"
        )

    @property
    def environment(self) -> dict[EnvVar, str]:
        """What a scoring function needs to apply the guardrail."""
        return {
            EnvVar.GUARDRAIL_ID: self.guardrail_id,
            EnvVar.GUARDRAIL_VERSION: self.version,
            EnvVar.GUARDRAIL_TIER: self._config.guardrail_tier,
        }

    def grant_apply(self, fn: lambda_.Function) -> None:
        """``bedrock:ApplyGuardrail`` on this guardrail only (and its guardrail profile's regions)."""
        resources = [self.guardrail_arn]
        if self._config.guardrail_tier == "STANDARD":
            resources.append(self.profile_arn("*"))
        fn.add_to_role_policy(iam.PolicyStatement(actions=["bedrock:ApplyGuardrail"], resources=resources))
        if self._config.guardrail_tier == "STANDARD":
            acknowledge(
                fn.role,  # type: ignore[arg-type]
                f"AwsSolutions-IAM5[Resource::{nag_form(self.profile_arn('*'))}]",
                "A standard-tier guardrail routes each ApplyGuardrail call through its cross-region "
                "guardrail profile to any region of the profile's geography, so the profile ARN needs a "
                "region wildcard; the profile is named exactly, from guardrail_profile_id.",
            )
