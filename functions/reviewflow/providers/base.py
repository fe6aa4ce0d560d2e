"""The small interfaces every side effect sits behind.

Each has one AWS adapter and, where the local runtime needs one, an offline adapter. Handlers
never build clients themselves: they ask ``reviewflow.providers.registry`` for the configured
implementation, and tests pass fakes or stubbed clients instead.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal, Protocol

from reviewflow.models.events import ReviewPosted, ToxicityScore
from reviewflow.models.steps import GeneratedResponse, SentimentResult, TokenUsage


class ToxicityProvider(Protocol):
    """Scores a whole text; the maximum over its segments, overall and per label."""

    name: str

    def score(self, text: str, language: str) -> ToxicityScore: ...


@dataclass(frozen=True)
class ChatMessage:
    role: Literal["user", "assistant"]
    text: str


@dataclass(frozen=True)
class ChatReply:
    text: str
    model_id: str
    usage: TokenUsage = field(default_factory=TokenUsage)
    stop_reason: str | None = None


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
    name: str

    def write(self, review: ReviewPosted, sentiment: SentimentResult) -> GeneratedResponse: ...
