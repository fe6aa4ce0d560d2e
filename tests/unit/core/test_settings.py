"""Runtime settings: every variable has one name in contracts.EnvVar, and unknown names are refused."""

from __future__ import annotations

import pytest

from reviewflow.config import RuntimeSettings
from reviewflow.contracts import ENV_PREFIX, EnvVar, LocalEnvVar
from reviewflow.errors import ConfigurationError


def test_every_settings_field_has_exactly_one_contract_name() -> None:
    fields = {f"{ENV_PREFIX}{name.upper()}" for name in RuntimeSettings.model_fields}
    assert fields == {member.value for member in EnvVar}


def test_an_unknown_reviewflow_variable_is_refused_by_name() -> None:
    with pytest.raises(ConfigurationError, match="REVIEWFLOW_MODLE_ID"):
        RuntimeSettings.from_environ({"REVIEWFLOW_MODLE_ID": "typo", "REVIEWFLOW_MODEL_ID": "m"})


def test_local_runtime_variables_are_not_function_settings() -> None:
    environ = {member.value: "1" for member in LocalEnvVar} | {EnvVar.MODEL_ID.value: "m"}
    assert RuntimeSettings.from_environ(environ).model_id == "m"
    assert not {member.value for member in LocalEnvVar} & {member.value for member in EnvVar}


def test_other_prefixes_and_empty_values_are_ignored() -> None:
    settings = RuntimeSettings.from_environ({"AWS_REGION": "x", "REVIEWFLOW_MODEL_ID": "", "PATH": "/bin"})
    assert settings.model_id == ""


def test_an_invalid_value_names_the_variable_but_not_the_value() -> None:
    with pytest.raises(ConfigurationError) as caught:
        RuntimeSettings.from_environ({"REVIEWFLOW_RESPONSE_MAX_TOKENS": "secret-looking-9999"})
    assert "REVIEWFLOW_RESPONSE_MAX_TOKENS" in str(caught.value)
    assert "secret-looking-9999" not in str(caught.value)
