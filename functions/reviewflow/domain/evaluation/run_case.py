"""Running an evaluation: one golden case through one candidate's review steps, and the steps around it.

``evaluate_case`` runs exactly what the review workflow runs, through the same domain functions:
the review's toxicity (``score_toxicity``, banded by ``band_of``: harmful ends the case with no
reply; uncertain or unscorable goes to a person, and the case goes on as if the person let it
through, so the reply is still judged), the sentiment (``detect_sentiment``), the reply
(``generate_response``) and the publish gate's draft check (``check_draft``: ``ask_person`` routes
the case to a person; ``refuse`` leaves a reply that may not be published, recorded and failed).
Then the judge. Errors of the providers propagate: the evaluation workflow's Retry and Catch
handle them as the review workflow's do.

The other use cases are the evaluation workflow's steps around it: preparing (the dataset read
once, by version), running one case task, recording a failed one, and aggregating every result
into the report. Results are written per case and candidate, so a pass rate is always computed
over the whole dataset: a pair with no result counts as failed ("no result recorded").
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

from reviewflow.domain.evaluation.dataset import parse_dataset
from reviewflow.domain.evaluation.judges import case_passes
from reviewflow.domain.evaluation.report import build_report
from reviewflow.domain.ports import (
    EvaluationStore,
    ReplyJudge,
    ResponseWriter,
    SentimentProvider,
    ToxicityProvider,
)
from reviewflow.domain.publish_gate import band_of, check_draft
from reviewflow.domain.reply_policy import ReplyPolicy
from reviewflow.domain.responses import generate_response
from reviewflow.domain.sentiment import detect_sentiment
from reviewflow.domain.toxicity import score_toxicity
from reviewflow.errors import InvalidInputError
from reviewflow.models.evaluation import (
    Candidate,
    CaseResult,
    EvaluationRequest,
    GoldenCase,
    JudgedReply,
    Route,
    Verdict,
)
from reviewflow.models.evaluation_report import CandidateReport
from reviewflow.models.evaluation_steps import (
    DATASETS_PREFIX,
    AggregateRequest,
    CandidateSummary,
    CaseStatus,
    CaseTask,
    EvaluationCompleted,
    PreparedEvaluation,
    report_keys,
    result_key,
    results_prefix,
)
from reviewflow.models.events import Stage
from reviewflow.models.replies import Bands, ReplyCheck
from reviewflow.models.steps import ReplyCheckRequest, ResponseRequest, SentimentRequest, ToxicityRequest

NO_RESULT = "no result recorded"
JSON, MARKDOWN, SVG = "application/json", "text/markdown; charset=utf-8", "image/svg+xml"


def evaluate_case(
    case: GoldenCase,
    candidate: Candidate,
    *,
    toxicity: ToxicityProvider,
    sentiment: SentimentProvider,
    writer: ResponseWriter,
    policy: ReplyPolicy,
    judge: ReplyJudge,
    bands: Bands,
    reply_toxicity: ToxicityProvider | None = None,
) -> CaseResult:
    """One case through the review steps as ``candidate`` runs them, judged.

    ``reply_toxicity`` checks the draft (default: ``toxicity``), as the pipeline's reply check uses
    the provider's reply side (Guardrails applies its output strengths to replies).
    """
    review = case.review
    started = time.perf_counter()
    review_toxicity = score_toxicity(
        ToxicityRequest(text=review.review_text, language=review.language, stage=Stage.REVIEW), toxicity
    )
    band = band_of(review_toxicity, bands)
    if band == "harmful":
        latency = _ms_since(started)
        return _judged(case, candidate, judge, JudgedReply(actual_route="harmful"), latency_ms=latency)
    route: Route = "auto" if band == "safe" else "person"
    detected = detect_sentiment(SentimentRequest(review=review), sentiment)
    draft = generate_response(ResponseRequest(review=review, sentiment=detected), writer)
    check = check_draft(
        ReplyCheckRequest(
            mode="draft", review=review, review_toxicity=review_toxicity, response=draft, bands=bands
        ),
        provider=reply_toxicity or toxicity,
        policy=policy,
    )
    latency = _ms_since(started)
    if check.verdict == "ask_person":
        route = "person"
    reply = JudgedReply(
        actual_route=route,
        reply_text=draft.response_text,
        reply_language=case.rules.language or review.language,
        policy_violations=[violation.rule for violation in check.violations],
        gate_verdict=check.verdict,
    )
    return _judged(
        case,
        candidate,
        judge,
        reply,
        latency_ms=latency,
        sentiment=detected.sentiment,
        input_tokens=detected.usage.input_tokens + draft.usage.input_tokens,
        output_tokens=detected.usage.output_tokens + draft.usage.output_tokens,
        check=check,
    )


def _ms_since(started: float) -> float:
    return (time.perf_counter() - started) * 1000


def _judged(
    case: GoldenCase,
    candidate: Candidate,
    judge: ReplyJudge,
    reply: JudgedReply,
    *,
    check: ReplyCheck | None = None,
    **measured: Any,
) -> CaseResult:
    verdicts = judge.judge(case, reply)
    if check is not None and check.verdict == "refuse" and all(v.passed for v in verdicts):
        # The gate would never publish this reply, whatever a judge thinks of its wording.
        verdicts.append(
            Verdict(
                criterion="publishable",
                passed=False,
                judge="publish_gate",
                reason=f"the publish gate refused the draft ({check.reason or check.band})",
            )
        )
    return CaseResult(
        case_id=case.case_id,
        candidate=candidate.name,
        status="evaluated",
        expected_route=case.expected_route,
        actual_route=reply.actual_route,
        reply_text=reply.reply_text,
        verdicts=verdicts,
        passed=case_passes(verdicts),
        tags=list(case.tags),
        **measured,
    )


def failed_result(case: GoldenCase, candidate: str, reason: str) -> CaseResult:
    """The result of a pair that could not be evaluated: counted as failed, with its reason."""
    return CaseResult(
        case_id=case.case_id,
        candidate=candidate,
        status="failed",
        expected_route=case.expected_route,
        failure_reason=reason,
        tags=list(case.tags),
    )


def with_missing(
    cases: Sequence[GoldenCase], candidates: Sequence[Candidate], results: Sequence[CaseResult]
) -> tuple[list[CaseResult], int]:
    """One result per case and candidate, in dataset order: those recorded, and a failed one
    ("no result recorded") for every pair without; also how many were missing."""
    found = {(result.case_id, result.candidate): result for result in results}
    complete, missing = [], 0
    for candidate in candidates:
        for case in cases:
            result = found.get((case.case_id, candidate.name))
            if result is None:
                missing += 1
                result = failed_result(case, candidate.name, NO_RESULT)
            complete.append(result)
    return complete, missing


# ------------------------------------------------------------------------------ the workflow's steps


class DatasetCache:
    """Parsed datasets by bucket, key and ETag: a function reads each version once per process."""

    def __init__(self, size: int = 4) -> None:
        self._size = size
        self._cases: dict[tuple[str, str, str], list[GoldenCase]] = {}

    def cases(self, store: EvaluationStore, task: CaseTask | AggregateRequest) -> list[GoldenCase]:
        key = (task.dataset.bucket, task.dataset.key, task.dataset_etag)
        if key not in self._cases:
            text, _ = store.read_dataset(task.dataset, etag=task.dataset_etag)
            while len(self._cases) >= self._size:
                self._cases.pop(next(iter(self._cases)))
            self._cases[key] = parse_dataset(text)
        return self._cases[key]


def prepare_evaluation(request: EvaluationRequest, store: EvaluationStore) -> PreparedEvaluation:
    """Read the dataset once, pin its version, and hand the workflow the case indexes."""
    if not request.dataset.key.startswith(DATASETS_PREFIX):
        raise InvalidInputError(f"the dataset key must start with {DATASETS_PREFIX}")
    text, etag = store.read_dataset(request.dataset)
    cases = parse_dataset(text)
    return PreparedEvaluation(
        evaluation_id=request.evaluation_id,
        dataset=request.dataset,
        dataset_etag=etag,
        case_count=len(cases),
        case_indexes=list(range(len(cases))),
        candidates=request.candidates,
        judge=request.judge,
        judge_model_id=request.judge_model_id,
    )


def case_of(cases: Sequence[GoldenCase], task: CaseTask) -> GoldenCase:
    if task.case_index >= len(cases):
        raise InvalidInputError(f"case index {task.case_index} is outside the dataset ({len(cases)} cases)")
    return cases[task.case_index]


def store_result(store: EvaluationStore, evaluation_id: str, result: CaseResult) -> CaseStatus:
    key = result_key(evaluation_id, result.candidate, result.case_id)
    store.put(key, result.model_dump_json(), content_type=JSON)
    return CaseStatus(
        case_id=result.case_id,
        candidate=result.candidate,
        status=result.status,
        passed=result.passed,
        result_key=key,
    )


def aggregate_evaluation(
    request: AggregateRequest, *, store: EvaluationStore, cases: Sequence[GoldenCase], pricing: Any
) -> EvaluationCompleted:
    """Every result (missing pairs counted as failed), the report in three forms, the event detail."""
    # Imported here: the SVG renderer loads xml.sax.saxutils (and with it urllib, http.client and
    # ssl), which only this step needs; the case functions import this module too.
    from reviewflow.domain.evaluation.report_render import to_json, to_markdown, to_svg

    names = {candidate.name for candidate in request.candidates}
    texts = store.read_all(results_prefix(request.evaluation_id)).values()
    recorded = [result for result in map(CaseResult.model_validate_json, texts) if result.candidate in names]
    complete, missing = with_missing(cases, request.candidates, recorded)
    report = build_report(
        complete,
        list(request.candidates),
        pricing=pricing,
        evaluation_id=request.evaluation_id,
        judge=request.judge,
    )
    keys = report_keys(store.bucket, request.evaluation_id)
    store.put(keys.json_key, to_json(report), content_type=JSON)
    store.put(keys.markdown_key, to_markdown(report), content_type=MARKDOWN)
    store.put(keys.svg_key, to_svg(report), content_type=SVG)
    return EvaluationCompleted(
        evaluation_id=request.evaluation_id,
        execution_id=request.execution_id,
        status="completed",
        case_count=len(cases),
        missing=missing,
        report=keys,
        candidates=[_summary(section) for section in report.candidates],
    )


def _summary(section: CandidateReport) -> CandidateSummary:
    rate = section.pass_rate
    return CandidateSummary(
        name=section.candidate.name,
        cases=section.cases,
        evaluated=section.evaluated,
        failed=section.failed,
        pass_rate=rate.rate,
        pass_rate_ci=(rate.ci_low, rate.ci_high),
    )
