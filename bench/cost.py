"""Cost model: what 1,000 reviews cost on AWS, per path and for a stated path mix.

Counts come from the artefacts, not from a hand-written list: state transitions and task
attempts from walking the ASL along each path, memory sizes and the function behind each
``${...FunctionArn}`` from the synthesized template, Comprehend units from segmenting the sample
reviews exactly as the Comprehend adapter does, Bedrock tokens from the rendered prompts. Local
handler time is not AWS time, so duration is measured CPU time scaled to the function's memory
share of a vCPU plus stated service latencies. Prices come from ``bench/pricing.json`` only.
"""

from __future__ import annotations

import contextlib
import io
import json
import math
import os
import subprocess
import sys
import tempfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench import common

PRICING = Path(__file__).with_name("pricing.json")

#: Lambda gives a function one full vCPU at 1,769 MB and a proportional share below that.
FULL_VCPU_MB = 1769


@dataclass(frozen=True)
class Assumptions:
    """Everything the model cannot measure offline. Printed with every result."""

    model_id: str = ""  # empty: pricing.json's default model
    chars_per_token: float = 4.0
    reply_chars: int = 480  # a 3-4 sentence reply, ~120 tokens
    sentiment_output_tokens: int = 40  # {"sentiment": ..., "reason": "<one sentence>"}
    comprehend_latency_ms: float = 120.0
    bedrock_sentiment_latency_ms: float = 500.0
    bedrock_response_latency_ms: float = 1500.0
    bedrock_throttle_latency_ms: float = 50.0
    sdk_attempts_per_throttle: int = 2  # registry.aws_client: retries max_attempts=2
    dynamodb_latency_ms: float = 15.0
    sns_latency_ms: float = 30.0
    stepfunctions_latency_ms: float = 30.0
    approval_cpu_ms: float = 3.0  # request_approval / approval_api CPU per call (not measured offline)
    approval_item_kb: int = 3  # approval item with snapshot + task token: WRU per write
    lambda_platform_log_bytes: int = 300  # START / END / REPORT lines per invocation
    sfn_log_bytes_per_event: int = 350  # Level ALL, IncludeExecutionData false
    traces_per_execution: float = 1.0  # upper bound: the default sampling keeps 1/s + 5 %
    mix: tuple[tuple[str, float], ...] = (
        ("safe", 0.80),
        ("harmful", 0.05),
        ("human_review", 0.05),
        ("human_reply", 0.05),
        ("failed", 0.05),
    )


# ------------------------------------------------------------------------ pure arithmetic


def comprehend_units(text: str, *, chars_per_unit: int = 100, minimum_units: int = 3) -> tuple[int, int]:
    """(requests, billed units) for scoring ``text`` the way the Comprehend adapter sends it.

    One request per batch of at most 10 segments; each request is billed per started unit of
    ``chars_per_unit`` characters of its segments, with ``minimum_units`` per request.
    """
    from reviewflow.domain.segmentation import batch_segments, split_segments

    batches = batch_segments(split_segments(text))
    units = 0
    for batch in batches:
        characters = sum(len(segment) for segment in batch)
        units += max(minimum_units, math.ceil(characters / chars_per_unit))
    return len(batches), units


def billed_ms(cpu_ms: float, service_ms: float, memory_mb: int, granularity_ms: int = 1) -> int:
    """Lambda's billed duration: CPU work slowed to the memory's vCPU share, plus waiting."""
    scale = max(1.0, FULL_VCPU_MB / memory_mb)
    raw = cpu_ms * scale + service_ms
    return int(math.ceil(raw / granularity_ms) * granularity_ms)


def gb_seconds(duration_ms: float, memory_mb: int) -> float:
    return memory_mb / 1024 * duration_ms / 1000


def mix_cost(path_costs: dict[str, dict[str, float]], mix: dict[str, float]) -> dict[str, float]:
    """Cost per review for the mix, line by line (weights must sum to 1)."""
    total = sum(mix.values())
    if not math.isclose(total, 1.0, abs_tol=1e-9):
        raise ValueError(f"path mix weights sum to {total}, not 1")
    lines: dict[str, float] = {}
    for path, weight in mix.items():
        for line, cost in path_costs[path].items():
            lines[line] = lines.get(line, 0.0) + weight * cost
    return lines


