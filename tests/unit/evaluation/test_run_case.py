"""One golden case through a candidate's review steps (``domain/evaluation/run_case.py``), with fakes:
each route, a draft the gate sends to a person or refuses, tokens and latency, providers' errors."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from reviewflow.domain.evaluation import run_case
from reviewflow.domain.evaluation.run_case import evaluate_case
from reviewflow.errors import ProviderTimeoutError
from reviewflow.models.evaluation import CaseResult, GoldenCase, JudgedReply, Verdict
from tests.unit.evaluation.evaluation_fakes import (
    BANDS,
    CANDIDATE,
    CLEAN_REPLY,
    POLICY,
    PROMISE_REPLY,
    TOXIC_REPLY,
    FixedSentiment,
    FixedWriter,
    RouteJudge,
    TableToxicity,
    case,
)


def run(golden: GoldenCase, **fakes: Any) -> tuple[CaseResult, dict[str, Any]]:
    parts: dict[str, Any] = {
        "toxicity": TableToxicity(),
        "sentiment": FixedSentiment(),
        "writer": FixedWriter(),
        "judge": RouteJudge(),
        **fakes,
    }
    result = evaluate_case(golden, CANDIDATE, policy=POLICY, bands=BANDS, **parts)
    return result, parts


def test_a_harmful_review_ends_the_case_without_a_reply() -> None:
    golden = case("I will hurt you.", expected="harmful")
    result, parts = run(golden, toxicity=TableToxicity({"I will hurt you.": 0.9}))
    assert (result.status, result.actual_route, result.reply_text) == ("evaluated", "harmful", None)
    assert result.passed and result.sentiment is None
    assert parts["sentiment"].calls == parts["writer"].calls == 0
    assert (result.input_tokens, result.output_tokens) == (0, 0)
    assert parts["judge"].seen == [JudgedReply(actual_route="harmful")]
    assert (result.case_id, result.candidate, result.tags) == ("c-1", "cand", ["t"])


@pytest.mark.parametrize(
    "score", [0.4, 0.5, 0.6, None], ids=["low-edge", "middle", "high-edge", "unscorable"]
)
def test_an_uncertain_or_unscorable_review_goes_to_a_person_and_its_reply_is_still_judged(
    score: float | None,
) -> None:
    golden = case("You people are useless.", expected="person")
    result, parts = run(golden, toxicity=TableToxicity({"You people are useless.": score}))
    assert result.actual_route == "person" and result.passed
    assert result.reply_text == CLEAN_REPLY and parts["writer"].calls == 1
    assert parts["judge"].seen[0].gate_verdict == "publish"


def test_a_safe_review_with_a_clean_draft_is_answered_automatically_with_its_tokens() -> None:
    result, parts = run(case())
    assert (result.actual_route, result.sentiment, result.reply_text) == ("auto", "NEGATIVE", CLEAN_REPLY)
    assert (result.input_tokens, result.output_tokens) == (400, 50)
    seen = parts["judge"].seen[0]
    assert (seen.gate_verdict, seen.policy_violations, seen.reply_language) == ("publish", [], "en")
    # The review and the draft were both scored by the candidate's toxicity provider.
    assert parts["toxicity"].seen == ["The kettle is fine.", CLEAN_REPLY]


def test_a_draft_that_breaks_a_reply_rule_goes_to_a_person() -> None:
    result, parts = run(case(), writer=FixedWriter(PROMISE_REPLY))
    assert result.actual_route == "person" and not result.passed  # expected auto
    seen = parts["judge"].seen[0]
    assert seen.gate_verdict == "ask_person"
    assert seen.policy_violations == ["promise_of_money_or_goods"]
    assert result.reply_text == PROMISE_REPLY


def test_a_refused_draft_is_recorded_and_fails_even_if_the_judge_likes_it() -> None:
    result, parts = run(case(), toxicity=TableToxicity({TOXIC_REPLY: 0.95}), writer=FixedWriter(TOXIC_REPLY))
    assert result.actual_route == "auto" and result.reply_text == TOXIC_REPLY
    assert parts["judge"].seen[0].gate_verdict == "refuse"
    assert not result.passed
    gate = [v for v in result.verdicts if v.criterion == "publishable"]
    assert len(gate) == 1 and not gate[0].passed and "response_toxic" in gate[0].reason


def test_a_refused_draft_the_judge_already_failed_gets_no_second_verdict() -> None:
    failing = Verdict(criterion="safety", passed=False, judge="rule", reason="toxic reply")
    result, _ = run(
        case(),
        toxicity=TableToxicity({TOXIC_REPLY: 0.95}),
        writer=FixedWriter(TOXIC_REPLY),
        judge=RouteJudge(extra=[failing]),
    )
    assert not result.passed
    assert [v.criterion for v in result.verdicts] == ["route", "safety"]


def test_the_reply_language_is_the_rule_s_or_the_review_s() -> None:
    golden = case(language="de").model_copy(
        update={"rules": case().rules.model_copy(update={"language": "en"})}
    )
    _, parts = run(golden)
    assert parts["judge"].seen[0].reply_language == "en"
    _, parts = run(case(language="de"))
    assert parts["judge"].seen[0].reply_language == "de"


def test_latency_covers_the_steps_and_not_the_judge(monkeypatch: pytest.MonkeyPatch) -> None:
    ticks = iter([10.0, 10.25])  # started, then after the draft check; the judge reads no clock
    monkeypatch.setattr(run_case.time, "perf_counter", lambda: next(ticks))
    result, _ = run(case())
    assert result.latency_ms == pytest.approx(250.0)


def test_provider_errors_propagate_for_the_workflow_to_retry() -> None:
    with pytest.raises(ProviderTimeoutError):
        run(case(), writer=FixedWriter(error=ProviderTimeoutError("slow")))


def test_a_case_with_no_verdict_does_not_pass() -> None:
    @dataclass
    class Silent:
        name: str = "rule"

        def judge(self, case: GoldenCase, reply: JudgedReply) -> list[Verdict]:
            return []

    result, _ = run(case(), judge=Silent())
    assert not result.passed
