"""Names other systems depend on: event sources and detail types, and runtime variable names.

Each name has this one home. The CDK app (``stacks/``), the local runtime (``local/``) and the
benchmarks (``bench/``) import them from here, and tests tie the workflow definition and the
synthesized template to them, so renaming one is a visible change to a contract, not a search and
replace. This module imports nothing of the project: every layer may use it.
"""

from __future__ import annotations

from enum import StrEnum

#: detail-type of the event a storefront posts for each new review.
INPUT_DETAIL_TYPE = "NEW_REVIEW_POSTED"
#: source the input rule matches unless the deployment configures another.
DEFAULT_INPUT_SOURCE = "reviews.storefront"
#: source of every event the workflow publishes; the input rule must never match it.
OUTCOME_SOURCE = "reviews.response-pipeline"


#: detail-type of the one event each evaluation ends with (source ``OUTCOME_SOURCE``). It is not an
#: ``OutcomeType``: it answers no review, so nothing that consumes review outcomes takes it.
EVALUATION_COMPLETED = "EVALUATION_COMPLETED"

#: detail-type of the product feedback the insight branch extracts (source ``OUTCOME_SOURCE``).
#: Not an ``OutcomeType`` either: the one-outcome-per-review rule does not count it.
PRODUCT_FEEDBACK_EXTRACTED = "PRODUCT_FEEDBACK_EXTRACTED"


class OutcomeType(StrEnum):
    """detail-type of the one outcome event each review ends in."""

    RESPONSE_CREATED = "NEW_REVIEW_RESPONSE_CREATED"
    HARMFUL_CONTENT = "HARMFUL_CONTENT_DETECTED"
    GENERATION_FAILED = "RESPONSE_GENERATION_FAILED"


#: prefix of every environment variable the functions read; field ``x`` of the runtime settings
#: is read from ``REVIEWFLOW_X``.
ENV_PREFIX = "REVIEWFLOW_"


class EnvVar(StrEnum):
    """Every ``REVIEWFLOW_*`` variable a function reads (one per runtime settings field)."""

    TOXICITY_PROVIDER = "REVIEWFLOW_TOXICITY_PROVIDER"
    LLM_PROVIDER = "REVIEWFLOW_LLM_PROVIDER"
    MODEL_ID = "REVIEWFLOW_MODEL_ID"
    SENTIMENT_MODEL_ID = "REVIEWFLOW_SENTIMENT_MODEL_ID"
    RESPONSE_MAX_TOKENS = "REVIEWFLOW_RESPONSE_MAX_TOKENS"
    RESPONSE_TEMPERATURE = "REVIEWFLOW_RESPONSE_TEMPERATURE"
    SENTIMENT_MAX_ATTEMPTS = "REVIEWFLOW_SENTIMENT_MAX_ATTEMPTS"
    SENTIMENT_PROMPT_VERSION = "REVIEWFLOW_SENTIMENT_PROMPT_VERSION"
    RESPONSE_PROMPT_VERSION = "REVIEWFLOW_RESPONSE_PROMPT_VERSION"
    REPLY_POLICY_VERSION = "REVIEWFLOW_REPLY_POLICY_VERSION"
    OPENAI_BASE_URL = "REVIEWFLOW_OPENAI_BASE_URL"
    OPENAI_API_KEY = "REVIEWFLOW_OPENAI_API_KEY"
    OPENAI_TIMEOUT_SECONDS = "REVIEWFLOW_OPENAI_TIMEOUT_SECONDS"
    APPROVALS_TABLE = "REVIEWFLOW_APPROVALS_TABLE"
    NOTIFICATION_TOPIC_ARN = "REVIEWFLOW_NOTIFICATION_TOPIC_ARN"
    APPROVAL_BASE_URL = "REVIEWFLOW_APPROVAL_BASE_URL"
    LEDGER_TTL_DAYS = "REVIEWFLOW_LEDGER_TTL_DAYS"
    EVALUATION_BUCKET = "REVIEWFLOW_EVALUATION_BUCKET"
    # Bedrock Guardrails as the toxicity provider (toxicity_provider=guardrails).
    GUARDRAIL_ID = "REVIEWFLOW_GUARDRAIL_ID"
    GUARDRAIL_VERSION = "REVIEWFLOW_GUARDRAIL_VERSION"
    GUARDRAIL_TIER = "REVIEWFLOW_GUARDRAIL_TIER"
    # Product insights (the ExtractInsights step).
    INSIGHTS_MODEL_ID = "REVIEWFLOW_INSIGHTS_MODEL_ID"
    INSIGHTS_PROMPT_VERSION = "REVIEWFLOW_INSIGHTS_PROMPT_VERSION"
    INSIGHTS_MAX_ATTEMPTS = "REVIEWFLOW_INSIGHTS_MAX_ATTEMPTS"
    INSIGHTS_TABLE = "REVIEWFLOW_INSIGHTS_TABLE"
    INSIGHTS_TTL_DAYS = "REVIEWFLOW_INSIGHTS_TTL_DAYS"
    # The insights report job (weekly by default): its bucket, the product team's topic, its period.
    INSIGHTS_REPORT_BUCKET = "REVIEWFLOW_INSIGHTS_REPORT_BUCKET"
    INSIGHTS_REPORT_PERIOD_DAYS = "REVIEWFLOW_INSIGHTS_REPORT_PERIOD_DAYS"
    PRODUCT_TEAM_TOPIC_ARN = "REVIEWFLOW_PRODUCT_TEAM_TOPIC_ARN"
    EVENT_BUS_NAME = "REVIEWFLOW_EVENT_BUS_NAME"


class LocalEnvVar(StrEnum):
    """Variables only the local runtime reads (``reviewflow run|serve|soak``), never a function.

    They share the prefix because users type them next to the others; the runtime settings skip
    exactly these and refuse any other unknown ``REVIEWFLOW_*`` name.
    """

    FAULTS = "REVIEWFLOW_FAULTS"
    FAULT_SEED = "REVIEWFLOW_FAULT_SEED"
    PROJECT_ROOT = "REVIEWFLOW_PROJECT_ROOT"
    # The model providers the local runtime synthesizes the stack with (``--llm`` and the rest):
    # they become synth context, as ``cdk.json`` would give it, and reach a function only that way.
    LLM = "REVIEWFLOW_LLM"
    LLM_BASE_URL = "REVIEWFLOW_LLM_BASE_URL"
    MODEL = "REVIEWFLOW_MODEL"
    SENTIMENT_MODEL = "REVIEWFLOW_SENTIMENT_MODEL"
    TOXICITY = "REVIEWFLOW_TOXICITY"
    RESPONSE_PROMPT = "REVIEWFLOW_RESPONSE_PROMPT"