# ---------------------------------------------------------------------------- ASL walking


@dataclass
class PathWalk:
    states: list[str] = field(default_factory=list)
    attempts: Counter[str] = field(default_factory=Counter)  # task state -> attempts (incl. failed)
    failed_attempts: Counter[str] = field(default_factory=Counter)

    @property
    def transitions(self) -> int:
        """States entered plus retries: each retry is billed as one more transition."""
        retries = sum(self.attempts.values()) - sum(1 for s in self.attempts)
        return len(self.states) + retries


def _matches(error: str, names: list[str]) -> bool:
    return error in names or "States.ALL" in names


def walk(asl: dict[str, Any], choices: dict[str, str], failures: dict[str, str] | None = None) -> PathWalk:
    """Follow the definition from ``StartAt``: ``choices`` picks each Choice's branch, ``failures``
    names the error a Task raises on every attempt (its Retry runs out, then its Catch is taken)."""
    failures = failures or {}
    states = asl["States"]
    result = PathWalk()
    name: str | None = asl["StartAt"]
    while name is not None:
        if len(result.states) > 200:
            raise ValueError("the walk does not end (a loop in the chosen path?)")
        spec = states[name]
        result.states.append(name)
        kind = spec["Type"]
        following: str | None = spec.get("Next")
        if kind == "Task":
            if name in failures:
                error = failures[name]
                retry = next((r for r in spec.get("Retry", []) if _matches(error, r["ErrorEquals"])), None)
                tries = 1 + (retry.get("MaxAttempts", 3) if retry else 0)
                result.attempts[name] += tries
                result.failed_attempts[name] += tries
                catch = next((c for c in spec.get("Catch", []) if _matches(error, c["ErrorEquals"])), None)
                if catch is None:
                    raise ValueError(f"{name} has no Catch for {error}: the execution would fail")
                following = catch["Next"]
            else:
                result.attempts[name] += 1
        elif kind == "Choice":
            if name not in choices:
                raise ValueError(f"the path does not say which branch {name} takes")
            following = choices[name]
            allowed = {c["Next"] for c in spec["Choices"]} | {spec.get("Default")}
            if following not in allowed:
                raise ValueError(
                    f"{name} cannot go to {following}; its branches are {sorted(allowed - {None})}"
                )
        elif kind in ("Succeed", "Fail"):
            following = None
        if spec.get("End"):
            following = None
        name = following
    unknown = set(choices) - set(result.states)
    if unknown - _ALWAYS_OPTIONAL:
        raise ValueError(f"choices for states the path never reached: {sorted(unknown)}")
    return result


_ALWAYS_OPTIONAL: set[str] = set()

#: The paths the issue names: which branch each Choice takes, which task fails.
_SAFE = {
    "IsReviewValid": "ScoreReviewToxicity",
    "ReviewToxicityBand": "DetectSentiment",
    "ResponseToxicityBand": "ResponseAccepted",
}
PATHS: dict[str, tuple[str, dict[str, str], dict[str, str]]] = {
    "safe": ("safe review, auto reply", _SAFE, {}),
    "harmful": (
        "harmful review",
        {"IsReviewValid": "ScoreReviewToxicity", "ReviewToxicityBand": "ReviewIsHarmful"},
        {},
    ),
    "human_review": (
        "uncertain review, approved",
        {**_SAFE, "ReviewToxicityBand": "HumanReviewOfReview", "ReviewDecision": "DetectSentiment"},
        {},
    ),
    "human_reply": (
        "uncertain reply, approved",
        {**_SAFE, "ResponseToxicityBand": "HumanReviewOfResponse", "ResponseDecision": "ResponseAccepted"},
        {},
    ),
    "failed": (
        "Bedrock throttles GenerateResponse past its retries",
        {k: v for k, v in _SAFE.items() if k != "ResponseToxicityBand"},
        {"GenerateResponse": "ProviderThrottledError"},
    ),
    "invalid": ("invalid review (not in the mix)", {"IsReviewValid": "ReviewInvalid"}, {}),
}


