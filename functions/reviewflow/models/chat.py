"""What passes between the pipeline and a chat model: messages sent and the reply received."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from reviewflow.models.steps import TokenUsage


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
