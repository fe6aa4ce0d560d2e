"""The synthesized template as the cost model reads it: which function, with what memory, runs
behind each ``${...FunctionArn}`` of the workflow definition."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench import common

_HANDLER_PREFIX = "reviewflow.handlers."


def synthesize_template() -> dict[str, Any]:
    """``python app.py`` with cdk.json's context (the AWS deployment: Bedrock + Comprehend)."""
    context = json.loads((common.ROOT / "cdk.json").read_text()).get("context", {})
    context["aws:cdk:disable-asset-staging"] = True
    with tempfile.TemporaryDirectory(prefix="reviewflow-bench-synth-") as out:
        env = {
            **os.environ,
            "CDK_OUTDIR": out,
            "CDK_CONTEXT_JSON": json.dumps(context),
            "JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION": "1",
            "JSII_SILENCE_WARNING_UNTESTED_NODE_VERSION": "1",
            "PATH": os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")]),
        }
        done = subprocess.run(
            [sys.executable, "app.py"], cwd=common.ROOT, env=env, capture_output=True, text=True, check=False
        )
        if done.returncode != 0:
            raise RuntimeError(f"python app.py failed:\n{done.stderr[-3000:]}")
        manifest = json.loads((Path(out) / "manifest.json").read_text())
        stack = next(v for v in manifest["artifacts"].values() if v.get("type") == "aws:cloudformation:stack")
        template: dict[str, Any] = json.loads((Path(out) / stack["properties"]["templateFile"]).read_text())
        return template


REVIEW_ENTRY = "reviewflow.handlers.validate_review.handler"


@dataclass(frozen=True)
class FunctionSpec:
    handler: str  # "score_toxicity"
    memory_mb: int
    architecture: str


def _spec(properties: dict[str, Any]) -> FunctionSpec:
    return FunctionSpec(
        handler=properties["Handler"].split(".")[-2],
        memory_mb=int(properties.get("MemorySize", 128)),
        architecture=(properties.get("Architectures") or ["x86_64"])[0],
    )


def review_state_machine(template: dict[str, Any]) -> dict[str, Any]:
    """The review workflow: the state machine that invokes ``validate_review`` (the evaluation
    suite's invokes its own functions)."""
    resources = template["Resources"]

    def invokes_validate_review(machine: dict[str, Any]) -> bool:
        for value in machine["Properties"].get("DefinitionSubstitutions", {}).values():
            target = (
                resources.get(value["Fn::GetAtt"][0], {})
                if isinstance(value, dict) and "Fn::GetAtt" in value
                else {}
            )
            if target.get("Properties", {}).get("Handler") == REVIEW_ENTRY:
                return True
        return False

    machines = [
        r
        for r in resources.values()
        if r["Type"] == "AWS::StepFunctions::StateMachine" and invokes_validate_review(r)
    ]
    if len(machines) != 1:
        raise ValueError(f"expected one state machine invoking validate_review, found {len(machines)}")
    return machines[0]


def functions_by_substitution(template: dict[str, Any]) -> dict[str, FunctionSpec]:
    """``ScoreToxicityFunctionArn`` -> the function the review workflow's substitution points at."""
    resources = template["Resources"]
    found: dict[str, FunctionSpec] = {}
    for key, value in review_state_machine(template)["Properties"].get("DefinitionSubstitutions", {}).items():
        if isinstance(value, dict) and "Fn::GetAtt" in value:
            spec = resources[value["Fn::GetAtt"][0]]
            if spec["Type"] == "AWS::Lambda::Function":
                found[key] = _spec(spec["Properties"])
    return found


def all_functions(template: dict[str, Any]) -> dict[str, FunctionSpec]:
    """Every function of the stack by handler module name (approval_api is no workflow task)."""
    found = {}
    for spec in template["Resources"].values():
        properties = spec.get("Properties", {})
        if spec["Type"] == "AWS::Lambda::Function" and _HANDLER_PREFIX in properties.get("Handler", ""):
            function = _spec(properties)
            found[function.handler] = function
    return found


def task_function(spec: dict[str, Any], functions: dict[str, FunctionSpec]) -> FunctionSpec | None:
    """The Lambda function a Task state invokes, if any."""
    resource = spec.get("Resource", "")
    reference = resource if resource.startswith("${") else spec.get("Parameters", {}).get("FunctionName", "")
    if isinstance(reference, str) and reference.startswith("${") and reference.endswith("}"):
        return functions.get(reference[2:-1])
    return None
