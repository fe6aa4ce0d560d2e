"""The cost model's arithmetic and counts, pinned so the benchmark cannot rot silently."""

from __future__ import annotations

import json
import math

import pytest

from bench import common
from bench.assumptions import Assumptions
from bench.billing import billed_ms, comprehend_units, gb_seconds, guardrail_text_units, mix_cost
from bench.cost_model import compare, critical_path_ms, model
from bench.workflow_paths import ORIGINAL_PATHS, PATHS, PathWalk, walk

ASL = json.loads(common.ASL.read_text())
PRICING = json.loads(common.PRICING.read_text())


# ------------------------------------------------------------------ Comprehend units


def test_short_text_is_billed_the_three_unit_minimum() -> None:
    assert comprehend_units("Lovely kettle, boils fast.") == (1, 3)


def test_units_count_started_hundreds_of_characters() -> None:
    assert comprehend_units("a" * 350 + ".") == (1, 4)  # 351 characters


def test_units_count_characters_not_utf8_bytes() -> None:
    # 400 two-byte characters: one 800-byte segment, billed as 400 characters.
    assert comprehend_units("\u00e9" * 400) == (1, 4)


def test_more_than_ten_segments_take_a_second_request_with_its_own_minimum() -> None:
    sentence = "b" * 1019 + "."  # 1,020 characters: nothing else fits beside it in a 1 KB segment
    text = " ".join([sentence] * 10 + ["Short one."])
    requests, units = comprehend_units(text)
    assert requests == 2
    assert units == 102 + 3  # 10,200 characters, then 10 characters billed at the minimum


def test_minimum_and_unit_size_are_parameters() -> None:
    assert comprehend_units("x" * 150, chars_per_unit=100, minimum_units=1) == (1, 2)
    assert comprehend_units("x" * 150, chars_per_unit=1000, minimum_units=1) == (1, 1)


# ----------------------------------------------------------------- Lambda arithmetic


def test_billed_duration_scales_cpu_to_the_memory_share_of_a_vcpu() -> None:
    # 256 MB has 256/1769 of a vCPU: 10 ms of CPU takes 69.1 ms, plus 100 ms of waiting.
    assert billed_ms(10, 100, 256) == math.ceil(10 * 1769 / 256 + 100) == 170
    assert billed_ms(10, 100, 2048) == 110  # a full vCPU or more: no slowdown


def test_gb_seconds() -> None:
    assert gb_seconds(1000, 1024) == 1.0
    assert gb_seconds(500, 256) == 0.125


def test_mix_is_weighted_line_by_line_and_must_sum_to_one() -> None:
    paths = {"a": {"x": 1.0, "y": 2.0}, "b": {"x": 3.0}}
    assert mix_cost(paths, {"a": 0.75, "b": 0.25}) == {"x": 1.5, "y": 1.5}
    with pytest.raises(ValueError, match="sum to"):
        mix_cost(paths, {"a": 0.5, "b": 0.25})


# ------------------------------------------------------------------------ ASL walking


def _walk(key: str) -> PathWalk:
    _, choices, failures = PATHS[key]
    return walk(ASL, choices, failures)


def test_safe_path_enters_every_auto_step_once_and_publishes() -> None:
    walked = _walk("safe")
    for state in (
        "ValidateReview",
        "ClaimReview",
        "ScoreReviewToxicity",
        "DetectSentiment",
        "GenerateResponse",
        "CheckDraftReply",
        "PublishGate",
        "BuildOutcome",
    ):
        assert walked.states.count(state) == 1
    assert walked.states[0] == ASL["StartAt"]
    assert walked.states[-2:] == ["BuildOutcome", "PublishOutcome"]
    assert walked.transitions == len(walked.states)  # no retries on the happy path


