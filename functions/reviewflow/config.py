"""Runtime configuration of the Lambda functions.

Read from the environment once, on first use, and validated by pydantic, so that importing a
handler reads nothing and a misconfigured function fails with a clear message on its first
invocation rather than half-way through a review. An unknown ``REVIEWFLOW_*`` variable is an
error too (a typo would otherwise silently leave the default in force); only the local
runtime's own variables (``contracts.LocalEnvVar``) are skipped. Only the provider registry
reads these settings; tests build a ``RuntimeSettings`` directly or call
``get_settings.cache_clear()`` after changing the environment.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from functools import lru_cache
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from reviewflow.contracts import ENV_PREFIX, LocalEnvVar
from reviewflow.domain.prompts import DEFAULT_PROMPT_VERSION
from reviewflow.domain.reply_policy import DEFAULT_POLICY_VERSION
from reviewflow.errors import ConfigurationError

_LOCAL_ONLY = frozenset(LocalEnvVar)

ToxicityProviderName = Literal["comprehend", "guardrails", "local", "local-multilingual"]
LlmProviderName = Literal["bedrock", "local", "openai"]


class RuntimeSettings(BaseModel):
    """Everything a function may be configured with. Field ``x`` is read from ``REVIEWFLOW_X``."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    toxicity_provider: ToxicityProviderName = "comprehend"
    llm_provider: LlmProviderName = "bedrock"
    # A Bedrock model id or inference profile id/ARN; no model family is assumed anywhere.
    model_id: str = ""
    sentiment_model_id: str = ""  # empty: use model_id
    response_max_tokens: int = Field(default=400, ge=16, le=4096)
    response_temperature: float = Field(default=0.3, ge=0.0, le=1.0)
    sentiment_max_attempts: int = Field(default=3, ge=1, le=5)
    # Active prompt versions: files functions/prompts/<name>/<version>.{system,user}.txt.
    sentiment_prompt_version: str = Field(default=DEFAULT_PROMPT_VERSION, pattern=r"^[A-Za-z0-9_-]{1,32}$")
    response_prompt_version: str = Field(default=DEFAULT_PROMPT_VERSION, pattern=r"^[A-Za-z0-9_-]{1,32}$")
    # Active reply policy: functions/policies/reply/<version>.json (the publish gate's rules).
    reply_policy_version: str = Field(default=DEFAULT_POLICY_VERSION, pattern=r"^[A-Za-z0-9_-]{1,32}$")
    # OpenAI-compatible endpoint (llm_provider=openai), e.g. a local model server.
    openai_base_url: str = ""
    openai_api_key: str = ""
    openai_timeout_seconds: float = Field(default=60.0, gt=0)

    approvals_table: str = ""
    notification_topic_arn: str = ""
    approval_base_url: str = ""  # e.g. https://abc.execute-api.eu-west-1.amazonaws.com/prod
    ledger_ttl_days: int = Field(default=30, ge=1)
    # The evaluation suite's bucket: datasets/ (read), results/ and reports/ (written).
    evaluation_bucket: str = ""

    # Bedrock Guardrails (toxicity_provider=guardrails): the guardrail ApplyGuardrail applies, and
    # its content-filter tier, which decides the languages it scores.
    guardrail_id: str = ""
    guardrail_version: str = Field(default="", pattern=r"^(|DRAFT|[1-9][0-9]{0,7})$")
    guardrail_tier: Literal["STANDARD", "CLASSIC"] = "STANDARD"

    # Product insights (the ExtractInsights step): its own, usually cheaper, model (empty: use
    # model_id), its own prompt version, the table it stores into and the bus it publishes on.
    insights_model_id: str = ""
    insights_prompt_version: str = Field(default=DEFAULT_PROMPT_VERSION, pattern=r"^[A-Za-z0-9_-]{1,32}$")
    insights_max_attempts: int = Field(default=2, ge=1, le=3)
    insights_table: str = ""
    insights_ttl_days: int = Field(default=365, ge=1)
    event_bus_name: str = ""
    # The insights report job: where it writes the report, whom it emails, how long a period is.
    insights_report_bucket: str = ""
    insights_report_period_days: int = Field(default=7, ge=1, le=92)
    product_team_topic_arn: str = ""

    @property
    def effective_sentiment_model_id(self) -> str:
        return self.sentiment_model_id or self.model_id

    @property
    def effective_insights_model_id(self) -> str:
        return self.insights_model_id or self.model_id

    @classmethod
    def from_environ(cls, environ: Mapping[str, str]) -> RuntimeSettings:
        values = {
            key[len(ENV_PREFIX) :].lower(): value
            for key, value in environ.items()
            if key.startswith(ENV_PREFIX) and value != "" and key not in _LOCAL_ONLY
        }
        unknown = sorted(f"{ENV_PREFIX}{name.upper()}" for name in set(values) - set(cls.model_fields))
        if unknown:
            raise ConfigurationError(
                f"unknown setting(s) {', '.join(unknown)}; see reviewflow.contracts.EnvVar"
            )
        try:
            return cls.model_validate(values)
        except ValidationError as exc:
            # Name the variables and rules, never the values (an API key may be among them).
            problems = "; ".join(
                f"{ENV_PREFIX}{str(err['loc'][0]).upper()}: {err['msg']}"
                for err in exc.errors(include_input=False, include_url=False)
            )
            raise ConfigurationError(f"invalid setting(s): {problems}") from None


@lru_cache(maxsize=1)
def get_settings() -> RuntimeSettings:
    return RuntimeSettings.from_environ(os.environ)
