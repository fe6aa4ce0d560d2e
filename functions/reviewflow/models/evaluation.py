"""The evaluation suite's records: golden cases, candidates, verdicts, per-case results, requests.

A golden case is a review with what a good pipeline does with it: the route it should take
(``auto``: answered without a person; ``person``: a reviewer is asked, at either stage;
``harmful``: flagged, no reply), a reference reply where one is expected, and rules a reply must
keep. The golden set is JSON lines of ``GoldenCase`` (``evals/README.md`` documents the fields).
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from reviewflow.models.events import ID_PATTERN, ReviewPosted, Sentiment

Route = Literal["auto", "person", "harmful"]
JudgeName = Literal["rule", "llm"]
_SLUG = r"^[a-z0-9][a-z0-9._-]{0,63}$"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class CaseRules(_Strict):
    """What a reply to this review must and must not do (each rule is one judged criterion)."""

    must_apologise: bool = False
    must_thank: bool = False
    must_mention_product: bool = False
    # Each entry is a group of alternatives: the reply must contain at least one of them.
    must_mention: list[list[str]] = Field(default_factory=list)
    must_not_mention: list[str] = Field(default_factory=list)
    # No promise of refunds, compensation, discounts, vouchers, gifts or replacements.
    must_not_promise: bool = True
    # ISO 639-1 code the reply must be written in (default: the review's language).
    language: str | None = Field(default=None, pattern=r"^[a-z]{2}$")
    max_chars: int | None = Field(default=None, ge=20, le=4000)


class GoldenCase(_Strict):
    case_id: str = Field(pattern=ID_PATTERN.pattern)
    review: ReviewPosted
    expected_route: Route
    expected_sentiment: Sentiment | None = None
    reference_reply: str | None = Field(default=None, min_length=1, max_length=4000)
    rules: CaseRules = Field(default_factory=CaseRules)
    tags: list[str] = Field(default_factory=list)
    notes: str | None = None

    @model_validator(mode="after")
    def _reference_where_a_reply_is_expected(self) -> GoldenCase:
        if self.expected_route == "auto" and self.reference_reply is None:
            raise ValueError("a case answered automatically needs a reference_reply")
        if self.expected_route == "harmful" and self.reference_reply is not None:
            raise ValueError("a harmful case gets no reply, so it has no reference_reply")
        return self


class Candidate(_Strict):
    """One configuration to evaluate: the reply model and prompt version (and, optionally, the
    sentiment model and prompt version; by default those of the deployment)."""

    name: str = Field(pattern=_SLUG)
    model_id: str = Field(min_length=1, max_length=2048)
    prompt_version: str = Field(pattern=r"^[A-Za-z0-9_-]{1,32}$")
    sentiment_model_id: str | None = Field(default=None, min_length=1, max_length=2048)
    sentiment_prompt_version: str | None = Field(default=None, pattern=r"^[A-Za-z0-9_-]{1,32}$")


class JudgedReply(_Strict):
    """What the pipeline did with a case, as the judges see it."""

    actual_route: Route
    reply_text: str | None = None  # the reply the gate cleared (or the draft sent to a person)
    reply_language: str | None = None  # the language the reply was asked to be written in
    policy_violations: list[str] = Field(default_factory=list)  # reply-policy rule ids the gate found
    gate_verdict: Literal["publish", "ask_person", "refuse"] | None = None


class Verdict(_Strict):
    """One criterion judged for one reply, and which judge said so."""

    criterion: str
    passed: bool
    judge: str  # "rule", or "llm:<model id>"
    reason: str = Field(max_length=500)


class CaseResult(_Strict):
    """What one case and candidate produced and how it was judged; a failure is counted, never dropped."""

    case_id: str
    candidate: str
    status: Literal["evaluated", "failed"]
    expected_route: Route
    actual_route: Route | None = None
    sentiment: Sentiment | None = None
    reply_text: str | None = None
    verdicts: list[Verdict] = Field(default_factory=list)
    passed: bool = False
    failure_reason: str | None = None
    latency_ms: float = Field(default=0.0, ge=0)
    input_tokens: int = Field(default=0, ge=0)
    output_tokens: int = Field(default=0, ge=0)
    tags: list[str] = Field(default_factory=list)


class DatasetLocation(_Strict):
    bucket: str = Field(min_length=3, max_length=63)
    key: str = Field(min_length=1, max_length=1024)


class EvaluationRequest(_Strict):
    """Input of the evaluation workflow."""

    evaluation_id: str = Field(pattern=_SLUG)
    dataset: DatasetLocation
    candidates: list[Candidate] = Field(min_length=1, max_length=20)
    judge: JudgeName = "rule"
    judge_model_id: str | None = None

    @model_validator(mode="after")
    def _distinct_names_and_a_model_for_the_llm_judge(self) -> EvaluationRequest:
        names = [candidate.name for candidate in self.candidates]
        if len(set(names)) != len(names):
            raise ValueError("candidate names must be distinct")
        if self.judge == "llm" and not self.judge_model_id:
            raise ValueError("the llm judge needs judge_model_id")
        return self