def test_harmful_path_stops_before_the_model() -> None:
    walked = _walk("harmful")
    assert "ReviewIsHarmful" in walked.states
    # The sentiment runs speculatively beside the scoring (billed), but no reply is drafted.
    assert "AdoptSentiment" not in walked.states and "GenerateResponse" not in walked.states
    assert walked.transitions < _walk("safe").transitions


def test_human_paths_enter_their_wait_for_token_task() -> None:
    assert "HumanReviewOfReview" in _walk("human_review").states
    assert "HumanReviewOfResponse" in _walk("human_reply").states


def test_a_failing_task_is_billed_for_every_retry_then_caught() -> None:
    walked = _walk("failed")
    retrier = next(
        r for r in walked.specs["GenerateResponse"]["Retry"] if "ProviderThrottledError" in r["ErrorEquals"]
    )
    assert walked.attempts["GenerateResponse"] == 1 + retrier["MaxAttempts"]
    assert "GenerateResponseFailed" in walked.states
    assert walked.transitions == len(walked.states) + retrier["MaxAttempts"]


def test_walk_refuses_a_branch_the_choice_does_not_have() -> None:
    with pytest.raises(ValueError, match="cannot go to"):
        walk(ASL, {"IsReviewValid": "PublishOutcome"})
    with pytest.raises(ValueError, match="does not say"):
        walk(ASL, {})


# ------------------------------------------------------------------- pricing and model


def test_pricing_table_is_dated_regional_and_complete() -> None:
    assert PRICING["date"] and PRICING["region"] == "us-east-1"
    assert PRICING["bedrock"]["default_model"] in PRICING["bedrock"]["per_1k_tokens"]
    assert PRICING["comprehend"]["minimum_units_per_request"] == 3
    assert PRICING["comprehend"]["characters_per_unit"] == 100
    for section, values in PRICING.items():
        if isinstance(values, dict):
            assert values.get("source", "").startswith("https://aws.amazon.com/"), section


def _fake_template(memory: int = 256) -> dict:
    names = {
        "ValidateReview": "validate_review",
        "ScoreToxicity": "score_toxicity",
        "DetectSentiment": "detect_sentiment",
        "GenerateResponse": "generate_response",
        "CheckReply": "check_reply",
        "RequestApproval": "request_approval",
        "BuildOutcome": "build_outcome",
        "ApprovalApi": "approval_api",
    }
    resources = {
        f"F{key}": {
            "Type": "AWS::Lambda::Function",
            "Properties": {"Handler": f"reviewflow.handlers.{name}.handler", "MemorySize": memory},
        }
        for key, name in names.items()
    }
    resources["Machine"] = {
        "Type": "AWS::StepFunctions::StateMachine",
        "Properties": {
            "DefinitionSubstitutions": {
                f"{key}FunctionArn": {"Fn::GetAtt": [f"F{key}", "Arn"]}
                for key in names
                if key != "ApprovalApi"
            }
        },
    }
    return {"Resources": resources}


def test_model_counts_and_prices_the_safe_path_from_its_parts() -> None:
    cpu = {
        "validate_review": 1.0,
        "score_toxicity:REVIEW": 5.0,
        "check_reply:draft": 5.0,
        "check_reply:publish": 1.0,
        "detect_sentiment": 1.0,
        "generate_response": 1.0,
        "build_outcome": 1.0,
    }
    result = model(Assumptions(), PRICING, _fake_template(), ASL, cpu, log_bytes_per_call=1000)
    safe = result["paths"]["safe"]
    work = result["workload"]
    # validate, score the review, sentiment, reply, check the draft, the publish gate, build the outcome
    assert safe["usage"]["lambda_invocations"] == 7
    assert safe["usage"]["comprehend_units"] == pytest.approx(work["review_units"] + work["reply_units"])
    assert safe["usage"]["eventbridge_events"] == 2  # the posted review and the outcome
    assert safe["usage"]["state_transitions"] == len(_walk("safe").states)
    expected = safe["usage"]["comprehend_units"] * PRICING["comprehend"]["toxicity_per_unit"]
    assert safe["cost_per_review"]["Comprehend toxicity"] == pytest.approx(expected)
    # The mix total is the weighted sum of the paths' totals.
    weighted = sum(w * result["paths"][p]["total_per_1000"] for p, w in result["mix"].items())
    assert result["mix_total_per_1000"] == pytest.approx(weighted)
    assert result["dominant_line"] == max(result["mix_per_1000"], key=result["mix_per_1000"].get)


