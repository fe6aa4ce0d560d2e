"""The toxicity guardrail in the template: created or referenced, applied with one narrow grant.

Each synth runs cdk-nag (``synthesize`` enables it), so an unacknowledged finding fails these too.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.infra.conftest import Synthesized, cdk_json_context, synthesize
from tests.infra.test_template import actions_on, function, logical_id, statements

SCORERS = ("ScoreToxicity", "CheckReply", "ApprovalApi")


def _synth(tmp_path: Path, **overrides: Any) -> Synthesized:
    context = cdk_json_context()
    context = {**context, "reviewflow": {**context["reviewflow"], **overrides}}
    return synthesize(tmp_path / "cdk.out", context)


@pytest.fixture(scope="module")
def created(tmp_path_factory: pytest.TempPathFactory) -> Synthesized:
    return _synth(
        tmp_path_factory.mktemp("created"),
        toxicity_provider="guardrails",
        guardrail_filter_strengths={"INSULTS": "HIGH"},
    )


def _all_actions(template: dict[str, Any]) -> set[str]:
    found: set[str] = set()
    for resource in template["Resources"].values():
        if resource["Type"] == "AWS::IAM::Policy":
            for statement in resource["Properties"]["PolicyDocument"]["Statement"]:
                actions = statement["Action"]
                found.update([actions] if isinstance(actions, str) else actions)
    return found


def test_the_stack_creates_the_guardrail_with_the_configured_strengths(created: Synthesized) -> None:
    guardrail = created.one("AWS::Bedrock::Guardrail")["Properties"]
    policy = guardrail["ContentPolicyConfig"]
    filters = {f["Type"]: f for f in policy["FiltersConfig"]}
    assert set(filters) == {"HATE", "INSULTS", "MISCONDUCT", "SEXUAL", "VIOLENCE", "PROMPT_ATTACK"}
    assert filters["INSULTS"]["InputStrength"] == filters["INSULTS"]["OutputStrength"] == "HIGH"
    assert filters["HATE"]["InputStrength"] == "MEDIUM"  # left out of the config: the default
    assert filters["PROMPT_ATTACK"] == {
        "Type": "PROMPT_ATTACK",
        "InputStrength": "HIGH",
        "OutputStrength": "NONE",
    }
    assert policy["ContentFiltersTierConfig"] == {"TierName": "STANDARD"}
    assert "guardrail-profile/us.guardrail.v1:0" in json.dumps(guardrail["CrossRegionConfig"])
    version = created.one("AWS::Bedrock::GuardrailVersion")["Properties"]
    guardrail_id = logical_id(created.template, "AWS::Bedrock::Guardrail", "FunctionsToxicityGuardrail")
    assert version["GuardrailIdentifier"] == {"Fn::GetAtt": [guardrail_id, "GuardrailId"]}


def test_scorers_apply_that_guardrail_version_and_nothing_else(created: Synthesized) -> None:
    template = created.template
    guardrail_id = logical_id(template, "AWS::Bedrock::Guardrail", "FunctionsToxicityGuardrail")
    version_id = logical_id(template, "AWS::Bedrock::GuardrailVersion", "FunctionsToxicityGuardrail")
    for name in SCORERS:
        env = function(created, name)["Environment"]["Variables"]
        assert env["REVIEWFLOW_TOXICITY_PROVIDER"] == "guardrails"
        assert env["REVIEWFLOW_GUARDRAIL_ID"] == {"Fn::GetAtt": [guardrail_id, "GuardrailId"]}
        assert env["REVIEWFLOW_GUARDRAIL_VERSION"] == {"Fn::GetAtt": [version_id, "Version"]}
        assert env["REVIEWFLOW_GUARDRAIL_TIER"] == "STANDARD"
        granted = actions_on(statements(template, f"Functions{name}Role"))
        assert "comprehend:DetectToxicContent" not in granted
        resources = granted["bedrock:ApplyGuardrail"]
        assert resources[0] == {"Fn::GetAtt": [guardrail_id, "GuardrailArn"]}
        assert len(resources) == 2 and "guardrail-profile/us.guardrail.v1:0" in json.dumps(resources[1])
        assert ":guardrail/*" not in json.dumps(resources)
    for name in ("ValidateReview", "DetectSentiment", "GenerateResponse", "BuildOutcome", "RequestApproval"):
        assert "bedrock:ApplyGuardrail" not in actions_on(statements(template, f"Functions{name}Role"))
    case = actions_on(statements(template, "EvaluationEvaluateCaseRole"))
    assert case["bedrock:ApplyGuardrail"][0] == {"Fn::GetAtt": [guardrail_id, "GuardrailArn"]}


def test_an_existing_guardrail_is_applied_by_id_and_version_without_creating_one(tmp_path: Path) -> None:
    synthesized = _synth(
        tmp_path,
        toxicity_provider="guardrails",
        guardrail_id="abc123xyz",
        guardrail_version="4",
        guardrail_tier="CLASSIC",
    )
    assert not synthesized.resources("AWS::Bedrock::Guardrail")
    assert not synthesized.resources("AWS::Bedrock::GuardrailVersion")
    env = function(synthesized, "ScoreToxicity")["Environment"]["Variables"]
    assert (env["REVIEWFLOW_GUARDRAIL_ID"], env["REVIEWFLOW_GUARDRAIL_VERSION"]) == ("abc123xyz", "4")
    granted = actions_on(statements(synthesized.template, "FunctionsScoreToxicityRole"))
    (resource,) = granted["bedrock:ApplyGuardrail"]  # classic tier: no cross-region profile
    assert json.dumps(resource).endswith(':guardrail/abc123xyz"]]}')


def test_nothing_guardrail_related_without_the_guardrails_provider(synthesized: Synthesized) -> None:
    assert not synthesized.resources("AWS::Bedrock::Guardrail")
    assert not synthesized.resources("AWS::Bedrock::GuardrailVersion")
    assert "bedrock:ApplyGuardrail" not in _all_actions(synthesized.template)
    for name in SCORERS:
        env = function(synthesized, name)["Environment"]["Variables"]
        assert not any(key.startswith("REVIEWFLOW_GUARDRAIL") for key in env)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"toxicity_provider": "guardrails", "guardrail_id": "abc"}, "together"),
        (
            {"toxicity_provider": "comprehend", "guardrail_id": "abc", "guardrail_version": "1"},
            "not 'guardrails'",
        ),
        ({"toxicity_provider": "guardrails", "guardrail_filter_strengths": {"INSULTS": "MAX"}}, "INSULTS"),
        (
            {"toxicity_provider": "guardrails", "guardrail_version": "v1", "guardrail_id": "abc"},
            "guardrail_version",
        ),
    ],
)
def test_inconsistent_guardrail_settings_fail_the_synth(overrides: dict[str, Any], message: str) -> None:
    from stacks.config import ReviewflowConfig

    with pytest.raises(ValueError, match=message):
        ReviewflowConfig.model_validate({"model_id": "us.amazon.nova-lite-v1:0", **overrides})


def test_the_original_design_the_benchmark_prices_is_a_valid_definition() -> None:
    """``bench/original_design.asl.json`` is never deployed, but it must be a state machine one
    could deploy, or the comparison prices something that cannot exist."""
    import subprocess

    from tests.infra.conftest import ROOT, node_tool

    result = subprocess.run(
        [str(node_tool("asl-validator")), "--json-path", str(ROOT / "bench" / "original_design.asl.json")],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
