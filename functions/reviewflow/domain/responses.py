"""The reply to a review, written by a language model from the versioned response prompt.

The model's text is published as it is (after trimming), so anything that is not a complete
reply is refused here rather than passed on: an empty answer, an answer cut off at the token
limit, or a guardrail's / content filter's stock message. Each raises
``MalformedModelOutputError`` and the review fails with a provider error instead of receiving a
half sentence. Whether the reply is safe to post is decided later, by the toxicity step.
"""

from __future__ import annotations

from reviewflow.domain.ports import ChatModel, ResponseWriter
from reviewflow.domain.prompts import DEFAULT_PROMPT_VERSION, load_prompt, review_fields, staff_guidance
from reviewflow.errors import MalformedModelOutputError
from reviewflow.models.chat import ChatMessage
from reviewflow.models.events import ReviewPosted
from reviewflow.models.steps import GeneratedResponse, ResponseRequest, SentimentResult
from reviewflow.observability import add_metric, get_logger

PROMPT_NAME = "response"
#: The prompt of every new draft a reviewer asks for (staff guidance in its own trusted block).
#: The first draft keeps the deployment's ``response_prompt_version``.
GUIDED_PROMPT_VERSION = "guided-v1"
# Bedrock's stop reasons; the OpenAI-compatible adapter maps its finish reasons onto these.
INCOMPLETE_STOP_REASONS = frozenset({"max_tokens", "guardrail_intervened", "content_filtered"})
_WRAPPING_QUOTES = ('"', "\u201c", "\u201d")


def _clean(text: str) -> str:
    text = text.strip()
    # Some models wrap the whole reply in quotes; a quote at both ends is never part of a reply.
    if len(text) >= 2 and text[0] in _WRAPPING_QUOTES and text[-1] in _WRAPPING_QUOTES:
        text = text[1:-1].strip()
    return text


class LlmResponseWriter:
    """``ResponseWriter`` backed by any ``ChatModel``."""

    name = "llm"

    def __init__(
        self,
        chat_model: ChatModel,
        *,
        max_tokens: int = 400,
        temperature: float = 0.3,
        prompt_version: str = DEFAULT_PROMPT_VERSION,
        guided_prompt_version: str = GUIDED_PROMPT_VERSION,
    ):
        self._chat_model = chat_model
        self._max_tokens = max_tokens
        self._temperature = temperature
        self._prompt_version = prompt_version
        self._guided_prompt_version = guided_prompt_version

    def write(
        self, review: ReviewPosted, sentiment: SentimentResult, *, guidance: str | None = None
    ) -> GeneratedResponse:
        if guidance is None:
            prompt = load_prompt(PROMPT_NAME, self._prompt_version).render(
                **review_fields(review), sentiment=sentiment.sentiment
            )
        else:
            prompt = load_prompt(PROMPT_NAME, self._guided_prompt_version).render(
                **review_fields(review),
                sentiment=sentiment.sentiment,
                staff_guidance=staff_guidance(guidance),
            )
        reply = self._chat_model.converse(
            prompt.system,
            [ChatMessage(role="user", text=prompt.user)],
            max_tokens=self._max_tokens,
            temperature=self._temperature,
        )
        model_id = reply.model_id or self._chat_model.model_id
        if reply.stop_reason in INCOMPLETE_STOP_REASONS:
            raise MalformedModelOutputError(
                f"model {model_id} did not finish the reply (stop reason {reply.stop_reason})"
            )
        text = _clean(reply.text)
        if not text:
            raise MalformedModelOutputError(f"model {model_id} returned an empty reply")
        return GeneratedResponse(
            response_text=text, model_id=model_id, prompt_version=prompt.version, usage=reply.usage
        )


def generate_response(request: ResponseRequest, writer: ResponseWriter) -> GeneratedResponse:
    """The GenerateResponse step (and RegenerateResponse, with guidance): a draft reply from the
    given writer, logged by shape. The guidance is passed only for a new draft, so a writer that
    predates new drafts still writes first drafts."""
    if request.guidance is not None and request.round > 0:
        response = writer.write(request.review, request.sentiment, guidance=request.guidance)
    else:
        response = writer.write(request.review, request.sentiment)
    get_logger().info(
        "response generated",
        extra={
            "round": request.round,
            "model_id": response.model_id,
            "prompt_version": response.prompt_version,
            "response_chars": len(response.response_text),
            "input_tokens": response.usage.input_tokens,
            "output_tokens": response.usage.output_tokens,
        },
    )
    add_metric("ResponseInputTokens", response.usage.input_tokens)
    add_metric("ResponseOutputTokens", response.usage.output_tokens)
    return response