def test_doubling_memory_doubles_waiting_gb_seconds() -> None:
    cpu = {"score_toxicity:REVIEW": 0.0, "score_toxicity:RESPONSE": 0.0}
    small = model(Assumptions(approval_cpu_ms=0.0), PRICING, _fake_template(256), ASL, cpu, 0)
    large = model(Assumptions(approval_cpu_ms=0.0), PRICING, _fake_template(512), ASL, cpu, 0)
    ratio = large["paths"]["harmful"]["gb_seconds"] / small["paths"]["harmful"]["gb_seconds"]
    assert ratio == pytest.approx(2.0, rel=0.01)


def test_auto_path_reviews_are_deterministic_and_unique() -> None:
    first, again = common.auto_path_reviews(50, seed=3), common.auto_path_reviews(50, seed=3)
    assert first == again
    assert len({r["review_id"] for r in first}) == 50
    assert common.auto_path_reviews(5, seed=4) != common.auto_path_reviews(5, seed=3)


# ------------------------------------------------------------- Guardrails, the original, Parallel

ORIGINAL_ASL = json.loads(common.ORIGINAL_ASL.read_text())
CPU = {"score_toxicity:REVIEW": 5.0, "check_reply:draft": 5.0, "check_reply:publish": 1.0}


def test_guardrail_text_units_count_started_thousands_of_characters_with_one_minimum() -> None:
    assert guardrail_text_units(1) == 1
    assert guardrail_text_units(1000) == 1
    assert guardrail_text_units(1001) == 2
    assert guardrail_text_units(0) == 1  # a request is at least one unit
    assert guardrail_text_units(2500, chars_per_unit=500) == 5


def test_pricing_has_the_guardrails_content_filter_price() -> None:
    section = PRICING["bedrock_guardrails"]
    assert section["characters_per_text_unit"] == 1000
    assert section["content_filters_per_1k_text_units"] > 0


def test_with_guardrails_the_model_bills_text_units_and_no_comprehend() -> None:
    result = model(Assumptions(toxicity_provider="guardrails"), PRICING, _fake_template(), ASL, CPU, 0)
    safe, work = result["paths"]["safe"], result["workload"]
    assert safe["usage"].get("comprehend_units", 0.0) == 0.0
    assert safe["usage"]["guardrails_text_units"] == pytest.approx(
        work["review_guardrail_units"] + work["reply_guardrail_units"]
    )
    price = PRICING["bedrock_guardrails"]["content_filters_per_1k_text_units"] / 1000
    assert safe["cost_per_review"]["Bedrock Guardrails"] == pytest.approx(
        safe["usage"]["guardrails_text_units"] * price
    )
    comprehend = model(Assumptions(), PRICING, _fake_template(), ASL, CPU, 0)
    assert comprehend["paths"]["safe"]["cost_per_review"]["Bedrock Guardrails"] == 0.0


def test_the_original_design_walks_its_own_paths_without_our_extra_states() -> None:
    for key, (_, choices, failures) in ORIGINAL_PATHS.items():
        walked = walk(ORIGINAL_ASL, choices, failures)
        assert walked.states[0] == "ScoreReviewToxicity", key
        assert walked.states[-1].startswith("Publish"), key
        assert not {"ValidateReview", "ClaimReview", "PublishGate", "BuildOutcome"} & set(walked.states)
    safe = walk(ORIGINAL_ASL, *ORIGINAL_PATHS["safe"][1:])
    assert safe.states == [
        "ScoreReviewToxicity",
        "ReviewToxicityBand",
        "DetectSentiment",
        "GenerateResponse",
        "ScoreResponseToxicity",
        "ResponseToxicityBand",
        "PublishCreated",
    ]
    assert set(ORIGINAL_PATHS) == set(dict(Assumptions().mix))  # every path of the mix