# ------------------------------------------------------------------------------- inputs


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
        return json.loads((Path(out) / stack["properties"]["templateFile"]).read_text())


@dataclass(frozen=True)
class FunctionSpec:
    handler: str  # "score_toxicity"
    memory_mb: int
    architecture: str


def functions_by_substitution(template: dict[str, Any]) -> dict[str, FunctionSpec]:
    """``ScoreToxicityFunctionArn`` -> the function the state machine's substitution points at."""
    resources = template["Resources"]
    machines = [r for r in resources.values() if r["Type"] == "AWS::StepFunctions::StateMachine"]
    if len(machines) != 1:
        raise ValueError(f"expected one state machine, found {len(machines)}")
    found: dict[str, FunctionSpec] = {}
    for key, value in machines[0]["Properties"].get("DefinitionSubstitutions", {}).items():
        if isinstance(value, dict) and "Fn::GetAtt" in value:
            logical = value["Fn::GetAtt"][0]
            spec = resources[logical]
            if spec["Type"] == "AWS::Lambda::Function":
                props = spec["Properties"]
                found[key] = FunctionSpec(
                    handler=props["Handler"].split(".")[-2],
                    memory_mb=int(props.get("MemorySize", 128)),
                    architecture=(props.get("Architectures") or ["x86_64"])[0],
                )
    return found


def all_functions(template: dict[str, Any]) -> dict[str, FunctionSpec]:
    """Every function of the stack by handler module name (approval_api is no workflow task)."""
    found = {}
    for spec in template["Resources"].values():
        if spec["Type"] == "AWS::Lambda::Function" and "reviewflow.handlers." in spec["Properties"].get(
            "Handler", ""
        ):
            props = spec["Properties"]
            name = props["Handler"].split(".")[-2]
            found[name] = FunctionSpec(
                name, int(props.get("MemorySize", 128)), (props.get("Architectures") or ["x86_64"])[0]
            )
    return found


def task_function(spec: dict[str, Any], functions: dict[str, FunctionSpec]) -> FunctionSpec | None:
    """The Lambda function a Task state invokes, if any."""
    resource = spec.get("Resource", "")
    reference = resource if resource.startswith("${") else spec.get("Parameters", {}).get("FunctionName", "")
    if isinstance(reference, str) and reference.startswith("${") and reference.endswith("}"):
        return functions.get(reference[2:-1])
    return None


@dataclass
class TextWorkload:
    review_requests: float
    review_units: float
    reply_requests: int
    reply_units: int
    sentiment_input_tokens: float
    response_input_tokens: float
    samples: int
    reviews_at_minimum: int  # reviews billed at exactly the minimum units


def text_workload(assume: Assumptions, pricing: dict[str, Any]) -> TextWorkload:
    """Comprehend units and prompt tokens, averaged over the English sample reviews."""
    from pydantic import ValidationError

    from reviewflow.domain.prompts import load_prompt, review_fields
    from reviewflow.models.events import ReviewPosted

    rule = pricing["comprehend"]
    samples = []
    for sample in common.load_samples():
        try:
            review = ReviewPosted.model_validate(sample)
        except ValidationError:
            continue  # an invalid review never reaches Comprehend or Bedrock
        if review.language == "en":  # other languages go to a person without a Comprehend call
            samples.append(review)
    requests, units, at_minimum, sentiment_chars, response_chars = 0, 0, 0, 0, 0
    sentiment_prompt = load_prompt("sentiment", "v1")
    response_prompt = load_prompt("response", "v1")
    for sample in samples:
        calls, billed = comprehend_units(
            sample.review_text,
            chars_per_unit=rule["characters_per_unit"],
            minimum_units=rule["minimum_units_per_request"],
        )
        requests += calls
        units += billed
        at_minimum += billed == rule["minimum_units_per_request"] * calls
        fields = review_fields(sample)
        rendered = sentiment_prompt.render(**fields)
        sentiment_chars += len(rendered.system) + len(rendered.user)
        rendered = response_prompt.render(**fields, sentiment="POSITIVE")
        response_chars += len(rendered.system) + len(rendered.user)
    reply_requests, reply_units = comprehend_units(
        "x" * assume.reply_chars,
        chars_per_unit=rule["characters_per_unit"],
        minimum_units=rule["minimum_units_per_request"],
    )
    count = len(samples)
    return TextWorkload(
        review_requests=requests / count,
        review_units=units / count,
        reply_requests=reply_requests,
        reply_units=reply_units,
        sentiment_input_tokens=sentiment_chars / count / assume.chars_per_token,
        response_input_tokens=response_chars / count / assume.chars_per_token,
        samples=count,
        reviews_at_minimum=at_minimum,
    )


