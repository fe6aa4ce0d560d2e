"""The interfaces the domain needs from the outside world, and nothing else.

Each port has one AWS adapter in ``reviewflow.providers`` and, where the local runtime needs it,
an offline one; the handler (the composition root of its function) asks the registry for the
configured adapters and passes them to a domain function. The domain never imports an adapter.
"""

from __future__ import annotations

from collections.abc import Sequence
from email.message import EmailMessage
from typing import TYPE_CHECKING, Protocol

from reviewflow.models.approvals import ApprovalRecord, DecisionAudit
from reviewflow.models.chat import ChatMessage, ChatReply
from reviewflow.models.evaluation import DatasetLocation, GoldenCase, JudgedReply, Verdict
from reviewflow.models.events import Decision, ReviewPosted, ToxicityScore
from reviewflow.models.insights import ProductFeedback
from reviewflow.models.steps import GeneratedResponse, SentimentResult

if TYPE_CHECKING:
    from reviewflow.domain.insights import ExtractedInsights


class ToxicityProvider(Protocol):
    """Scores a whole text; the maximum over its segments, overall and per label.

    ``supported_languages`` are the ISO 639-1 codes it scores; text in any other language comes
    back unscorable (and goes to a person) without a call.
    """

    name: str
    supported_languages: frozenset[str]

    def score(self, text: str, language: str) -> ToxicityScore: ...


class ChatModel(Protocol):
    """One turn of a chat with a language model (Bedrock Converse, OpenAI-compatible...)."""

    model_id: str

    def converse(
        self,
        system: str,
        messages: Sequence[ChatMessage],
        *,
        max_tokens: int,
        temperature: float,
    ) -> ChatReply: ...


class SentimentProvider(Protocol):
    name: str

    def detect(self, review: ReviewPosted) -> SentimentResult: ...


class ResponseWriter(Protocol):
    """Writes a draft reply; with ``guidance`` (sanitised staff instructions) a new draft that
    follows it, published under the writer's guided prompt version."""

    name: str

    def write(
        self, review: ReviewPosted, sentiment: SentimentResult, *, guidance: str | None = None
    ) -> GeneratedResponse: ...


class ApprovalStore(Protocol):
    """Approval items; every state change is conditional, so a decision lands exactly once."""

    def create(self, record: ApprovalRecord) -> None: ...

    def get(self, approval_id: str) -> ApprovalRecord | None: ...

    def record_decision(self, approval_id: str, audit: DecisionAudit, *, now_epoch: int) -> bool: ...

    def mark_delivered(self, approval_id: str, *, decision: Decision, delivered_at: str) -> None: ...

    def mark_not_waiting(self, approval_id: str, *, reason: str, closed_at: str) -> None: ...

    def release_decision(self, approval_id: str, *, decided_at: str, error: str) -> bool: ...

    def discard(self, approval_id: str) -> None: ...


class Notifier(Protocol):
    def send(self, message: EmailMessage, reviewer: str | None = None) -> str:
        """Deliver the message (to one roster reviewer's mailbox only, when ``reviewer`` is given);
        returns the delivery id."""
        ...


class EmailComposer(Protocol):
    """Renders the reviewer email for a pending approval (presentation, passed in by the handler)."""

    def __call__(
        self, record: ApprovalRecord, *, link: str, queue_url: str | None = None
    ) -> EmailMessage: ...


class WorkflowClient(Protocol):
    """Resumes a paused execution; raises ``ExecutionNotWaitingError`` when it no longer waits."""

    def send_task_success(self, task_token: str, output_json: str) -> None: ...


class ReplyJudge(Protocol):
    """Judges what the pipeline did with one golden case, criterion by criterion."""

    name: str

    def judge(self, case: GoldenCase, reply: JudgedReply) -> list[Verdict]: ...


class EvaluationStore(Protocol):
    """The evaluation suite's bucket: datasets (read by version), case results and reports.

    Keys are relative to ``bucket``; ``reviewflow.models.evaluation_steps`` names the folders.
    """

    bucket: str

    def read_dataset(self, location: DatasetLocation, *, etag: str | None = None) -> tuple[str, str]:
        """The dataset's text and ETag; with ``etag``, that version or ``InvalidInputError``."""
        ...

    def put(self, key: str, body: str, *, content_type: str) -> None: ...

    def read_all(self, prefix: str) -> dict[str, str]:
        """Every object under ``prefix``, key -> text."""
        ...


class InsightExtractor(Protocol):
    """Product aspects from one review (a model with its own prompt, or the offline lexicon)."""

    def extract(self, review: ReviewPosted) -> ExtractedInsights: ...


class InsightStore(Protocol):
    """The insights table, keyed by product (layout in ``models/insights.py``)."""

    def put(self, feedback: ProductFeedback, *, ttl_epoch: int) -> None: ...


class InsightReader(Protocol):
    """The report job's view of the insights table (Query only)."""

    def products(self, *, active_since: str) -> list[str]:
        """Ids of the products with feedback extracted at or after ``active_since``."""
        ...

    def feedback(self, product_id: str, *, start: str, end: str) -> tuple[list[ProductFeedback], int]:
        """The product's feedback extracted between ``start`` and ``end`` (a superset of the
        half-open period: the caller filters), and how many items could not be read."""
        ...


class ReportWriter(Protocol):
    """Where the insights report is written (the reports bucket)."""

    def put(self, key: str, body: str, *, content_type: str) -> str:
        """Writes ``body`` at ``key``; returns where it is, e.g. ``s3://bucket/key``."""
        ...


class ReportPublisher(Protocol):
    """The product team's topic: a subject and a plain-text body."""

    def publish(self, subject: str, body: str) -> str:
        """Returns the message id."""
        ...


class FeedbackPublisher(Protocol):
    """Publishes ``PRODUCT_FEEDBACK_EXTRACTED`` on the reviews bus."""

    def publish(self, feedback: ProductFeedback) -> None: ...
