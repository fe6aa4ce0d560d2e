"""Fakes for the evaluation unit tests: providers that answer from tables, a judge that only
checks the route, an in-memory evaluation bucket, and builders of cases and requests."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from reviewflow.domain.reply_policy import load_policy
from reviewflow.errors import InvalidInputError
from reviewflow.models.evaluation import (
    Candidate,
    DatasetLocation,
    EvaluationRequest,
    GoldenCase,
    JudgedReply,
    Verdict,
)
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