def measured_handler_cpu(reviews: int = 60) -> tuple[dict[str, float], float]:
    """Warm median time of each handler on the auto path (local providers), and log bytes per call."""
    os.environ.update(common.LOCAL_ENV)
    common.add_source_paths()
    from bench.direct import DirectChain

    chain = DirectChain()
    sink = io.StringIO()
    with contextlib.redirect_stdout(sink):
        for index, review in enumerate(common.auto_path_reviews(reviews + 5, seed=23)):
            chain.run(common.eventbridge_event(review, index), f"arn:aws:states:::execution:bench:{index}")
    # The first calls load models and Powertools: drop them, as a warm Lambda would.
    cpu = {name: common.median(values[5:]) * 1000 for name, values in chain.durations.items() if values}
    calls = sum(len(v) for k, v in chain.durations.items() if ":" not in k)
    return cpu, len(sink.getvalue().encode()) / calls


# ------------------------------------------------------------------------------ the model


def model(
    assume: Assumptions,
    pricing: dict[str, Any],
    template: dict[str, Any],
    asl: dict[str, Any],
    cpu_ms: dict[str, float],
    log_bytes_per_call: float,
) -> dict[str, Any]:
    model_id = assume.model_id or pricing["bedrock"]["default_model"]
    token_prices = pricing["bedrock"]["per_1k_tokens"][model_id]
    work = text_workload(assume, pricing)
    task_functions = functions_by_substitution(template)
    every_function = all_functions(template)
    lam = pricing["lambda"]

    def lambda_call(function: FunctionSpec, cpu: float, service: float) -> tuple[int, float]:
        duration = billed_ms(cpu, service, function.memory_mb, lam["billing_granularity_ms"])
        return duration, gb_seconds(duration, function.memory_mb)

    paths: dict[str, Any] = {}
    for key, (label, choices, failures) in PATHS.items():
        walked = walk(asl, choices, failures)
        usage: Counter[str] = Counter()
        gbs_by_arch: Counter[str] = Counter()
        lambda_ms = 0
        sfn_log_events = 2  # ExecutionStarted / ExecutionSucceeded
        for state in walked.states:
            spec = asl["States"][state]
            sfn_log_events += 2
            if spec["Type"] != "Task":
                continue
            resource = spec.get("Resource", "")
            stage = spec.get("Parameters", {}).get("stage")
            function = task_function(spec, task_functions)
            tries = walked.attempts[state]
            failed = walked.failed_attempts[state]
            sfn_log_events += 3 * tries
            if resource.endswith(":dynamodb:putItem"):
                usage["dynamodb_wru"] += tries
            elif resource.endswith(":events:putEvents"):
                usage["eventbridge_events"] += tries
            if function is None:
                continue
            usage["lambda_invocations"] += tries
            name = function.handler
            cpu = cpu_ms.get(f"{name}:{stage}", cpu_ms.get(name, assume.approval_cpu_ms))
            service = 0.0
            if name == "score_toxicity":
                requests = work.review_requests if stage == "REVIEW" else work.reply_requests
                usage["comprehend_units"] += work.review_units if stage == "REVIEW" else work.reply_units
                service = requests * assume.comprehend_latency_ms
            elif name == "detect_sentiment" and not failed:
                usage["bedrock_input_tokens"] += work.sentiment_input_tokens
                usage["bedrock_output_tokens"] += assume.sentiment_output_tokens
                service = assume.bedrock_sentiment_latency_ms
            elif name == "generate_response":
                if failed:
                    service = assume.bedrock_throttle_latency_ms * assume.sdk_attempts_per_throttle
                else:
                    usage["bedrock_input_tokens"] += work.response_input_tokens
                    usage["bedrock_output_tokens"] += assume.reply_chars / assume.chars_per_token
                    service = assume.bedrock_response_latency_ms
            elif name == "request_approval":
                usage["dynamodb_wru"] += assume.approval_item_kb
                usage["sns_publishes"] += 1
                usage["sns_emails"] += 1
                service = assume.dynamodb_latency_ms + assume.sns_latency_ms
                # The reviewer opens the link (GET) and decides (POST): two API calls, two invocations.
                api = every_function["approval_api"]
                get_ms, get_gbs = lambda_call(api, assume.approval_cpu_ms, assume.dynamodb_latency_ms)
                post_ms, post_gbs = lambda_call(
                    api,
                    assume.approval_cpu_ms,
                    2 * assume.dynamodb_latency_ms
                    + assume.stepfunctions_latency_ms
                    + assume.dynamodb_latency_ms,
                )
                usage["api_gateway_requests"] += 2
                usage["lambda_invocations"] += 2
                usage["dynamodb_rru"] += 2
                usage["dynamodb_wru"] += 2 * assume.approval_item_kb  # decision + delivered marker
                gbs_by_arch[api.architecture] += get_gbs + post_gbs
                lambda_ms += get_ms + post_ms
            duration, gbs = lambda_call(function, cpu, service)
            lambda_ms += duration * tries
            gbs_by_arch[function.architecture] += gbs * tries
        usage["eventbridge_events"] += 1  # the storefront's NEW_REVIEW_POSTED
        usage["state_transitions"] = walked.transitions
        usage["log_bytes"] = (
            usage["lambda_invocations"] * (log_bytes_per_call + assume.lambda_platform_log_bytes)
            + sfn_log_events * assume.sfn_log_bytes_per_event
        )
        usage["xray_traces"] = assume.traces_per_execution
        costs = {
            "Step Functions transitions": walked.transitions
            * pricing["step_functions"]["standard_per_state_transition"],
            "Lambda requests": usage["lambda_invocations"] * lam["per_request"],
            "Lambda duration": sum(gbs * lam[f"per_gb_second_{arch}"] for arch, gbs in gbs_by_arch.items()),
            "Comprehend toxicity": usage["comprehend_units"] * pricing["comprehend"]["toxicity_per_unit"],
            "Bedrock input tokens": usage["bedrock_input_tokens"] / 1000 * token_prices["input"],
            "Bedrock output tokens": usage["bedrock_output_tokens"] / 1000 * token_prices["output"],
            "SNS": usage["sns_publishes"] * pricing["sns"]["per_publish"]
            + usage["sns_emails"] * pricing["sns"]["per_email_notification"],
            "API Gateway": usage["api_gateway_requests"] * pricing["api_gateway"]["rest_per_request"],
            "EventBridge": usage["eventbridge_events"]
            * pricing["eventbridge"]["custom_event_per_64kb_chunk"],
            "DynamoDB": usage["dynamodb_wru"] * pricing["dynamodb"]["on_demand_per_write_request_unit"]
            + usage["dynamodb_rru"] * pricing["dynamodb"]["on_demand_per_read_request_unit"],
            "CloudWatch Logs": usage["log_bytes"] / 1e9 * pricing["cloudwatch_logs"]["per_gb_ingested"],
            "X-Ray": usage["xray_traces"] * pricing["xray"]["per_trace_recorded"],
        }
        paths[key] = {
            "label": label,
            "states": walked.states,
            "usage": {k: float(v) for k, v in usage.items()},
            "gb_seconds": sum(gbs_by_arch.values()),
            "lambda_billed_ms": lambda_ms,
            "cost_per_review": costs,
            "total_per_1000": 1000 * sum(costs.values()),
        }
    mix = dict(assume.mix)
    lines = mix_cost({k: v["cost_per_review"] for k, v in paths.items()}, mix)
    per_1000 = {line: 1000 * cost for line, cost in lines.items()}
    total = sum(per_1000.values())
    by_model = {}
    for other, prices in pricing["bedrock"]["per_1k_tokens"].items():
        scale_in = prices["input"] / token_prices["input"]
        scale_out = prices["output"] / token_prices["output"]
        by_model[other] = (
            total
            - per_1000["Bedrock input tokens"] * (1 - scale_in)
            - per_1000["Bedrock output tokens"] * (1 - scale_out)
        )
    return {
        "model_id": model_id,
        "region": pricing["region"],
        "pricing_date": pricing["date"],
        "assumptions": {k: v for k, v in assume.__dict__.items()},
        "workload": work.__dict__,
        "measured_cpu_ms": cpu_ms,
        "log_bytes_per_invocation": log_bytes_per_call,
        "memory_mb": {name: f.memory_mb for name, f in every_function.items()},
        "paths": paths,
        "mix": mix,
        "mix_per_1000": per_1000,
        "mix_total_per_1000": total,
        "dominant_line": max(per_1000, key=per_1000.__getitem__),
        "total_per_1000_by_model": by_model,
    }


