"""One golden case through a candidate's review steps (``domain/evaluation/run_case.py``), with fakes:
each route, a draft the gate sends to a person or refuses, tokens and latency, providers' errors,
and the steps around it (missing results, preparing, aggregating) on an in-memory store."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import pytest

from reviewflow.domain.evaluation import run_case
from reviewflow.domain.evaluation.run_case import (
    NO_RESULT,
    DatasetCache,
    aggregate_evaluation,
    evaluate_case,
    prepare_evaluation,
    with_missing,
)
from reviewflow.domain.reply_policy import load_policy
from reviewflow.errors import InvalidInputError, ProviderTimeoutError
from reviewflow.models.evaluation import (
    Candidate,
    CaseResult,
    DatasetLocation,
    EvaluationRequest,
    GoldenCase,
    JudgedReply,
    Verdict,
)
from reviewflow.models.evaluation_steps import AggregateRequest, CaseTask
from reviewflow.models.events import ReviewPosted, ToxicityScore
from reviewflow.models.replies import Bands
from reviewflow.models.steps import GeneratedResponse, SentimentResult, TokenUsage

POLICY = load_policy("v1")
BANDS = Bands(low=0.4, high=0.6)
CANDIDATE = Candidate(name="cand", model_id="local/template-responder", prompt_version="v2")
CLEAN_REPLY = "Thank you for your review of the kettle. Our support team is happy to help."
PROMISE_REPLY = "We are sorry. We will send you a full refund and a free replacement right away."
TOXIC_REPLY = "Your review is worthless and so are you."


@dataclass
class TableToxicity:
    """Scores texts from a table (default 0.05); ``None`` means the language cannot be scored."""

    scores: dict[str, float | None] = field(default_factory=dict)
    name: str = "table"
    seen: list[str] = field(default_factory=list)

    def score(self, text: str, language: str) -> ToxicityScore:
        self.seen.append(text)
        value = self.scores.get(text, 0.05)
        if value is None:
            return ToxicityScore(score=None, scorable=False, provider=self.name, note="unsupported")
        return ToxicityScore(score=value, labels={"INSULT": value}, provider=self.name)


@dataclass
class FixedSentiment:
    name: str = "fixed"
    calls: int = 0

    def detect(self, review: ReviewPosted) -> SentimentResult:
        self.calls += 1
        return SentimentResult(
            sentiment="NEGATIVE",
            reason="fixed",
            model_id="fake/sentiment",
            prompt_version="v1",
            usage=TokenUsage(input_tokens=100, output_tokens=10),
        )


@dataclass
class FixedWriter:
    text: str = CLEAN_REPLY
    name: str = "fixed"
    error: Exception | None = None
    calls: int = 0

    def write(self, review: ReviewPosted, sentiment: SentimentResult) -> GeneratedResponse:
        self.calls += 1
        if self.error is not None:
            raise self.error
        return GeneratedResponse(
            response_text=self.text,
            model_id="fake/writer",
            prompt_version="v9",
            usage=TokenUsage(input_tokens=300, output_tokens=40),
        )


@dataclass
class RouteJudge:
    """Passes the route criterion when the routes agree; records what it was shown."""

    name: str = "rule"
    extra: list[Verdict] = field(default_factory=list)
    seen: list[JudgedReply] = field(default_factory=list)

    def judge(self, case: GoldenCase, reply: JudgedReply) -> list[Verdict]:
        self.seen.append(reply)
        route = Verdict(
            criterion="route",
            passed=reply.actual_route == case.expected_route,
            judge=self.name,
            reason=f"{reply.actual_route} for {case.expected_route}",
        )
        return [route, *self.extra]


def case(
    text: str = "The kettle is fine.", expected: str = "auto", case_id: str = "c-1", **review: Any
) -> GoldenCase:
    return GoldenCase.model_validate(
        {
            "case_id": case_id,
            "review": {"review_id": f"r-{case_id}", "product_id": "p-1", "review_text": text, **review},
            "expected_route": expected,
            "reference_reply": None if expected == "harmful" else "Thank you.",
            "tags": ["t"],
        }
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


# ------------------------------------------------------------------------- the steps around it


def cases(n: int) -> list[GoldenCase]:
    return [case(case_id=f"c-{i}") for i in range(n)]


def test_missing_pairs_count_as_failed_in_dataset_order() -> None:
    golden, other = cases(3), Candidate(name="other", model_id="m", prompt_version="v1")
    recorded = [CaseResult(case_id="c-1", candidate="cand", status="evaluated", expected_route="auto")]
    complete, missing = with_missing(golden, [CANDIDATE, other], recorded)
    assert missing == 5 and len(complete) == 6
    assert [(r.candidate, r.case_id) for r in complete][:3] == [
        ("cand", "c-0"),
        ("cand", "c-1"),
        ("cand", "c-2"),
    ]
    assert complete[1] is recorded[0]
    failed = [r for r in complete if r.status == "failed"]
    assert {r.failure_reason for r in failed} == {NO_RESULT} and not any(r.passed for r in failed)


@dataclass
class MemoryStore:
    bucket: str = "evaluations"
    objects: dict[str, str] = field(default_factory=dict)
    etag: str = '"v1"'
    reads: int = 0

    def read_dataset(self, location: DatasetLocation, *, etag: str | None = None) -> tuple[str, str]:
        self.reads += 1
        if etag not in (None, self.etag):
            raise InvalidInputError("changed")
        return self.objects[location.key], self.etag

    def put(self, key: str, body: str, *, content_type: str) -> None:
        self.objects[key] = body

    def read_all(self, prefix: str) -> dict[str, str]:
        return {k: v for k, v in self.objects.items() if k.startswith(prefix)}


def store_with(golden: list[GoldenCase]) -> MemoryStore:
    store = MemoryStore()
    store.objects["datasets/d.jsonl"] = "\n".join(c.model_dump_json() for c in golden)
    return store


def request(**changes: Any) -> EvaluationRequest:
    return EvaluationRequest.model_validate(
        {
            "evaluation_id": "ev-1",
            "dataset": {"bucket": "evaluations", "key": "datasets/d.jsonl"},
            "candidates": [CANDIDATE.model_dump()],
            **changes,
        }
    )


def test_preparing_pins_the_dataset_version_and_hands_out_indexes_only() -> None:
    store = store_with(cases(3))
    prepared = prepare_evaluation(request(), store)
    assert (prepared.case_count, prepared.case_indexes, prepared.dataset_etag) == (3, [0, 1, 2], '"v1"')
    assert "review" not in json.dumps(prepared.model_dump())
    with pytest.raises(InvalidInputError, match="datasets/"):
        prepare_evaluation(request(dataset={"bucket": "evaluations", "key": "elsewhere/d.jsonl"}), store)


def test_the_dataset_is_read_once_per_version() -> None:
    store, cache = store_with(cases(2)), DatasetCache()
    task = CaseTask(
        mode="evaluate",
        evaluation_id="ev-1",
        dataset=DatasetLocation(bucket="evaluations", key="datasets/d.jsonl"),
        dataset_etag='"v1"',
        case_index=1,
        candidate=CANDIDATE,
        bands=BANDS,
    )
    assert [c.case_id for c in cache.cases(store, task)] == ["c-0", "c-1"]
    cache.cases(store, task.model_copy(update={"case_index": 0}))
    assert store.reads == 1
    with pytest.raises(InvalidInputError):
        cache.cases(store, task.model_copy(update={"dataset_etag": '"v2"'}))


def test_aggregating_writes_the_report_three_ways_and_counts_what_is_missing() -> None:
    golden = cases(2)
    store = store_with(golden)
    result, _ = run(golden[0])
    run_case.store_result(store, "ev-1", result)
    aggregate = AggregateRequest(
        evaluation_id="ev-1",
        execution_id="arn:aws:states:us-east-1:123456789012:execution:e:ev-1",
        dataset=DatasetLocation(bucket="evaluations", key="datasets/d.jsonl"),
        dataset_etag='"v1"',
        candidates=[CANDIDATE],
        judge="rule",
    )
    completed = aggregate_evaluation(aggregate, store=store, cases=golden, pricing={})
    assert completed.status == "completed" and (completed.case_count, completed.missing) == (2, 1)
    assert completed.report is not None
    for key in (completed.report.json_key, completed.report.markdown_key, completed.report.svg_key):
        assert key.startswith("reports/ev-1/") and store.objects[key]
    (summary,) = completed.candidates
    assert (summary.name, summary.cases, summary.evaluated, summary.failed) == ("cand", 2, 1, 1)
    assert summary.pass_rate == 0.5
    low, high = summary.pass_rate_ci
    assert 0 <= low < 0.5 < high <= 1
