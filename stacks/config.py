"""Deployment configuration, validated once at synth time.

Read from the CDK context key ``reviewflow`` (a JSON object in ``cdk.json``) and from per-field
overrides ``reviewflow:<field>`` (``cdk deploy -c reviewflow:reviewer_email=me@example.com``).
Unknown fields are refused, so a typo in ``cdk.json`` fails the synth instead of being ignored.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any, Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from reviewflow.contracts import DEFAULT_INPUT_SOURCE, OUTCOME_SOURCE

CONTEXT_KEY = "reviewflow"
OVERRIDE_PREFIX = f"{CONTEXT_KEY}:"

# Context that makes the same app synthesize for the offline local runtime (no AWS model calls).
LOCAL_RUNTIME_CONTEXT: dict[str, str] = {
    f"{OVERRIDE_PREFIX}llm_provider": "local",
    f"{OVERRIDE_PREFIX}toxicity_provider": "local",
    # moto has no AWS::ApiGateway::Account; the account-level logging role means nothing offline.
    f"{OVERRIDE_PREFIX}api_gateway_cloudwatch_role": "false",
}

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
# A Bedrock model id (``amazon.nova-lite-v1:0``), inference profile id (``us.amazon.nova-lite-v1:0``)
# or one of their ARNs. Validated loosely here; stacks.constructs.functions derives the IAM resources.
_MODEL_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:/-]{2,2047}$")

# CloudWatch Logs accepts only these retention periods.
RetentionDaysValue = Literal[1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 3653]

APPROVAL_MARGIN_SECONDS = 3600

# The Lambda asset: versioned prompt and policy files that a setting names must exist in it.
FUNCTIONS_DIR = Path(__file__).resolve().parents[1] / "functions"
PROMPT_PARTS = ("system", "user")


GuardrailFilter = Literal["HATE", "INSULTS", "MISCONDUCT", "SEXUAL", "VIOLENCE"]
GuardrailStrength = Literal["LOW", "MEDIUM", "HIGH"]
GUARDRAIL_FILTERS: tuple[GuardrailFilter, ...] = ("HATE", "INSULTS", "MISCONDUCT", "SEXUAL", "VIOLENCE")
_DEFAULT_STRENGTH: GuardrailStrength = "MEDIUM"
#: The insight branch's default model: cheaper than the reply model cdk.json deploys (Nova Lite).
DEFAULT_INSIGHTS_MODEL_ID = "us.amazon.nova-micro-v1:0"


# The roster entry's id: what the audit, the outcome and the SNS filter policy name. The same pattern
# as reviewflow.models.team.REVIEWER_ID_PATTERN (the CDK app imports only the runtime's contracts;
# tests/infra/test_roster.py keeps the two equal).
REVIEWER_ID_PATTERN = r"^[a-z0-9][a-z0-9-]{0,39}$"


class RosterReviewer(BaseModel):
    """One known reviewer of the roster, as the deployment names them (models.team.Reviewer)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str = Field(pattern=REVIEWER_ID_PATTERN)
    email: str


class _Node(Protocol):
    def try_get_context(self, key: str) -> Any: ...


