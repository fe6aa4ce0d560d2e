"""``ChatModel`` over the Bedrock Runtime Converse API.

Converse gives one request and response shape for every model family, so nothing here knows
which model runs: ``model_id`` may be a model id, an inference profile id or an inference
profile / provisioned model ARN. Errors are classified by their code into the typed errors the
workflow's Retry and Catch match on.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from botocore.exceptions import ClientError, HTTPClientError
from botocore.exceptions import ConnectionError as BotocoreConnectionError

from reviewflow.errors import ProviderError, ProviderThrottledError, ProviderTimeoutError
from reviewflow.models.chat import ChatMessage, ChatReply
from reviewflow.models.steps import TokenUsage

THROTTLED_CODES = frozenset({"ThrottlingException", "ServiceQuotaExceededException"})
TRANSIENT_CODES = frozenset(
    {
        "ModelTimeoutException",
        "InternalServerException",
        "ServiceUnavailableException",
        "ModelNotReadyException",
    }
)
# Named for the record; any other code below HTTP 500 is treated the same way.
PERMANENT_CODES = frozenset(
    {"ValidationException", "AccessDeniedException", "ResourceNotFoundException", "ModelErrorException"}
)


def classify_client_error(exc: ClientError, model_id: str) -> ProviderError:
    """The typed error for a Converse ``ClientError``, decided by code (then HTTP status)."""
    error = exc.response.get("Error", {})
    code = str(error.get("Code", "Unknown"))
    status = int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0)
    detail = f"bedrock converse with {model_id} failed: {code}"
    if code in THROTTLED_CODES:
        return ProviderThrottledError(detail)
    if code in TRANSIENT_CODES:
        return ProviderTimeoutError(detail)
    if code not in PERMANENT_CODES and status >= 500:
        return ProviderTimeoutError(detail)
    return ProviderError(detail)


class BedrockChatModel:
    def __init__(self, client: Any, model_id: str):
        self._client = client
        self.model_id = model_id

    def converse(
        self,
        system: str,
        messages: Sequence[ChatMessage],
        *,
        max_tokens: int,
        temperature: float,
    ) -> ChatReply:
        try:
            response = self._client.converse(
                modelId=self.model_id,
                system=[{"text": system}],
                messages=[{"role": m.role, "content": [{"text": m.text}]} for m in messages],
                inferenceConfig={"maxTokens": max_tokens, "temperature": temperature},
            )
        except ClientError as exc:
            raise classify_client_error(exc, self.model_id) from exc
        except (BotocoreConnectionError, HTTPClientError) as exc:
            # Read and connect timeouts, dropped connections: the service may answer next time.
            raise ProviderTimeoutError(
                f"bedrock converse with {self.model_id} failed: {type(exc).__name__}"
            ) from exc
        content = response.get("output", {}).get("message", {}).get("content", [])
        # Only text blocks form the answer (reasoning or other blocks some models add are skipped).
        text = "".join(block["text"] for block in content if isinstance(block.get("text"), str))
        usage = response.get("usage", {})
        return ChatReply(
            text=text,
            model_id=self.model_id,
            usage=TokenUsage(
                input_tokens=int(usage.get("inputTokens", 0)), output_tokens=int(usage.get("outputTokens", 0))
            ),
            stop_reason=response.get("stopReason"),
        )