def test_compare_divides_ours_by_the_original_at_the_same_mix() -> None:
    result = compare(Assumptions(), PRICING, _fake_template(), ASL, ORIGINAL_ASL, CPU, 0)
    providers = result["providers"]
    baseline = providers["comprehend"]["original_per_1000"]
    for provider, data in providers.items():
        assert data["ratio"] == pytest.approx(data["ours_per_1000"] / baseline), provider
        assert data["ratio_same_provider"] == pytest.approx(data["ours_per_1000"] / data["original_per_1000"])
        assert data["dominant_line"] == max(data["ours_lines"], key=data["ours_lines"].get)
        assert data["ours_transitions"]["safe"] > data["original_transitions"]["safe"]
    # Both designs score the review and the reply once each with the same provider and reply length.
    assert providers["comprehend"]["ours_lines"]["Comprehend toxicity"] == pytest.approx(
        providers["comprehend"]["original_lines"]["Comprehend toxicity"]
    )
    assert providers["guardrails"]["ours_lines"]["Comprehend toxicity"] == 0.0


def test_a_shorter_reply_is_cheaper_to_check_only_below_the_comprehend_minimum_step() -> None:
    def reply_cost(chars: int) -> float:
        result = model(Assumptions(reply_chars=chars), PRICING, _fake_template(), ASL, CPU, 0)
        return result["paths"]["safe"]["cost_per_review"]["Comprehend toxicity"]

    assert reply_cost(480) - reply_cost(300) == pytest.approx(2 * PRICING["comprehend"]["toxicity_per_unit"])
    assert reply_cost(300) == pytest.approx(reply_cost(120))  # the 3-unit minimum: no saving below it


PARALLEL_ASL = {
    "StartAt": "First",
    "States": {
        "First": {"Type": "Pass", "Next": "Both"},
        "Both": {
            "Type": "Parallel",
            "Branches": [
                {
                    "StartAt": "Slow",
                    "States": {
                        "Slow": {
                            "Type": "Pass",
                            "Next": "Slower",
                        },
                        "Slower": {"Type": "Pass", "End": True},
                    },
                },
                {"StartAt": "Fast", "States": {"Fast": {"Type": "Pass", "End": True}}},
            ],
            "Next": "Last",
        },
        "Last": {"Type": "Pass", "End": True},
    },
}


def test_a_parallel_state_bills_every_branch_state_and_times_only_the_slowest_branch() -> None:
    walked = walk(PARALLEL_ASL, {})
    assert walked.states == ["First", "Both", "Slow", "Slower", "Fast", "Last"]
    assert walked.transitions == 6
    assert walked.top == ["First", "Both", "Last"]
    state_ms = {"First": 1.0, "Both": 2.0, "Slow": 10.0, "Slower": 10.0, "Fast": 5.0, "Last": 3.0}
    assert critical_path_ms(walked, state_ms) == 1 + 2 + max(10 + 10, 5) + 3


def test_the_critical_path_adds_every_state_on_the_auto_path() -> None:
    result = model(Assumptions(), PRICING, _fake_template(), ASL, CPU, 0)
    walked = _walk("safe")
    assume = Assumptions()
    floor = len(walked.states) * assume.state_overhead_ms + assume.bedrock_response_latency_ms
    assert result["paths"]["safe"]["critical_path_ms"] > floor
    assert result["paths"]["harmful"]["critical_path_ms"] < result["paths"]["safe"]["critical_path_ms"]
