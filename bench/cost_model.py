"""The cost model: every path of the workflow priced state by state, then the stated path mix.

Counts come from the artefacts, not from a hand-written list: state transitions and task
attempts from walking the ASL along each path (``bench.workflow_paths``), memory sizes and the
function behind each ``${...FunctionArn}`` from the synthesized template (``bench.template``),
Comprehend units, Guardrails text units and Bedrock tokens from the sample reviews and the
rendered prompts (``bench.workload``). Local handler time is not AWS time, so duration is
measured CPU time scaled to the function's memory share of a vCPU plus stated service latencies
(``bench.assumptions``). Prices come from ``functions/pricing/pricing.json`` only.

``compare`` prices the original sample's design (``bench/original_design.asl.json``: the same
functions, prompts, model and price table, without validation, claim, publish gate or outcome
builder) next to ours, at the same path mix, once per toxicity provider, and walks both auto
paths for their critical path under stated per-state and invoke overheads.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from bench.assumptions import Assumptions
from bench.billing import billed_ms, gb_seconds, mix_cost
from bench.template import FunctionSpec, all_functions, functions_by_substitution, task_function
from bench.workflow_paths import ORIGINAL_PATHS, PATHS, PathWalk, walk
from bench.workload import TextWorkload, text_workload

PROVIDERS = ("comprehend", "guardrails")


@dataclass(frozen=True)
class _Inputs:
    """What pricing one path needs besides the path itself."""

    assume: Assumptions
    pricing: dict[str, Any]
    token_prices: dict[str, float]
    work: TextWorkload
    task_functions: dict[str, FunctionSpec]
    every_function: dict[str, FunctionSpec]
    cpu_ms: dict[str, float]
    log_bytes_per_call: float


class _Usage(dict[str, float]):
    """Units used, by kind; a kind never used reads as 0 and stays out of the result."""

    def __missing__(self, key: str) -> float:
        return 0.0


@dataclass
class _PathTally:
    """What one path uses, added up state by state."""

    inputs: _Inputs
    usage: _Usage = field(default_factory=_Usage)
    gbs_by_arch: defaultdict[str, float] = field(default_factory=lambda: defaultdict(float))
    lambda_ms: int = 0
    sfn_log_events: int = 2  # ExecutionStarted / ExecutionSucceeded
    state_ms: dict[str, float] = field(default_factory=dict)  # each state's time on the critical path

    def invoke(self, function: FunctionSpec, cpu: float, service: float, times: int = 1) -> None:
        """``times`` billed invocations of ``function``, each ``cpu`` ms of work plus ``service`` waiting."""
        granularity = self.inputs.pricing["lambda"]["billing_granularity_ms"]
        duration = billed_ms(cpu, service, function.memory_mb, granularity)
        self.lambda_ms += duration * times
        self.gbs_by_arch[function.architecture] += gb_seconds(duration, function.memory_mb) * times

    def enter(self, name_of_state: str, spec: dict[str, Any], tries: int, failed: int) -> None:
        """One state of the path; a task state ``tries`` times, ``failed`` of them failing."""
        assume = self.inputs.assume
        self.sfn_log_events += 2
        self.state_ms[name_of_state] = assume.state_overhead_ms
        if spec["Type"] != "Task":
            return
        resource = spec.get("Resource", "")
        self.sfn_log_events += 3 * tries
        if resource.endswith(":dynamodb:putItem"):
            self.usage["dynamodb_wru"] += tries
            self.state_ms[name_of_state] += assume.dynamodb_latency_ms
        elif resource.endswith(":events:putEvents"):
            self.usage["eventbridge_events"] += tries
            self.state_ms[name_of_state] += assume.eventbridge_latency_ms
        function = task_function(spec, self.inputs.task_functions)
        if function is None:
            return
        self.usage["lambda_invocations"] += tries
        parameters = spec.get("Parameters", {})
        payload = parameters.get("Payload", {})
        stage = parameters.get("stage") or parameters.get("mode") or payload.get("stage")
        name = function.handler
        measured = self.inputs.cpu_ms
        # The original scores its reply with score_toxicity; ours never does, so no measurement.
        fallback = measured.get(f"{name}:REVIEW", measured.get(name, assume.approval_cpu_ms))
        cpu = measured.get(f"{name}:{stage}", measured.get(name, fallback))
        services: dict[str, Callable[[str | None, int], float]] = {
            "score_toxicity": self._score_toxicity,
            "check_reply": self._check_reply,
            "detect_sentiment": self._detect_sentiment,
            "generate_response": self._generate_response,
            "request_approval": self._request_approval,
        }
        service = services[name](stage, failed) if name in services else 0.0
        self.invoke(function, cpu, service, tries)
        granularity = self.inputs.pricing["lambda"]["billing_granularity_ms"]
        once = billed_ms(cpu, service, function.memory_mb, granularity)
        self.state_ms[name_of_state] += tries * (assume.lambda_invoke_overhead_ms + once)

    # What each function waits for (ms), and what it makes the services bill.

    def _score(self, review: bool) -> float:
        """Score the review (or the reply) with the configured provider: units used, time waited."""
        work, assume = self.inputs.work, self.inputs.assume
        if assume.toxicity_provider == "guardrails":
            self.usage["guardrails_text_units"] += (
                work.review_guardrail_units if review else work.reply_guardrail_units
            )
            return assume.guardrails_latency_ms  # one ApplyGuardrail request per text
        self.usage["comprehend_units"] += work.review_units if review else work.reply_units
        requests = work.review_requests if review else work.reply_requests
        return requests * assume.comprehend_latency_ms

    def _score_toxicity(self, stage: str | None, failed: int) -> float:
        return self._score(review=stage == "REVIEW")

    def _check_reply(self, mode: str | None, failed: int) -> float:
        """The draft check scores the reply; the gate reuses that score for an unchanged text."""
        return self._score(review=False) if mode == "draft" else 0.0

    def _detect_sentiment(self, stage: str | None, failed: int) -> float:
        if failed:
            return 0.0
        assume = self.inputs.assume
        self.usage["bedrock_input_tokens"] += self.inputs.work.sentiment_input_tokens
        self.usage["bedrock_output_tokens"] += assume.sentiment_output_tokens
        return assume.bedrock_sentiment_latency_ms

    def _generate_response(self, stage: str | None, failed: int) -> float:
        assume = self.inputs.assume
        if failed:
            return assume.bedrock_throttle_latency_ms * assume.sdk_attempts_per_throttle
        self.usage["bedrock_input_tokens"] += self.inputs.work.response_input_tokens
        self.usage["bedrock_output_tokens"] += assume.reply_chars / assume.chars_per_token
        return assume.bedrock_response_latency_ms

    def _request_approval(self, stage: str | None, failed: int) -> float:
        assume = self.inputs.assume
        self.usage["dynamodb_wru"] += assume.approval_item_kb
        self.usage["sns_publishes"] += 1
        self.usage["sns_emails"] += 1
        # The reviewer opens the link (GET) and decides (POST): two API calls, two invocations.
        api = self.inputs.every_function["approval_api"]
        self.invoke(api, assume.approval_cpu_ms, assume.dynamodb_latency_ms)
        self.invoke(
            api,
            assume.approval_cpu_ms,
            2 * assume.dynamodb_latency_ms + assume.stepfunctions_latency_ms + assume.dynamodb_latency_ms,
        )
        self.usage["api_gateway_requests"] += 2
        self.usage["lambda_invocations"] += 2
        self.usage["dynamodb_rru"] += 2
        self.usage["dynamodb_wru"] += 2 * assume.approval_item_kb  # decision + delivered marker
        return assume.dynamodb_latency_ms + assume.sns_latency_ms

    def finish(self, walked: PathWalk) -> None:
        """What every execution adds whatever its path: the input event, transitions, logs, a trace."""
        assume = self.inputs.assume
        self.usage["eventbridge_events"] += 1  # the storefront's input event
        self.usage["state_transitions"] = walked.transitions
        per_invocation = self.inputs.log_bytes_per_call + assume.lambda_platform_log_bytes
        self.usage["log_bytes"] = (
            self.usage["lambda_invocations"] * per_invocation
            + self.sfn_log_events * assume.sfn_log_bytes_per_event
        )
        self.usage["xray_traces"] = assume.traces_per_execution

    def costs(self) -> dict[str, float]:
        """The path's cost per review, line by line."""
        pricing, usage, lam = self.inputs.pricing, self.usage, self.inputs.pricing["lambda"]
        token_prices = self.inputs.token_prices
        return {
            "Step Functions transitions": usage["state_transitions"]
            * pricing["step_functions"]["standard_per_state_transition"],
            "Lambda requests": usage["lambda_invocations"] * lam["per_request"],
            "Lambda duration": sum(
                gbs * lam[f"per_gb_second_{arch}"] for arch, gbs in self.gbs_by_arch.items()
            ),
            "Comprehend toxicity": usage["comprehend_units"] * pricing["comprehend"]["toxicity_per_unit"],
            "Bedrock Guardrails": usage["guardrails_text_units"]
            / 1000
            * pricing["bedrock_guardrails"]["content_filters_per_1k_text_units"],
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


def price_path(
    inputs: _Inputs, asl: dict[str, Any], label: str, choices: dict[str, str], failures: dict[str, str]
) -> dict[str, Any]:
    """Walk one path of the definition and price every state it enters."""
    walked = walk(asl, choices, failures)
    tally = _PathTally(inputs)
    for state in walked.states:
        tally.enter(state, walked.specs[state], walked.attempts[state], walked.failed_attempts[state])
    tally.finish(walked)
    costs = tally.costs()
    return {
        "label": label,
        "states": walked.states,
        "critical_path_ms": critical_path_ms(walked, tally.state_ms),
        "usage": {k: float(v) for k, v in tally.usage.items()},
        "gb_seconds": sum(tally.gbs_by_arch.values()),
        "lambda_billed_ms": tally.lambda_ms,
        "cost_per_review": costs,
        "total_per_1000": 1000 * sum(costs.values()),
    }


def critical_path_ms(walked: PathWalk, state_ms: dict[str, float]) -> float:
    """Time from the first state to the last: states in sequence add up, a Parallel's branches
    overlap (its time is its own overhead plus its slowest branch)."""

    def along(states: list[str]) -> float:
        total = 0.0
        for state in states:
            total += state_ms[state]
            if state in walked.branches:
                total += max((along(branch) for branch in walked.branches[state]), default=0.0)
        return total

    return along(walked.top)


def _total_by_model(
    pricing: dict[str, Any], token_prices: dict[str, float], per_1000: dict[str, float]
) -> dict[str, float]:
    """The same mix priced with every other Bedrock model of pricing.json."""
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
    return by_model


def model(
    assume: Assumptions,
    pricing: dict[str, Any],
    template: dict[str, Any],
    asl: dict[str, Any],
    cpu_ms: dict[str, float],
    log_bytes_per_call: float,
    path_choices: dict[str, tuple[str, dict[str, str], dict[str, str]]] = PATHS,
) -> dict[str, Any]:
    model_id = assume.model_id or pricing["bedrock"]["default_model"]
    token_prices = pricing["bedrock"]["per_1k_tokens"][model_id]
    every_function = all_functions(template)
    inputs = _Inputs(
        assume=assume,
        pricing=pricing,
        token_prices=token_prices,
        work=text_workload(assume, pricing),
        task_functions=functions_by_substitution(template),
        every_function=every_function,
        cpu_ms=cpu_ms,
        log_bytes_per_call=log_bytes_per_call,
    )
    paths = {
        key: price_path(inputs, asl, label, choices, failures)
        for key, (label, choices, failures) in path_choices.items()
    }
    mix = dict(assume.mix)
    lines = mix_cost({k: v["cost_per_review"] for k, v in paths.items()}, mix)
    per_1000 = {line: 1000 * cost for line, cost in lines.items()}
    return {
        "model_id": model_id,
        "region": pricing["region"],
        "pricing_date": pricing["date"],
        "assumptions": dict(assume.__dict__),
        "workload": inputs.work.__dict__,
        "measured_cpu_ms": cpu_ms,
        "log_bytes_per_invocation": log_bytes_per_call,
        "memory_mb": {name: f.memory_mb for name, f in every_function.items()},
        "paths": paths,
        "mix": mix,
        "mix_per_1000": per_1000,
        "mix_total_per_1000": sum(per_1000.values()),
        "dominant_line": max(per_1000, key=per_1000.__getitem__),
        "total_per_1000_by_model": _total_by_model(pricing, token_prices, per_1000),
        "toxicity_provider": assume.toxicity_provider,
    }


def compare(
    assume: Assumptions,
    pricing: dict[str, Any],
    template: dict[str, Any],
    asl: dict[str, Any],
    original_asl: dict[str, Any],
    cpu_ms: dict[str, float],
    log_bytes_per_call: float,
) -> dict[str, Any]:
    """Ours next to the original sample's design, per toxicity provider, at the same mix and prices.

    ``ratio`` divides ours by the original as it was built (Comprehend); ``ratio_same_provider``
    by the original given the same provider as ours.
    """
    # The original's own prompt asks for the same short reply as our response/v1.
    original_assume = replace(assume, reply_chars=assume.original_reply_chars, response_prompt_version="v1")

    def priced(provider: str, design: str) -> dict[str, Any]:
        if design == "ours":
            return model(
                replace(assume, toxicity_provider=provider),
                pricing,
                template,
                asl,
                cpu_ms,
                log_bytes_per_call,
            )
        return model(
            replace(original_assume, toxicity_provider=provider),
            pricing,
            template,
            original_asl,
            cpu_ms,
            log_bytes_per_call,
            path_choices=ORIGINAL_PATHS,
        )

    results = {(p, d): priced(p, d) for p in PROVIDERS for d in ("ours", "original")}
    # The reply-length cap is a choice the original could make too: priced that way, for honesty.
    capped = model(
        replace(original_assume, reply_chars=assume.reply_chars),
        pricing,
        template,
        original_asl,
        cpu_ms,
        log_bytes_per_call,
        path_choices=ORIGINAL_PATHS,
    )
    baseline = results[("comprehend", "original")]["mix_total_per_1000"]
    providers = {}
    for provider in PROVIDERS:
        ours, original = results[(provider, "ours")], results[(provider, "original")]
        providers[provider] = {
            "ours_per_1000": ours["mix_total_per_1000"],
            "original_per_1000": original["mix_total_per_1000"],
            "ratio": ours["mix_total_per_1000"] / baseline,
            "ratio_same_provider": ours["mix_total_per_1000"] / original["mix_total_per_1000"],
            "dominant_line": ours["dominant_line"],
            "original_dominant_line": original["dominant_line"],
            "ours_lines": ours["mix_per_1000"],
            "original_lines": original["mix_per_1000"],
            "ours_transitions": {k: v["usage"]["state_transitions"] for k, v in ours["paths"].items()},
            "original_transitions": {
                k: v["usage"]["state_transitions"] for k, v in original["paths"].items()
            },
            "ours_critical_path_ms": ours["paths"]["safe"]["critical_path_ms"],
            "original_critical_path_ms": original["paths"]["safe"]["critical_path_ms"],
        }
        providers[provider]["critical_path_ratio"] = (
            providers[provider]["ours_critical_path_ms"] / providers[provider]["original_critical_path_ms"]
        )
    return {
        "model_id": results[("comprehend", "ours")]["model_id"],
        "providers": providers,
        "reply_chars": {"ours": assume.reply_chars, "original": assume.original_reply_chars},
        "original_with_our_reply_length_per_1000": capped["mix_total_per_1000"],
        "ratio_same_reply_length": results[("comprehend", "ours")]["mix_total_per_1000"]
        / capped["mix_total_per_1000"],
    }
