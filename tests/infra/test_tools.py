"""The external validators, all offline: cfn-lint, asl-validator, and `cdk synth` with the CLI."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.infra.conftest import ROOT, Synthesized, assert_asl_validates, node_tool, require_executable

# W3005: CDK writes an explicit DependsOn on a function's role next to the GetAtt of that role.
CFN_LINT_IGNORED = "W3005"

SUBSTITUTED_VALUES = {
    "EventBusName": "reviewflow-reviews",
    "ApprovalsTableName": "Reviewflow-ApprovalsTable-ABC",
    "LowThreshold": "0.4",
    "HighThreshold": "0.6",
    "ApprovalTimeoutSeconds": "172800",
    "MaxDraftRounds": "2",
}

OFFLINE_ENV = {
    "CDK_DISABLE_CLI_TELEMETRY": "true",
    "JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION": "1",
    "AWS_EC2_METADATA_DISABLED": "true",
}


def test_cfn_lint_passes_on_the_template(synthesized: Synthesized) -> None:
    template = synthesized.outdir / "Reviewflow.template.json"
    cfn_lint = Path(sys.executable).parent / "cfn-lint"
    if not cfn_lint.exists():
        cfn_lint = Path(require_executable("cfn-lint"))
    result = subprocess.run(
        [str(cfn_lint), "--ignore-checks", CFN_LINT_IGNORED, "--", str(template)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_asl_validator_passes_on_the_file_and_on_the_substituted_definition(tmp_path: Path) -> None:
    assert_asl_validates(ROOT / "statemachines" / "review_response.asl.json", SUBSTITUTED_VALUES, tmp_path)


def test_cdk_cli_synth_succeeds_offline(tmp_path: Path) -> None:
    cdk = node_tool("cdk")
    env = {**os.environ, **OFFLINE_ENV}
    result = subprocess.run(
        [
            str(cdk),
            "synth",
            "--app",
            f"{sys.executable} app.py",
            "--output",
            str(tmp_path / "cdk.out"),
            "--no-notices",
            "--no-version-reporting",
            "--quiet",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    template = json.loads((tmp_path / "cdk.out" / "Reviewflow.template.json").read_text(encoding="utf-8"))
    machine = next(
        r for r in template["Resources"].values() if r["Type"] == "AWS::StepFunctions::StateMachine"
    )
    assert machine["Properties"]["StateMachineType"] == "STANDARD"


def test_python_app_with_cli_context_and_unstaged_assets(tmp_path: Path) -> None:
    """What the local runtime does: `python app.py` with CDK_CONTEXT_JSON/CDK_OUTDIR, assets in place."""
    context = json.loads((ROOT / "cdk.json").read_text(encoding="utf-8"))["context"]
    context.update(
        {
            "aws:cdk:disable-asset-staging": True,
            "aws:cdk:enable-asset-metadata": True,  # as the CLI passes it
            "reviewflow:llm_provider": "local",
            "reviewflow:toxicity_provider": "local",
        }
    )
    env = {**os.environ, **OFFLINE_ENV, "CDK_CONTEXT_JSON": json.dumps(context), "CDK_OUTDIR": str(tmp_path)}
    result = subprocess.run(
        [sys.executable, "app.py"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    template = json.loads((tmp_path / "Reviewflow.template.json").read_text(encoding="utf-8"))
    functions = [r for r in template["Resources"].values() if r["Type"] == "AWS::Lambda::Function"]
    assert {f["Metadata"]["aws:asset:path"] for f in functions} == {str(ROOT / "functions")}
    manifest = json.loads((tmp_path / "Reviewflow.assets.json").read_text(encoding="utf-8"))
    sources = {a["source"]["path"] for a in manifest["files"].values()}
    assert str(ROOT / "functions") in sources
    assert str(ROOT / "statemachines" / "review_response.asl.json") in sources
    for fn in functions:
        variables = fn["Properties"]["Environment"]["Variables"]
        assert variables.get("REVIEWFLOW_LLM_PROVIDER", "local") == "local"
        assert variables.get("REVIEWFLOW_TOXICITY_PROVIDER", "local") == "local"
        assert "REVIEWFLOW_MODEL_ID" not in variables
    # No AWS model permissions when the providers are local.
    policies = json.dumps([r for r in template["Resources"].values() if r["Type"] == "AWS::IAM::Policy"])
    assert "bedrock:" not in policies and "comprehend:" not in policies
