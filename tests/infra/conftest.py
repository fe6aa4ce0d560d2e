"""One synthesized app per test session (synth takes seconds), shared by the infra tests."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
CDK_JSON = ROOT / "cdk.json"
# The workflow definition the stack loads. REVIEWFLOW_ASL_FILE points the template tests at another
# copy (only while the real file is being written); the CLI and app.py tests always use the real one.
ASL_FILE = Path(os.environ.get("REVIEWFLOW_ASL_FILE", ROOT / "statemachines" / "review_response.asl.json"))
NODE_BIN = ROOT / "node_modules" / ".bin"

os.environ.setdefault("JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION", "1")


def cdk_json_context() -> dict[str, Any]:
    context: dict[str, Any] = json.loads(CDK_JSON.read_text(encoding="utf-8"))["context"]
    return context


@dataclass
class Synthesized:
    template: dict[str, Any]
    outdir: Path
    context: dict[str, Any]

    def resources(self, type_: str) -> dict[str, dict[str, Any]]:
        return {k: r for k, r in self.template["Resources"].items() if r["Type"] == type_}

    def one(self, type_: str) -> dict[str, Any]:
        found = list(self.resources(type_).values())
        assert len(found) == 1, f"expected one {type_}, found {len(found)}"
        return found[0]


def synthesize(outdir: Path, context: dict[str, Any], asl_file: Path = ASL_FILE) -> Synthesized:
    import aws_cdk as cdk

    from stacks.config import ReviewflowConfig
    from stacks.nag import enable_nag
    from stacks.reviewflow_stack import ReviewflowStack

    app = cdk.App(context=context, outdir=str(outdir))
    enable_nag(app)
    ReviewflowStack(
        app, "Reviewflow", config=ReviewflowConfig.from_context(app.node), definition_file=asl_file
    )
    assembly = app.synth()
    template = assembly.get_stack_by_name("Reviewflow").template
    return Synthesized(template=template, outdir=outdir, context=context)


@pytest.fixture(scope="session")
def synthesized(tmp_path_factory: pytest.TempPathFactory) -> Synthesized:
    return synthesize(tmp_path_factory.mktemp("cdk.out"), cdk_json_context())


@pytest.fixture(scope="session")
def template(synthesized: Synthesized) -> dict[str, Any]:
    return synthesized.template


def node_tool(name: str) -> Path:
    tool = NODE_BIN / name
    if not tool.exists():
        pytest.skip(f"{tool} is missing: run `npm ci` in {ROOT} (the Makefile does)")
    return tool


def require_executable(name: str) -> str:
    found = shutil.which(name)
    if not found:
        pytest.skip(f"{name} not on PATH")
    return found


_SUBSTITUTION = re.compile(r"\$\{(\w+)\}")


def assert_asl_validates(definition: Path, values: dict[str, str], scratch: Path) -> None:
    """asl-validator passes on ``definition`` as written and as deployed.

    As deployed, every ``${...FunctionArn}`` substitution becomes a Lambda ARN and every other one
    the value given in ``values`` (the shape CloudFormation puts there); an unknown one fails.
    """
    validator = node_tool("asl-validator")
    text = definition.read_text(encoding="utf-8")

    def value_of(match: re.Match[str]) -> str:
        key = match.group(1)
        if key.endswith("FunctionArn"):
            return f"arn:aws:lambda:eu-west-1:123456789012:function:{key.removesuffix('FunctionArn')}"
        assert key in values, f"{definition.name}: no test value for the substitution ${{{key}}}"
        return values[key]

    substituted = scratch / f"substituted-{definition.name}"
    substituted.write_text(_SUBSTITUTION.sub(value_of, text), encoding="utf-8")
    for path in (definition, substituted):
        result = subprocess.run(
            [str(validator), "--json-path", str(path)],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert result.returncode == 0, f"{path}: {result.stdout}{result.stderr}"
