"""Helpers shared by the LLM tests (imported by name; pytest puts this folder on sys.path)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from reviewflow.models.chat import ChatMessage, ChatReply
from reviewflow.models.steps import TokenUsage

MODEL_ID = "arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.example.model-v1:0"


def converse_response(
    text: str, *, stop_reason: str = "end_turn", input_tokens: int = 120, output_tokens: int = 30
) -> dict[str, Any]:
    """A Converse response in the shape the service returns."""
    return {
        "output": {"message": {"role": "assistant", "content": [{"text": text}]}},
        "stopReason": stop_reason,
        "usage": {
            "inputTokens": input_tokens,
            "outputTokens": output_tokens,
            "totalTokens": input_tokens + output_tokens,
        },
        "metrics": {"latencyMs": 420},
    }


@dataclass
class ScriptedChatModel:
    """A ``ChatModel`` that answers from a script and records every call."""

    answers: list[str]
    model_id: str = "fake/scripted"
    calls: list[tuple[str, tuple[ChatMessage, ...]]] = field(default_factory=list)

    def converse(
        self, system: str, messages: Sequence[ChatMessage], *, max_tokens: int, temperature: float
    ) -> ChatReply:
        self.calls.append((system, tuple(messages)))
        text = self.answers[len(self.calls) - 1]
        return ChatReply(
            text=text, model_id=self.model_id, usage=TokenUsage(input_tokens=10, output_tokens=5)
        )
