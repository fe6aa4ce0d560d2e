"""The functions' environment and the runtime settings name the same variables, from one list.

``reviewflow.contracts.EnvVar`` is that list: the stack may only set its members, and each member
is one ``RuntimeSettings`` field, so a setting the stack sets is a setting the function reads.
"""

from __future__ import annotations

from typing import Any

import pytest

from reviewflow.config import RuntimeSettings
from reviewflow.contracts import ENV_PREFIX, EnvVar
from tests.infra.conftest import Synthesized, cdk_json_context, synthesize

# Context under which every optional variable is set (the default synth leaves most of them out).
EVERY_OPTION = {
    "reviewflow:llm_provider": "openai",
    "reviewflow:openai_base_url": "http://127.0.0.1:8080/v1",
    "reviewflow:sentiment_model_id": "amazon.nova-micro-v1:0",
    "reviewflow:response_max_tokens": "300",
    "reviewflow:sentiment_prompt_version": "v1",
    "reviewflow:response_prompt_version": "v1",
    "reviewflow:reply_policy_version": "v1",
}

# What a CloudFormation intrinsic (Ref, Fn::GetAtt, Fn::Join) stands for when validating settings.
DEPLOY_TIME_VALUE = "resolved-at-deploy"


@pytest.fixture(scope="module")
def every_option(tmp_path_factory: pytest.TempPathFactory) -> Synthesized:
    return synthesize(tmp_path_factory.mktemp("cdk.out"), {**cdk_json_context(), **EVERY_OPTION})


@pytest.fixture(params=["default", "every_option"])
def environments(request: pytest.FixtureRequest) -> dict[str, dict[str, Any]]:
    """``REVIEWFLOW_*`` variables of each function, by logical id, in one synthesized template."""
    name = "synthesized" if request.param == "default" else "every_option"
    synthesized: Synthesized = request.getfixturevalue(name)
    found = {
        logical_id: {
            key: value
            for key, value in fn["Properties"].get("Environment", {}).get("Variables", {}).items()
            if key.startswith(ENV_PREFIX)
        }
        for logical_id, fn in synthesized.resources("AWS::Lambda::Function").items()
    }
    assert found, "no functions in the template"
    return found


def test_every_variable_a_function_is_given_is_a_contract_name(
    environments: dict[str, dict[str, Any]],
) -> None:
    contract = {member.value for member in EnvVar}
    for logical_id, variables in environments.items():
        unknown = sorted(set(variables) - contract)
        assert not unknown, f"{logical_id} sets {unknown}, which reviewflow.contracts.EnvVar does not name"


def test_every_function_accepts_the_settings_it_is_given(environments: dict[str, dict[str, Any]]) -> None:
    for logical_id, variables in environments.items():
        environ = {
            key: value if isinstance(value, str) else DEPLOY_TIME_VALUE for key, value in variables.items()
        }
        settings = RuntimeSettings.from_environ(environ)
        for key, value in environ.items():
            field = key.removeprefix(ENV_PREFIX).lower()
            assert str(getattr(settings, field)) == value, f"{logical_id}: {key}={value!r} read differently"


def test_the_variable_options_are_all_set_somewhere(every_option: Synthesized) -> None:
    # Guards the fixture above: if a variable stopped being set, the checks would pass vacuously.
    set_somewhere = {
        key
        for fn in every_option.resources("AWS::Lambda::Function").values()
        for key in fn["Properties"]["Environment"]["Variables"]
    }
    optional = {
        EnvVar.OPENAI_BASE_URL,
        EnvVar.SENTIMENT_MODEL_ID,
        EnvVar.RESPONSE_MAX_TOKENS,
        EnvVar.SENTIMENT_PROMPT_VERSION,
        EnvVar.RESPONSE_PROMPT_VERSION,
    }
    assert {member.value for member in optional} <= set_somewhere


def test_each_contract_name_is_one_runtime_settings_field() -> None:
    fields = set(RuntimeSettings.model_fields)
    for member in EnvVar:
        assert member.value.startswith(ENV_PREFIX), member
        field = member.value.removeprefix(ENV_PREFIX).lower()
        assert field in fields, f"{member.value} is read by no RuntimeSettings field (expected {field!r})"
        assert member.name == field.upper(), f"EnvVar.{member.name} holds {member.value}"
    unnamed = sorted(fields - {member.value.removeprefix(ENV_PREFIX).lower() for member in EnvVar})
    assert not unnamed, f"RuntimeSettings fields without an EnvVar member: {unnamed}"
