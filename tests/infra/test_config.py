"""The deployment configuration: defaults, validation, and how context reaches it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from stacks.config import LOCAL_RUNTIME_CONTEXT, ReviewflowConfig


class FakeNode:
    def __init__(self, context: dict[str, Any]) -> None:
        self._context = context

    def try_get_context(self, key: str) -> Any:
        return self._context.get(key)


BEDROCK = {"model_id": "us.amazon.nova-lite-v1:0"}


def test_defaults_are_the_design_values() -> None:
    config = ReviewflowConfig(**BEDROCK)
    assert (config.low_threshold, config.high_threshold) == (0.4, 0.6)
    assert config.approval_timeout_seconds == 48 * 3600
    assert config.event_source == "reviews.storefront"
    assert config.reviewer_email is None


def test_model_id_is_required_for_bedrock_and_the_error_names_the_context_key() -> None:
    with pytest.raises(ValueError, match=r"model_id is required.*reviewflow:model_id"):
        ReviewflowConfig.from_context(FakeNode({"reviewflow": {"llm_provider": "bedrock"}}))


def test_low_above_high_is_refused() -> None:
    with pytest.raises(ValueError, match="must not exceed high_threshold"):
        ReviewflowConfig(low_threshold=0.7, high_threshold=0.6, **BEDROCK)
    assert ReviewflowConfig(low_threshold=0.5, high_threshold=0.5, **BEDROCK).low_threshold == 0.5


def test_the_asl_workflow_timeout_must_outlast_every_approval() -> None:
    from stacks.constructs.workflow import Workflow

    rounds = ReviewflowConfig(approval_timeout_seconds=3600, **BEDROCK)  # 2 new-draft rounds by default
    with pytest.raises(ValueError, match=r"TimeoutSeconds=10800, but 4 approvals.*need at least 18000"):
        Workflow._check_workflow_timeout({"TimeoutSeconds": 10800}, rounds, Path("review_response.asl.json"))
    config = ReviewflowConfig(approval_timeout_seconds=3600, max_draft_rounds=0, **BEDROCK)
    asl = Path("review_response.asl.json")
    with pytest.raises(ValueError, match=r"TimeoutSeconds=7200.*need at least 10800"):
        Workflow._check_workflow_timeout({"TimeoutSeconds": 7200}, config, asl)
    with pytest.raises(ValueError, match="TimeoutSeconds=None"):
        Workflow._check_workflow_timeout({}, config, asl)
    Workflow._check_workflow_timeout({"TimeoutSeconds": 10800}, config, asl)


def test_outcome_source_cannot_be_the_input_source() -> None:
    with pytest.raises(ValueError, match="outcome events"):
        ReviewflowConfig(event_source="reviews.response-pipeline", **BEDROCK)


def test_unknown_fields_and_bad_emails_fail_loudly() -> None:
    with pytest.raises(ValueError, match="reviewer_emial"):
        ReviewflowConfig.from_context(FakeNode({"reviewflow": {**BEDROCK, "reviewer_emial": "a@b.co"}}))
    with pytest.raises(ValueError, match="not an email address"):
        ReviewflowConfig(reviewer_email="nobody", **BEDROCK)


def test_per_field_overrides_win_and_text_values_are_coerced() -> None:
    node = FakeNode(
        {
            "reviewflow": {**BEDROCK, "low_threshold": 0.3, "reviewer_email": "a@example.com"},
            # What `cdk deploy -c reviewflow:<field>=<value>` delivers: text.
            "reviewflow:low_threshold": "0.35",
            "reviewflow:log_retention_days": "14",
            "reviewflow:api_gateway_cloudwatch_role": "true",
            "reviewflow:reviewer_email": "b@example.com",
        }
    )
    config = ReviewflowConfig.from_context(node)
    assert config.low_threshold == 0.35
    assert config.log_retention_days == 14
    assert config.api_gateway_cloudwatch_role is True
    assert config.reviewer_email == "b@example.com"


def test_the_reviewflow_object_may_arrive_as_json_text() -> None:
    node = FakeNode({"reviewflow": json.dumps({**BEDROCK, "high_threshold": 0.7})})
    assert ReviewflowConfig.from_context(node).high_threshold == 0.7


def test_local_runtime_context_needs_no_model_and_no_aws_providers() -> None:
    config = ReviewflowConfig.from_context(FakeNode(dict(LOCAL_RUNTIME_CONTEXT)))
    assert (config.llm_provider, config.toxicity_provider) == ("local", "local")
    assert config.bedrock_model_ids == []
    assert config.api_gateway_cloudwatch_role is False


def test_bedrock_model_ids_include_a_separate_sentiment_model() -> None:
    config = ReviewflowConfig(model_id="amazon.nova-pro-v1:0", sentiment_model_id="amazon.nova-micro-v1:0")
    assert config.bedrock_model_ids == ["amazon.nova-pro-v1:0", "amazon.nova-micro-v1:0"]


@pytest.mark.parametrize(
    ("field", "missing"),
    [
        ("response_prompt_version", "functions/prompts/response/v9.system.txt"),
        ("sentiment_prompt_version", "functions/prompts/sentiment/v9.user.txt"),
        ("reply_policy_version", "functions/policies/reply/v9.json"),
    ],
)
def test_synth_refuses_a_version_whose_files_do_not_exist_and_names_them(field: str, missing: str) -> None:
    with pytest.raises(ValueError, match=missing.replace(".", r"\.")):
        ReviewflowConfig.from_context(FakeNode({"reviewflow": {**BEDROCK, field: "v9"}}))


def test_versions_whose_files_exist_are_accepted() -> None:
    config = ReviewflowConfig(
        response_prompt_version="v1", sentiment_prompt_version="v1", reply_policy_version="v1", **BEDROCK
    )
    assert config.missing_versioned_files() == []