class ReviewflowConfig(BaseModel):
    """Everything a deployment may choose. Defaults are the ones docs/architecture.md names."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    resource_prefix: str = Field(default="reviewflow", pattern=r"^[a-z][a-z0-9-]{1,30}$")
    event_source: str = Field(default=DEFAULT_INPUT_SOURCE, min_length=1, max_length=256)

    # Toxicity bands: low <= score <= high goes to a person (both ends inclusive).
    low_threshold: float = Field(default=0.4, ge=0.0, le=1.0)
    high_threshold: float = Field(default=0.6, ge=0.0, le=1.0)

    approval_timeout_seconds: int = Field(default=172_800, ge=60, le=31_536_000)
    # Two human reviews may happen in one execution; the workflow timeout must outlast both.

    llm_provider: Literal["bedrock", "local", "openai"] = "bedrock"
    toxicity_provider: Literal["comprehend", "guardrails", "local", "local-multilingual"] = "comprehend"
    model_id: str | None = None
    sentiment_model_id: str | None = None
    openai_base_url: str | None = None
    response_max_tokens: int | None = Field(default=None, ge=16, le=4096)
    sentiment_prompt_version: str | None = Field(default=None, pattern=r"^[A-Za-z0-9_-]{1,32}$")
    response_prompt_version: str | None = Field(default=None, pattern=r"^[A-Za-z0-9_-]{1,32}$")
    # functions/policies/reply/<version>.json: what the publish gate refuses (default: the runtime's).
    reply_policy_version: str | None = Field(default=None, pattern=r"^[A-Za-z0-9_-]{1,32}$")

    reviewer_email: str | None = None
    alarm_email: str | None = None

    lambda_memory_mb: int = Field(default=256, ge=128, le=10_240)
    log_retention_days: RetentionDaysValue = 30
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    architecture: Literal["x86_64", "arm64"] = "x86_64"
    python_version: Literal["3.12", "3.13"] = "3.13"
    # Pinned version of the managed layer AWSLambdaPowertoolsPythonV3-<python>-<arch>.
    powertools_layer_version: int = Field(default=27, ge=1)
    ledger_ttl_days: int = Field(default=30, ge=1, le=3650)

    rule_retry_attempts: int = Field(default=8, ge=0, le=185)
    rule_max_event_age_seconds: int = Field(default=7200, ge=60, le=86_400)
    api_throttle_rate_limit: float = Field(default=5, gt=0, le=10_000)
    api_throttle_burst_limit: int = Field(default=10, ge=1, le=5_000)
    # API Gateway can only write access logs once the account has a CloudWatch role. True lets this
    # stack set it (an account-wide setting); False assumes the account already has one.
    api_gateway_cloudwatch_role: bool = False

    # The evaluation suite (docs/evaluation.md): cases evaluated at once, and the Bedrock models an
    # evaluation may run as candidates or as the LLM judge besides model_id and sentiment_model_id.
    evaluation_max_concurrency: int = Field(default=4, ge=1, le=40)
    evaluation_model_ids: list[str] = Field(default_factory=list, max_length=20)

    # Bedrock Guardrails as the toxicity provider (toxicity_provider: guardrails; docs/languages.md).
    # An existing guardrail (guardrail_id and guardrail_version), or without an id one the stack
    # creates with these content-filter strengths (applied to reviews as input, replies as output).
    guardrail_id: str | None = Field(default=None, pattern=r"^[a-z0-9]{1,64}$")
    guardrail_version: str | None = Field(default=None, pattern=r"^(DRAFT|[1-9][0-9]{0,7})$")
    # STANDARD covers ~60 languages and needs a cross-region guardrail profile; CLASSIC en/fr/es.
    guardrail_tier: Literal["STANDARD", "CLASSIC"] = "STANDARD"
    guardrail_profile_id: str = Field(
        default="us.guardrail.v1:0", pattern=r"^[a-z0-9-]+\.guardrail\.v[0-9:]+$"
    )
    guardrail_filter_strengths: dict[GuardrailFilter, GuardrailStrength] = Field(
        default_factory=lambda: {name: _DEFAULT_STRENGTH for name in GUARDRAIL_FILTERS}
    )
    # Prompt attacks are only detected in input (reviews); a finding sends the review to a person.
    guardrail_prompt_attack_strength: GuardrailStrength | Literal["NONE"] = "HIGH"

    # "Request a new draft" at the RESPONSE stage: how many new drafts a reviewer may ask for in
    # one execution (0 turns the button off). Each round is one more approval window, which the
    # ASL's TimeoutSeconds must outlast; capped so the rounds kept in the state stay small.
    max_draft_rounds: int = Field(default=2, ge=0, le=3)

    # Storefront delivery by EventBridge API destinations (None or no endpoint: nothing is created).
    storefront: Annotated[StorefrontConfig | None, BeforeValidator(_storefront_from_text)] = None

    # Product insights (the insight branch of the workflow). Its own model, cheaper than the reply
    # model by default (Nova Micro beside the reply's Nova Lite): extracting aspects needs no prose.
    # Used with llm_provider=bedrock; with openai an explicitly set id is used, else model_id.
    insights_model_id: str | None = DEFAULT_INSIGHTS_MODEL_ID
    insights_prompt_version: str | None = Field(default=None, pattern=r"^[A-Za-z0-9_-]{1,32}$")
    insights_ttl_days: int = Field(default=365, ge=1, le=3650)
    # The insights report: an EventBridge schedule (Mondays 06:00 UTC by default) aggregating the
    # period of insights_report_period_days before it, emailed to product_team_emails (none: the
    # topic exists without subscribers, the report is still written to the reports bucket).
    insights_report_schedule: str = Field(
        default="cron(0 6 ? * MON *)",
        pattern=r"^(cron\([^()]{9,}\)|rate\([1-9][0-9]* (minute|minutes|hour|hours|day|days)\))$",
    )
    insights_report_period_days: int = Field(default=7, ge=1, le=92)
    product_team_emails: list[str] = Field(default_factory=list, max_length=20)

    @field_validator("insights_model_id")
    @classmethod
    def _insights_model_id_shape(cls, value: str | None) -> str | None:
        if value is not None and value != "" and not _MODEL_ID.match(value):
            raise ValueError(f"{value!r} is not a Bedrock model id, inference profile id or ARN")
        return value or None

    @model_validator(mode="after")
    def _insights_prompt_exists(self) -> ReviewflowConfig:
        version = self.insights_prompt_version
        if version:
            folder = FUNCTIONS_DIR / "prompts" / "insights"
            files = [folder / f"{version}.{part}.txt" for part in PROMPT_PARTS]
            missing = [path for path in files if not path.is_file()]
            if missing:
                raise ValueError(
                    "these files of the configured versions do not exist: "
                    + ", ".join(str(path.relative_to(FUNCTIONS_DIR.parent)) for path in missing)
                )
        return self

    @property
    def effective_insights_model_id(self) -> str | None:
        """The model the insight branch calls: None offline (the lexicon needs none)."""
        if self.llm_provider == "local":
            return None
        if self.llm_provider == "openai" and "insights_model_id" not in self.model_fields_set:
            return self.model_id
        return self.insights_model_id or self.model_id

    @field_validator("product_team_emails", mode="before")
    @classmethod
    def _emails_from_text(cls, value: Any) -> Any:
        # ``-c reviewflow:product_team_emails=a@x.com,b@x.com`` arrives as text; cdk.json may give a list.
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @field_validator("product_team_emails")
    @classmethod
    def _emails(cls, values: list[str]) -> list[str]:
        for value in values:
            if not _EMAIL.match(value):
                raise ValueError(f"{value!r} is not an email address")
        return list(dict.fromkeys(values))

    # Reminders before an approval's deadline (docs/human-review.md): at these fractions of the
    # approval window a still pending approval reminds its roster; at escalation_fraction it goes to
    # escalation_reviewers (none configured: no escalation). One schedule checks every few minutes.
    reminder_fractions: list[float] = Field(default_factory=lambda: [0.5], max_length=5)
    escalation_fraction: float | None = Field(default=0.8, gt=0, lt=1)
    escalation_reviewers: list[RosterReviewer] = Field(default_factory=list, max_length=20)
    reminder_schedule_minutes: int = Field(default=15, ge=1, le=1440)

    # A team of known reviewers (docs/human-review.md): one emailed link per reviewer, each with its own
    # secret, delivered through an SNS subscription filtered on the ``reviewer`` message attribute.
    # Empty: one anonymous link to reviewer_email. Validated below: unique ids, unique valid emails.
    reviewers: list[RosterReviewer] = Field(default_factory=list, max_length=50)

    @field_validator("reviewer_email", "alarm_email")
    @classmethod
    def _email(cls, value: str | None) -> str | None:
        if value in (None, ""):
            return None
        if not _EMAIL.match(value):
            raise ValueError(f"{value!r} is not an email address")
        return value

    @field_validator("reviewers", mode="before")
    @classmethod
    def _reviewers_from_text(cls, value: Any) -> Any:
        # ``-c reviewflow:reviewers=[{"id":"ana","email":"ana@example.com"}]`` arrives as JSON text.
        return json.loads(value) if isinstance(value, str) else value

    @field_validator("reviewers")
    @classmethod
    def _roster(cls, values: list[RosterReviewer]) -> list[RosterReviewer]:
        """Ids name a reviewer in the audit and the filter policy; emails prove who clicked."""
        ids: set[str] = set()
        emails: set[str] = set()
        for reviewer in values:
            if not _EMAIL.match(reviewer.email):
                raise ValueError(f"reviewer {reviewer.id!r}: {reviewer.email!r} is not an email address")
            if reviewer.id in ids:
                raise ValueError(f"reviewer id {reviewer.id!r} appears more than once")
            email = reviewer.email.lower()
            if email in emails:
                raise ValueError(f"reviewer email {reviewer.email!r} appears more than once")
            ids.add(reviewer.id)
            emails.add(email)
        return values

    @field_validator("log_retention_days", mode="before")
    @classmethod
    def _retention_from_text(cls, value: Any) -> Any:
        # ``-c reviewflow:log_retention_days=14`` arrives as text; Literal[int] does not coerce it.
        return int(value) if isinstance(value, str) and value.strip().isdigit() else value

    @field_validator("model_id", "sentiment_model_id", "openai_base_url")
    @classmethod
    def _blank_is_none(cls, value: str | None) -> str | None:
        return value or None

    @field_validator("model_id", "sentiment_model_id")
    @classmethod
    def _model_id_shape(cls, value: str | None) -> str | None:
        if value is not None and not _MODEL_ID.match(value):
            raise ValueError(f"{value!r} is not a Bedrock model id, inference profile id or ARN")
        return value

    @field_validator("evaluation_model_ids", mode="before")
    @classmethod
    def _model_ids_from_text(cls, value: Any) -> Any:
        # ``-c reviewflow:evaluation_model_ids=a,b`` arrives as text; cdk.json may give a list.
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @field_validator("evaluation_model_ids")
    @classmethod
    def _model_ids_shape(cls, values: list[str]) -> list[str]:
        for value in values:
            if not _MODEL_ID.match(value):
                raise ValueError(f"{value!r} is not a Bedrock model id, inference profile id or ARN")
        return list(dict.fromkeys(values))

    @field_validator("guardrail_filter_strengths", mode="before")
    @classmethod
    def _strengths_from_text(cls, value: Any) -> Any:
        # ``-c reviewflow:guardrail_filter_strengths={"INSULTS":"HIGH"}`` arrives as JSON text.
        return json.loads(value) if isinstance(value, str) else value

    @field_validator("guardrail_filter_strengths")
    @classmethod
    def _every_filter(
        cls, value: dict[GuardrailFilter, GuardrailStrength]
    ) -> dict[GuardrailFilter, GuardrailStrength]:
        """A filter the config leaves out keeps the default strength: none is silently off."""
        return {name: value.get(name, _DEFAULT_STRENGTH) for name in GUARDRAIL_FILTERS}

    @field_validator("event_source")
    @classmethod
    def _not_outcome_source(cls, value: str) -> str:
        # The workflow's own outcome events use this source; the input rule must never match it.
        if value == OUTCOME_SOURCE:
            raise ValueError(f"{OUTCOME_SOURCE!r} is the source of the workflow's own outcome events")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> ReviewflowConfig:
        if self.low_threshold > self.high_threshold:
            raise ValueError(
                f"low_threshold ({self.low_threshold}) must not exceed high_threshold ({self.high_threshold})"
            )
        if self.llm_provider == "bedrock" and not self.model_id:
            raise ValueError(
                "model_id is required when llm_provider is 'bedrock': set context.reviewflow.model_id in "
                "cdk.json or pass -c reviewflow:model_id=<model or inference profile id>"
            )
        if self.llm_provider == "openai" and not self.openai_base_url:
            raise ValueError("openai_base_url is required when llm_provider is 'openai'")
        if (self.guardrail_id is None) != (self.guardrail_version is None):
            raise ValueError("guardrail_id and guardrail_version name an existing guardrail together")
        if self.guardrail_id and self.toxicity_provider != "guardrails":
            raise ValueError("guardrail_id is set but toxicity_provider is not 'guardrails'")
        missing = self.missing_versioned_files()
        if missing:
            raise ValueError(
                "these files of the configured versions do not exist: "
                + ", ".join(str(path.relative_to(FUNCTIONS_DIR.parent)) for path in missing)
            )
        return self

    def missing_versioned_files(self) -> list[Path]:
        """Prompt and policy files the configured versions name that are not in the asset.

        Checked at synth: deployed, a missing prompt would fail every model call of every review.
        """
        wanted: list[Path] = []
        for name, version in (
            ("sentiment", self.sentiment_prompt_version),
            ("response", self.response_prompt_version),
        ):
            if version:
                wanted += [
                    FUNCTIONS_DIR / "prompts" / name / f"{version}.{part}.txt" for part in PROMPT_PARTS
                ]
        if self.reply_policy_version:
            wanted.append(FUNCTIONS_DIR / "policies" / "reply" / f"{self.reply_policy_version}.json")
        return [path for path in wanted if not path.is_file()]

    @property
    def creates_guardrail(self) -> bool:
        """The stack creates the toxicity guardrail (Guardrails chosen, no existing one named)."""
        return self.toxicity_provider == "guardrails" and self.guardrail_id is None

    @property
    def bedrock_model_ids(self) -> list[str]:
        """Model ids the functions may invoke through Bedrock (empty for other providers)."""
        if self.llm_provider != "bedrock":
            return []
        ids = [self.model_id, self.sentiment_model_id]
        return list(dict.fromkeys(i for i in ids if i))

    @property
    def evaluation_bedrock_model_ids(self) -> list[str]:
        """Model ids the evaluation's case function may invoke: the pipeline's and the evaluation's."""
        if self.llm_provider != "bedrock":
            return []
        return list(dict.fromkeys([*self.bedrock_model_ids, *self.evaluation_model_ids]))

    @classmethod
    def from_context(cls, node: _Node) -> ReviewflowConfig:
        """Build from the construct tree's context; raise ``ValueError`` naming the context keys."""
        raw = node.try_get_context(CONTEXT_KEY)
        if isinstance(raw, str):
            try:
                raw = json.loads(raw)
            except json.JSONDecodeError as exc:
                raise ValueError(f"context {CONTEXT_KEY!r} is not a JSON object: {exc}") from exc
        if raw is None:
            raw = {}
        if not isinstance(raw, dict):
            raise ValueError(f"context {CONTEXT_KEY!r} must be a JSON object, got {type(raw).__name__}")
        values: dict[str, Any] = dict(raw)
        for name in cls.model_fields:
            override = node.try_get_context(f"{OVERRIDE_PREFIX}{name}")
            if override is not None:
                values[name] = override
        try:
            return cls.model_validate(values)
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(str(p) for p in err['loc']) or '(config)'}: {err['msg']}" for err in exc.errors()
            )
            raise ValueError(
                f"invalid reviewflow configuration (context {CONTEXT_KEY!r} or "
                f"'{OVERRIDE_PREFIX}<field>'): {problems}"
            ) from None

    @field_validator("reminder_fractions", "escalation_reviewers", mode="before")
    @classmethod
    def _list_from_text(cls, value: Any) -> Any:
        # ``-c reviewflow:reminder_fractions=[0.5,0.7]`` arrives as JSON text.
        return json.loads(value) if isinstance(value, str) else value

    @model_validator(mode="after")
    def _reminders_consistent(self) -> ReviewflowConfig:
        fractions = self.reminder_fractions
        if any(not 0 < value < 1 for value in fractions):
            raise ValueError("reminder_fractions must lie strictly between 0 and 1")
        if len(set(fractions)) != len(fractions):
            raise ValueError("reminder_fractions must be distinct")
        if self.escalation_fraction is not None and any(v >= self.escalation_fraction for v in fractions):
            raise ValueError(
                f"escalation_fraction ({self.escalation_fraction}) must be later than every reminder fraction"
            )
        if self.escalation_reviewers and self.escalation_fraction is None:
            raise ValueError("escalation_reviewers are set but escalation_fraction is not")
        for reviewer in self.escalation_reviewers:
            if not _EMAIL.match(reviewer.email):
                raise ValueError(
                    f"escalation reviewer {reviewer.id!r}: {reviewer.email!r} is not an email address"
                )
        ids = [reviewer.id for reviewer in self.escalation_reviewers]
        if len(set(ids)) != len(ids):
            raise ValueError("escalation_reviewers ids must be unique")
        # Disjoint from the roster: one SNS filter per id, so a shared id would get both lists' mail.
        roster = {reviewer.id for reviewer in self.reviewers}
        shared = sorted(roster & set(ids))
        if shared:
            raise ValueError(f"escalation_reviewers must not repeat roster ids: {', '.join(shared)}")
        return self