def run(model_id: str = "", mix: dict[str, float] | None = None) -> dict[str, Any]:
    common.add_source_paths()
    pricing = json.loads(PRICING.read_text())
    assume = Assumptions(model_id=model_id, **({"mix": tuple(mix.items())} if mix else {}))
    template = synthesize_template()
    asl = json.loads(common.ASL.read_text())
    cpu_ms, log_bytes = measured_handler_cpu()
    result = model(assume, pricing, template, asl, cpu_ms, log_bytes)
    print(render(result))
    path = common.write_result("cost", result)
    print(f"\n(wrote {common.shown(path)})")
    return result


def render(result: dict[str, Any]) -> str:
    paths = result["paths"]
    rows = []
    for key, data in paths.items():
        u = data["usage"]
        rows.append(
            [
                key,
                int(u["state_transitions"]),
                int(u["lambda_invocations"]),
                data["gb_seconds"],
                u.get("comprehend_units", 0.0),
                u.get("bedrock_input_tokens", 0.0),
                u.get("bedrock_output_tokens", 0.0),
                int(u.get("sns_emails", 0)),
                int(u.get("api_gateway_requests", 0)),
                int(u.get("eventbridge_events", 0)),
                u.get("dynamodb_wru", 0.0),
                data["total_per_1000"],
            ]
        )
    out = [
        common.table(
            f"Per review, by path ({result['model_id']}, {result['region']}, "
            f"prices of {result['pricing_date']})",
            [
                "path",
                "transitions",
                "Lambda calls",
                "GB-s",
                "Comprehend units",
                "Bedrock in tok",
                "Bedrock out tok",
                "emails",
                "API GW req",
                "events",
                "DynamoDB WRU",
                "$ per 1,000",
            ],
            rows,
            digits=3,
        )
    ]
    total = result["mix_total_per_1000"]
    mix = ", ".join(f"{round(w * 100)}% {k}" for k, w in result["mix"].items())
    lines = sorted(result["mix_per_1000"].items(), key=lambda kv: -kv[1])
    out.append(
        common.table(
            f"Cost per 1,000 reviews, mix: {mix}",
            ["line", "$ per 1,000 reviews", "share"],
            [
                [("**" + k + "**") if i == 0 else k, v, f"{100 * v / total:.1f}%"]
                for i, (k, v) in enumerate(lines)
            ]
            + [["total", total, "100%"]],
            digits=4,
        )
    )
    out.append(
        common.table(
            "Same mix, other Bedrock models (everything else unchanged)",
            ["model", "$ per 1,000 reviews"],
            [[k, v] for k, v in result["total_per_1000_by_model"].items()],
            digits=4,
        )
    )
    work = result["workload"]
    out.append(
        f"\nDominant line: {result['dominant_line']}. Comprehend: {work['review_units']:.2f} units "
        f"per review ({work['reviews_at_minimum']} of {work['samples']} English samples billed at "
        f"the 3-unit minimum), {work['reply_units']} per reply. Prompts: "
        f"{work['sentiment_input_tokens']:.0f} + {work['response_input_tokens']:.0f} input tokens "
        f"at {result['assumptions']['chars_per_token']} chars/token."
    )
    return "\n".join(out)
