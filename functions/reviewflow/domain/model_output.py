"""Reading the JSON a language model was asked for out of what it actually answered.

Models wrap JSON in code fences or prose; the sentiment step and the LLM judge both take the first
JSON object found and then validate it strictly, so the leniency is here, once — and so is the
bounded repair loop that sends a bad answer back with a correction.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from reviewflow.domain.ports import ChatModel
from reviewflow.domain.prompts import RenderedPrompt
from reviewflow.errors import MalformedModelOutputError
from reviewflow.models.chat import ChatMessage
from reviewflow.models.steps import TokenUsage
from reviewflow.observability import get_logger

_FENCED = re.compile(r"```(?:json)?\s*(.*?)```", re.DOTALL | re.IGNORECASE)


def first_json_object(text: str) -> dict[str, Any] | None:
    """The first JSON object in ``text``: whole text, a fenced block, or embedded in prose."""
    candidates = [text.strip()]
    candidates += [block.strip() for block in _FENCED.findall(text)]
    for candidate in candidates:
        try:
            value = json.loads(candidate)
        except ValueError:
            continue
        if isinstance(value, dict):
            return value
    decoder = json.JSONDecoder()
    for start in (i for i, ch in enumerate(text) if ch == "{"):
        try:
            value, _ = decoder.raw_decode(text, start)
        except ValueError:
            continue
        if isinstance(value, dict):
            return value
    return None


T = TypeVar("T")


@dataclass(frozen=True)
class ParsedAnswer(Generic[T]):
    """A validated answer and what it took to get it."""

    value: T
    model_id: str
    usage: TokenUsage
    attempts: int


def converse_for_json(
    chat_model: ChatModel,
    prompt: RenderedPrompt,
    parse: Callable[[str], T],
    correction: Callable[[str], str],
    *,
    max_attempts: int,
    max_tokens: int,
    temperature: float,
    what: str,
    on_usage: Callable[[TokenUsage], None] | None = None,
) -> ParsedAnswer[T]:
    """Ask until ``parse`` accepts the answer, at most ``max_attempts`` calls (the repair loop).

    ``parse`` raises ``ValueError`` saying what was wrong without echoing the answer; the bad
    answer then goes back to the model with ``correction(problem)``. Throttling and timeouts are
    not retried here: they surface as their typed errors for the workflow's Retry. ``on_usage``
    sees every call's tokens, including those of answers that were refused.
    """
    messages = [ChatMessage(role="user", text=prompt.user)]
    usage = TokenUsage()
    model_id = chat_model.model_id
    problem = "no answer"
    for attempt in range(1, max_attempts + 1):
        reply = chat_model.converse(prompt.system, messages, max_tokens=max_tokens, temperature=temperature)
        usage = TokenUsage(
            input_tokens=usage.input_tokens + reply.usage.input_tokens,
            output_tokens=usage.output_tokens + reply.usage.output_tokens,
        )
        if on_usage is not None:
            on_usage(reply.usage)
        model_id = reply.model_id or model_id
        try:
            value = parse(reply.text)
        except ValueError as exc:
            problem = str(exc)[:300]
            get_logger().warning(
                f"malformed {what} answer",
                extra={"attempt": attempt, "model_id": model_id, "problem": problem},
            )
            # Bedrock rejects blank content blocks, so an empty answer is sent back as a marker.
            messages += [
                ChatMessage(role="assistant", text=reply.text.strip() or "(empty answer)"),
                ChatMessage(role="user", text=correction(problem)),
            ]
            continue
        return ParsedAnswer(value=value, model_id=model_id, usage=usage, attempts=attempt)
    raise MalformedModelOutputError(
        f"model {model_id} answered outside the {what} JSON shape {max_attempts} time(s); "
        f"last problem: {problem}"
    )