# Storefront delivery (issue 16): outcome events delivered to the storefront's HTTPS endpoints by
# EventBridge API destinations. Off unless ``storefront`` names at least one endpoint.
_SECRET_REFERENCE = re.compile(
    r"^(arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:)?[A-Za-z0-9/_+=.@-]{1,512}$"
)
_HEADER_NAME = re.compile(r"^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,256}$")


class StorefrontApiKeyAuth(BaseModel):
    """An API key sent in ``header_name``; its value is the Secrets Manager secret ``secret_name``."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    header_name: str = Field(default="x-api-key", pattern=_HEADER_NAME.pattern)
    # Name or ARN of an existing secret whose SecretString is the key itself (never the key).
    secret_name: str = Field(pattern=_SECRET_REFERENCE.pattern)


class StorefrontOAuthAuth(BaseModel):
    """OAuth 2.0 client credentials; the client secret is the Secrets Manager secret ``secret_name``."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    token_url: str = Field(min_length=8, max_length=2048)
    client_id: str = Field(min_length=1, max_length=512)
    secret_name: str = Field(pattern=_SECRET_REFERENCE.pattern)
    scope: str | None = Field(default=None, max_length=1024)


class StorefrontAuth(BaseModel):
    """Exactly one of ``api_key`` or ``oauth``."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    api_key: StorefrontApiKeyAuth | None = None
    oauth: StorefrontOAuthAuth | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> StorefrontAuth:
        if (self.api_key is None) == (self.oauth is None):
            raise ValueError("storefront.auth needs exactly one of 'api_key' or 'oauth'")
        return self

    @property
    def secret_name(self) -> str:
        chosen = self.api_key or self.oauth
        assert chosen is not None
        return chosen.secret_name


class StorefrontConfig(BaseModel):
    """Where and how outcome events reach the storefront (docs: storefront delivery)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    reply_url: str | None = None
    moderation_url: str | None = None
    auth: StorefrontAuth | None = None
    # API destination invocation rate limit (requests a second, per destination).
    rate_limit_per_second: int = Field(default=10, ge=1, le=300)
    retry_attempts: int = Field(default=8, ge=0, le=185)
    max_event_age_seconds: int = Field(default=3600, ge=60, le=86_400)

    @field_validator("reply_url", "moderation_url")
    @classmethod
    def _blank_url_is_none(cls, value: str | None) -> str | None:
        return value or None

    @model_validator(mode="after")
    def _consistent(self) -> StorefrontConfig:
        urls = [u for u in (self.reply_url, self.moderation_url, self.oauth_token_url) if u]
        # API destinations call HTTPS only; the local runtime sends to its stub by rewriting the host.
        for url in urls:
            if not url.startswith("https://") or len(url) > 2048 or any(c.isspace() for c in url):
                raise ValueError(f"storefront URL {url!r} must be an https:// URL")
        if self.enabled and self.auth is None:
            raise ValueError("storefront.auth is required when a storefront endpoint is configured")
        return self

    @property
    def oauth_token_url(self) -> str | None:
        return self.auth.oauth.token_url if self.auth is not None and self.auth.oauth else None

    @property
    def enabled(self) -> bool:
        return bool(self.reply_url or self.moderation_url)


from typing import Annotated  # noqa: E402  (appended section; see ReviewflowConfig.storefront)

from pydantic import BeforeValidator  # noqa: E402


def _storefront_from_text(value: Any) -> Any:
    # ``-c reviewflow:storefront={...}`` arrives as JSON text.
    return json.loads(value) if isinstance(value, str) and value.strip() else (value or None)


# ReviewflowConfig.storefront names these classes; they are defined after it (append-only file).
ReviewflowConfig.model_rebuild()
