"""Which implementation of each port runs: configuration, never a code edit.

This is the only module that reads the runtime settings: every getter builds its provider once
per process from them, and passes what the domain needs (prompt versions, limits, names) in as
arguments. Adapter imports are inside the getters on purpose — to keep import time low, so a
function only loads what its configuration selects (the offline models never load in AWS), not
to dodge a cycle. ``override`` lets tests and the local runtime substitute an implementation (a
fake, a stubbed client, a fault-injecting wrapper) without touching handler code.

``sentiment_provider_for`` and ``response_writer_for`` build the provider an evaluation candidate
(a model and prompt version) runs with, once per candidate. Their override maps candidate names
to factories ``factory(candidate) -> provider``; other candidates get the configured provider.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any, TypeVar

from reviewflow.config import RuntimeSettings, get_settings
from reviewflow.domain.approvals.queue import ReviewerQueueReader
from reviewflow.domain.approvals.reminders import ReminderStore, ReviewerNotifier
from reviewflow.domain.ports import (
    ApprovalStore,
    ChatModel,
    EvaluationStore,
    FeedbackPublisher,
    InsightExtractor,
    InsightReader,
    InsightStore,
    Notifier,
    ReportPublisher,
    ReportWriter,
    ResponseWriter,
    SentimentProvider,
    ToxicityProvider,
    WorkflowClient,
)
from reviewflow.domain.reply_policy import ReplyPolicy, load_policy
from reviewflow.errors import ConfigurationError
from reviewflow.models.evaluation import Candidate

_T = TypeVar("_T")
_overrides: dict[str, Any] = {}
_client_overrides: dict[str, Any] = {}


def _overridable(name: str) -> Callable[[Callable[[], _T]], Callable[[], _T]]:
    def decorate(build: Callable[[], _T]) -> Callable[[], _T]:
        cached = functools.cache(build)

        @functools.wraps(build)
        def get() -> _T:
            if name in _overrides:
                return _overrides[name]  # type: ignore[no-any-return]
            return cached()

        get.cache_clear = cached.cache_clear  # type: ignore[attr-defined]
        _getters[name] = get
        _configured[name] = cached
        return get

    return decorate


def _per_candidate(name: str) -> Callable[[Callable[[Candidate], _T]], Callable[[Candidate], _T]]:
    """A getter that builds its provider once per process and candidate (see the module docstring)."""

    def decorate(build: Callable[[Candidate], _T]) -> Callable[[Candidate], _T]:
        built: dict[str, _T] = {}

        def configured_for(candidate: Candidate) -> _T:
            key = candidate.model_dump_json()
            return built[key] if key in built else built.setdefault(key, build(candidate))

        @functools.wraps(build)
        def get(candidate: Candidate) -> _T:
            factory = _overrides.get(name, {}).get(candidate.name)
            return configured_for(candidate) if factory is None else factory(candidate)  # type: ignore[no-any-return]

        get.cache_clear = built.clear  # type: ignore[attr-defined]
        _getters[name], _configured[name] = get, configured_for
        _per_candidate_names.add(name)
        return get

    return decorate


_getters: dict[str, Callable[..., Any]] = {}
_configured: dict[str, Callable[..., Any]] = {}
_per_candidate_names: set[str] = set()


def configured(name: str, *candidate: Candidate) -> Any:
    """The implementation the settings select (for the candidate, if the getter takes one),
    ignoring any override.

    A wrapper installed as an override (the local runtime's fault injection) calls this to reach
    the provider underneath it.
    """
    if name not in _configured:
        raise KeyError(f"no provider getter named {name!r}; known: {sorted(_configured)}")
    return _configured[name](*candidate)


def _check_override(name: str, implementation: Any) -> None:
    if name in _per_candidate_names and not isinstance(implementation, Mapping):
        raise TypeError(f"an override of {name} maps candidate names to factory(candidate) callables")


@contextmanager
def override(**providers: Any) -> Iterator[None]:
    """Use the given implementations (by getter name) inside the block."""
    unknown = set(providers) - set(_getters)
    if unknown:
        raise KeyError(f"no provider getter named {sorted(unknown)}; known: {sorted(_getters)}")
    for name, implementation in providers.items():
        _check_override(name, implementation)
    previous = {name: _overrides.get(name) for name in providers}
    _overrides.update(providers)
    try:
        yield
    finally:
        for name, value in previous.items():
            if value is None:
                _overrides.pop(name, None)
            else:
                _overrides[name] = value


def set_override(name: str, implementation: Any | None) -> None:
    """Install (or with ``None`` remove) a long-lived override, as the local runtime does."""
    if name not in _getters:
        raise KeyError(f"no provider getter named {name!r}; known: {sorted(_getters)}")
    if implementation is None:
        _overrides.pop(name, None)
    else:
        _check_override(name, implementation)
        _overrides[name] = implementation


def reset() -> None:
    """Forget every built provider and override (tests, and after a settings change)."""
    _overrides.clear()
    _client_overrides.clear()
    for getter in _getters.values():
        getter.cache_clear()  # type: ignore[attr-defined]
    _aws_client.cache_clear()


def runtime_settings() -> RuntimeSettings:
    """The function's validated settings, for the values a handler passes to the domain."""
    return get_settings()


def reply_policy() -> ReplyPolicy:
    """The reply policy version the settings name (parsed once per process)."""
    return load_policy(get_settings().reply_policy_version)


def aws_client(service: str) -> Any:
    """A boto3 client with the pipeline's retry policy; the one place clients are built."""
    client = _client_overrides.get(service)
    return _aws_client(service) if client is None else client


def set_client_override(service: str, client: Any | None) -> None:
    """Use ``client`` for ``service`` (``None`` removes it): the local runtime's real-AWS model
    clients (``reviewflow_local.real_aws``), while every other service stays on the emulation."""
    if client is None:
        _client_overrides.pop(service, None)
    else:
        _client_overrides[service] = client


@functools.cache
def _aws_client(service: str) -> Any:
    import boto3
    from botocore.config import Config

    # Retries inside the SDK stay short: the workflow's Retry (with backoff and jitter) is the
    # retry policy that matters, and it needs the error to surface while the task has time left.
    return boto3.client(service, config=Config(retries={"max_attempts": 2, "mode": "standard"}))


@_overridable("toxicity_provider")
def toxicity_provider() -> ToxicityProvider:
    settings = get_settings()
    if settings.toxicity_provider == "local":
        from reviewflow.providers.local_toxicity import LocalToxicity

        return LocalToxicity()
    if settings.toxicity_provider == "local-multilingual":
        from reviewflow.providers.local_toxicity import MULTILINGUAL, LocalToxicity

        return LocalToxicity(languages=MULTILINGUAL)
    if settings.toxicity_provider == "guardrails":
        if not (settings.guardrail_id and settings.guardrail_version):
            raise ConfigurationError(
                "REVIEWFLOW_GUARDRAIL_ID and REVIEWFLOW_GUARDRAIL_VERSION must name the guardrail"
            )
        from reviewflow.providers.guardrails_toxicity import GuardrailsToxicity

        return GuardrailsToxicity(
            aws_client("bedrock-runtime"),
            guardrail_id=settings.guardrail_id,
            guardrail_version=settings.guardrail_version,
            tier=settings.guardrail_tier,
        )
    from reviewflow.providers.comprehend import ComprehendToxicity

    return ComprehendToxicity(aws_client("comprehend"))


def reply_toxicity_provider() -> ToxicityProvider:
    """The toxicity provider as replies are checked with it (drafts, the publish gate, edits).

    The same provider as for reviews (an override of ``toxicity_provider`` applies to both), except
    that a provider that treats model output differently from user input (Guardrails) is asked
    for its reply variant.
    """
    provider = toxicity_provider()
    for_replies = getattr(provider, "for_replies", None)
    return for_replies() if callable(for_replies) else provider  # type: ignore[no-any-return]


def chat_model(model_id: str) -> ChatModel:
    """A chat model on ``model_id`` through the configured LLM provider (also the LLM judge's)."""
    settings = get_settings()
    if settings.llm_provider == "bedrock":
        if not model_id:
            raise ConfigurationError("REVIEWFLOW_MODEL_ID must name a Bedrock model or inference profile")
        from reviewflow.providers.bedrock import BedrockChatModel

        return BedrockChatModel(aws_client("bedrock-runtime"), model_id)
    if settings.llm_provider == "openai":
        if not (settings.openai_base_url and model_id):
            raise ConfigurationError("REVIEWFLOW_OPENAI_BASE_URL and REVIEWFLOW_MODEL_ID are required")
        from reviewflow.providers.openai_compatible import OpenAICompatibleChatModel

        return OpenAICompatibleChatModel(
            base_url=settings.openai_base_url,
            model_id=model_id,
            api_key=settings.openai_api_key,
            timeout_seconds=settings.openai_timeout_seconds,
        )
    raise ConfigurationError(f"no chat model for llm_provider={settings.llm_provider!r}")


@_overridable("sentiment_provider")
def sentiment_provider() -> SentimentProvider:
    settings = get_settings()
    if settings.llm_provider == "local":
        from reviewflow.providers.local_sentiment import VaderSentiment

        return VaderSentiment()
    return _llm_sentiment(settings.effective_sentiment_model_id, settings.sentiment_prompt_version)


def _llm_sentiment(model_id: str, prompt_version: str) -> SentimentProvider:
    from reviewflow.domain.sentiment import LlmSentiment

    attempts = get_settings().sentiment_max_attempts
    return LlmSentiment(chat_model(model_id), attempts, prompt_version=prompt_version)


@_overridable("response_writer")
def response_writer() -> ResponseWriter:
    settings = get_settings()
    if settings.llm_provider == "local":
        from reviewflow.providers.template_responder import TemplateResponder

        return TemplateResponder()
    return _llm_writer(settings.model_id, settings.response_prompt_version)


def _llm_writer(model_id: str, prompt_version: str) -> ResponseWriter:
    from reviewflow.domain.responses import LlmResponseWriter

    settings = get_settings()
    return LlmResponseWriter(
        chat_model(model_id),
        max_tokens=settings.response_max_tokens,
        temperature=settings.response_temperature,
        prompt_version=prompt_version,
    )


def _approvals_table() -> str:
    """The approvals table every human-review provider reads (approvals, reminders, queues)."""
    table = get_settings().approvals_table
    if not table:
        raise ConfigurationError("REVIEWFLOW_APPROVALS_TABLE must name the approvals table")
    return table


@_overridable("approval_store")
def approval_store() -> ApprovalStore:
    table = _approvals_table()  # checked before any client is made
    from reviewflow.providers.approval_store import DynamoApprovalStore

    return DynamoApprovalStore(aws_client("dynamodb"), table)


@_overridable("notifier")
def notifier() -> Notifier:
    settings = get_settings()
    if not settings.notification_topic_arn:
        raise ConfigurationError("REVIEWFLOW_NOTIFICATION_TOPIC_ARN must name the reviewer topic")
    from reviewflow.providers.notifier import SnsNotifier

    return SnsNotifier(aws_client("sns"), settings.notification_topic_arn)


@_overridable("workflow_client")
def workflow_client() -> WorkflowClient:
    from reviewflow.providers.workflow_client import StepFunctionsWorkflowClient

    return StepFunctionsWorkflowClient(aws_client("stepfunctions"))


@_overridable("evaluation_store")
def evaluation_store() -> EvaluationStore:
    settings = get_settings()
    if not settings.evaluation_bucket:
        raise ConfigurationError("REVIEWFLOW_EVALUATION_BUCKET must name the evaluation bucket")
    from reviewflow.providers.evaluation_store import S3EvaluationStore

    return S3EvaluationStore(aws_client("s3"), settings.evaluation_bucket)


@_per_candidate("sentiment_provider_for")
def sentiment_provider_for(candidate: Candidate) -> SentimentProvider:
    """The sentiment step as ``candidate`` runs it: its model and prompt version, or the deployment's."""
    settings = get_settings()
    if settings.llm_provider == "local":
        from reviewflow.providers.local_sentiment import vader_for

        return vader_for(candidate)
    model_id = candidate.sentiment_model_id or settings.effective_sentiment_model_id
    return _llm_sentiment(model_id, candidate.sentiment_prompt_version or settings.sentiment_prompt_version)


@_per_candidate("response_writer_for")
def response_writer_for(candidate: Candidate) -> ResponseWriter:
    """The reply step as ``candidate`` runs it: its model at its prompt version. Offline, and for the
    model id ``local/template-responder`` anywhere, the template responder at that version."""
    settings = get_settings()
    from reviewflow.providers import template_responder

    if settings.llm_provider == "local" or candidate.model_id == template_responder.MODEL_ID:
        return template_responder.responder_for(candidate)
    return _llm_writer(candidate.model_id, candidate.prompt_version)


@_overridable("insight_extractor")
def insight_extractor() -> InsightExtractor:
    """The offline lexicon with the local LLM provider, else a chat model on the insights model."""
    settings = get_settings()
    if settings.llm_provider == "local":
        from reviewflow.providers.local_insights import LexiconInsights

        return LexiconInsights()
    from reviewflow.domain.insights import LlmInsightExtractor

    return LlmInsightExtractor(
        chat_model(settings.effective_insights_model_id),
        settings.insights_max_attempts,
        prompt_version=settings.insights_prompt_version,
    )


@_overridable("insight_store")
def insight_store() -> InsightStore:
    settings = get_settings()
    if not settings.insights_table:
        raise ConfigurationError("REVIEWFLOW_INSIGHTS_TABLE must name the insights table")
    from reviewflow.providers.insights_store import DynamoInsightStore

    return DynamoInsightStore(aws_client("dynamodb"), settings.insights_table)


@_overridable("insight_reader")
def insight_reader() -> InsightReader:
    settings = get_settings()
    if not settings.insights_table:
        raise ConfigurationError("REVIEWFLOW_INSIGHTS_TABLE must name the insights table")
    from reviewflow.providers.insights_store import DynamoInsightReader

    return DynamoInsightReader(aws_client("dynamodb"), settings.insights_table)


@_overridable("report_writer")
def report_writer() -> ReportWriter:
    settings = get_settings()
    if not settings.insights_report_bucket:
        raise ConfigurationError("REVIEWFLOW_INSIGHTS_REPORT_BUCKET must name the reports bucket")
    from reviewflow.providers.insights_report_store import S3ReportWriter

    return S3ReportWriter(aws_client("s3"), settings.insights_report_bucket)


@_overridable("report_publisher")
def report_publisher() -> ReportPublisher:
    settings = get_settings()
    if not settings.product_team_topic_arn:
        raise ConfigurationError("REVIEWFLOW_PRODUCT_TEAM_TOPIC_ARN must name the product team topic")
    from reviewflow.providers.insights_report_store import SnsReportPublisher

    return SnsReportPublisher(aws_client("sns"), settings.product_team_topic_arn)


@_overridable("feedback_publisher")
def feedback_publisher() -> FeedbackPublisher:
    settings = get_settings()
    if not settings.event_bus_name:
        raise ConfigurationError("REVIEWFLOW_EVENT_BUS_NAME must name the reviews bus")
    from reviewflow.providers.feedback_events import EventBridgeFeedbackPublisher

    return EventBridgeFeedbackPublisher(aws_client("events"), settings.event_bus_name)


@_overridable("reminder_store")
def reminder_store() -> ReminderStore:
    table = _approvals_table()  # checked before any client is made
    from reviewflow.providers.reminder_store import DynamoReminderStore

    return DynamoReminderStore(aws_client("dynamodb"), table)


@_overridable("reviewer_queue")
def reviewer_queue() -> ReviewerQueueReader:
    table = _approvals_table()  # checked before any client is made
    from reviewflow.providers.reviewer_queue_store import DynamoReviewerQueue

    return DynamoReviewerQueue(aws_client("dynamodb"), table)


@_overridable("reviewer_notifier")
def reviewer_notifier() -> ReviewerNotifier:
    settings = get_settings()
    if not settings.notification_topic_arn:
        raise ConfigurationError("REVIEWFLOW_NOTIFICATION_TOPIC_ARN must name the reviewer topic")
    from reviewflow.providers.notifier import SnsNotifier

    return SnsNotifier(aws_client("sns"), settings.notification_topic_arn)
