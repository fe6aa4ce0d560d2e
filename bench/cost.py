"""``python -m bench cost``: what 1,000 reviews cost on AWS, per path and for a stated path mix.

The model is in ``bench.cost_model`` (how each count is made), its stated assumptions in
``bench.assumptions``, the prices in ``bench/pricing.json``; this module gathers the inputs,
runs the model and prints its tables.
"""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

from bench import common
from bench.assumptions import REPLY_CHARS_BY_PROMPT, Assumptions
from bench.cost_model import compare, model
from bench.template import synthesize_template
from bench.workload import measured_handler_cpu


def run(model_id: str = "", mix: dict[str, float] | None = None) -> dict[str, Any]:
    common.add_source_paths()
    pricing = json.loads(common.PRICING.read_text())
    template = synthesize_template()
    prompt = deployed_response_prompt(template)
    assume = Assumptions(
        model_id=model_id, response_prompt_version=prompt, reply_chars=REPLY_CHARS_BY_PROMPT[prompt]
    )
    if mix:
        assume = replace(assume, mix=tuple(mix.items()))
    asl = json.loads(common.ASL.read_text())
    cpu_ms, log_bytes = measured_handler_cpu()
    result = model(assume, pricing, template, asl, cpu_ms, log_bytes)
    original_asl = json.loads(common.ORIGINAL_ASL.read_text())
    result["comparison"] = compare(assume, pricing, template, asl, original_asl, cpu_ms, log_bytes)
    print(render(result))
    print(render_comparison(result["comparison"]))
    path = common.write_result("cost", result)
    print(f"\n(wrote {common.shown(path)})")
    return result


def deployed_response_prompt(template: dict[str, Any]) -> str:
    """The response prompt version the synthesized generate_response function is configured with."""
    for resource in template["Resources"].values():
        properties = resource.get("Properties", {})
        if resource["Type"] == "AWS::Lambda::Function" and properties.get("Handler", "").endswith(
            ".generate_response.handler"
        ):
            variables = properties.get("Environment", {}).get("Variables", {})
            return str(variables.get("REVIEWFLOW_RESPONSE_PROMPT_VERSION", "v1"))
    raise ValueError("the template has no generate_response function")


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


def render_comparison(comparison: dict[str, Any]) -> str:
    """Ours against the original sample's design, per toxicity provider (``cost_model.compare``)."""
    providers = comparison["providers"]
    rows = [
        [
            provider,
            data["ours_per_1000"],
            data["original_per_1000"],
            f"{data['ratio']:.2f}x",
            f"{data['ratio_same_provider']:.2f}x",
            data["dominant_line"],
            f"{data['ours_lines'][data['dominant_line']]:.4f}",
            int(data["ours_transitions"]["safe"]),
            int(data["original_transitions"]["safe"]),
        ]
        for provider, data in providers.items()
    ]
    out = [
        common.table(
            f"Ours vs the original sample's design, same mix and prices ({comparison['model_id']})",
            [
                "toxicity provider",
                "ours $ per 1,000",
                "original $ per 1,000 (same provider)",
                "ours / original (Comprehend)",
                "ours / original (same provider)",
                "dominant line (ours)",
                "its $ per 1,000",
                "transitions, safe path (ours)",
                "transitions, safe path (original)",
            ],
            rows,
            digits=4,
        )
    ]
    lines = sorted(
        providers["comprehend"]["ours_lines"], key=lambda k: -providers["comprehend"]["ours_lines"][k]
    )
    out.append(
        common.table(
            "Line by line, $ per 1,000 reviews",
            ["line", *(f"{who} ({p})" for p in providers for who in ("ours", "original"))],
            [
                [
                    line,
                    *(providers[p][f"{who}_lines"][line] for p in providers for who in ("ours", "original")),
                ]
                for line in lines
            ],
            digits=4,
        )
    )
    comprehend = providers["comprehend"]
    out.append(
        common.table(
            "Auto path critical path (stated per-state and invoke overheads, service latencies)",
            ["toxicity provider", "ours ms", "original ms", "ours / original"],
            [
                [
                    p,
                    d["ours_critical_path_ms"],
                    d["original_critical_path_ms"],
                    f"{d['critical_path_ratio']:.2f}x",
                ]
                for p, d in providers.items()
            ],
            digits=0,
        )
    )
    out.append(
        f"\nWith Comprehend ours costs {comprehend['ratio']:.2f}x the original; with Bedrock Guardrails "
        f"{providers['guardrails']['ratio']:.2f}x the original as built (Comprehend) and "
        f"{providers['guardrails']['ratio_same_provider']:.2f}x the original given Guardrails too. "
        f"Replies of {comparison['reply_chars']['ours']} characters (ours) and "
        f"{comparison['reply_chars']['original']} (the original); with replies as short as ours the original "
        f"would cost {comparison['original_with_our_reply_length_per_1000']:.4f} per 1,000 with Comprehend "
        f"(ours / that: {comparison['ratio_same_reply_length']:.2f}x)."
    )
    return "\n".join(out)
