"""Sentiment from a language model, in a validated JSON shape, with a bounded repair loop.

Models wrap JSON in code fences or prose, or drift from the requested shape. The answer is
parsed leniently (first JSON object found), validated strictly, and when it still fails the bad
answer is sent back with a short correction — at most ``max_attempts`` calls in all — before the
review fails with ``MalformedModelOutputError``. Throttling and timeouts are not retried here:
they surface as their typed errors and the workflow's Retry handles them.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError

from reviewflow.domain.model_output import converse_for_json, first_json_object
from reviewflow.domain.ports import ChatModel, SentimentProvider
from reviewflow.domain.prompts import DEFAULT_PROMPT_VERSION, load_prompt, review_fields
from reviewflow.models.events import ReviewPosted, Sentiment
from reviewflow.models.steps import SentimentRequest, SentimentResult
from reviewflow.observability import add_metric, get_logger

PROMPT_NAME = "sentiment"
MAX_REASON_CHARS = 200
# The answer is a label and a sentence; a small cap keeps a rambling model cheap.
SENTIMENT_MAX_TOKENS = 300
SENTIMENT_TEMPERATURE = 0.0


def _upper(value: Any) -> Any:
    return value.strip().upper() if isinstance(value, str) else value


class SentimentAnswer(BaseModel):
    """The only answer shape accepted from the model. Extra keys are ignored."""

    model_config = ConfigDict(extra="ignore")

    sentiment: Annotated[Sentiment, BeforeValidator(_upper)]
    reason: Annotated[str, BeforeValidator(lambda v: v.strip() if isinstance(v, str) else v)] = Field(
        min_length=1, max_length=MAX_REASON_CHARS
    )


def parse_answer(text: str) -> SentimentAnswer:
    """Parse a model answer; ``ValueError`` says, without echoing the answer, what was wrong."""
    found = first_json_object(text)
    if found is None:
        raise ValueError("the answer contained no JSON object")
    try:
        return SentimentAnswer.model_validate(found)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or 'object'}: {err['msg']}"
            for err in exc.errors(include_input=False, include_url=False)
        )
        raise ValueError(problems) from None


def _correction(problem: str) -> str:
    return (
        f"Your previous answer could not be used ({problem}). Answer again with exactly one JSON "
        'object and nothing else, in the shape {"sentiment": "POSITIVE|NEGATIVE|NEUTRAL|MIXED", '
        f'"reason": "..."}}, where "reason" has at most {MAX_REASON_CHARS} characters.'
    )


class LlmSentiment:
    """``SentimentProvider`` backed by any ``ChatModel``."""

    name = "llm"

    def __init__(
        self, chat_model: ChatModel, max_attempts: int = 3, *, prompt_version: str = DEFAULT_PROMPT_VERSION
    ):
        if max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        self._chat_model = chat_model
        self._max_attempts = max_attempts
        self._prompt_version = prompt_version

    def detect(self, review: ReviewPosted) -> SentimentResult:
        prompt = load_prompt(PROMPT_NAME, self._prompt_version).render(**review_fields(review))
        answer = converse_for_json(
            self._chat_model,
            prompt,
            parse_answer,
            _correction,
            max_attempts=self._max_attempts,
            max_tokens=SENTIMENT_MAX_TOKENS,
            temperature=SENTIMENT_TEMPERATURE,
            what="sentiment",
        )
        return SentimentResult(
            sentiment=answer.value.sentiment,
            reason=answer.value.reason,
            model_id=answer.model_id,
            prompt_version=prompt.version,
            usage=answer.usage,
            attempts=answer.attempts,
        )


def detect_sentiment(request: SentimentRequest, provider: SentimentProvider) -> SentimentResult:
    """The DetectSentiment step: the review's label from the given provider, logged by shape."""
    result = provider.detect(request.review)
    get_logger().info(
        "sentiment detected",
        extra={
            "sentiment": result.sentiment,
            "model_id": result.model_id,
            "prompt_version": result.prompt_version,
            "attempts": result.attempts,
            "input_tokens": result.usage.input_tokens,
            "output_tokens": result.usage.output_tokens,
        },
    )
    add_metric("SentimentInputTokens", result.usage.input_tokens)
    add_metric("SentimentOutputTokens", result.usage.output_tokens)
    return result
