"""``ChatModel`` over any OpenAI-compatible ``/chat/completions`` endpoint.

This is how a real model is reached outside AWS (a local model server, a hosted gateway). It
uses only the standard library so the Lambda asset gains no dependency. The HTTP call goes
through an injectable ``transport`` so tests exercise every branch without opening a socket.
Finish reasons are mapped onto Bedrock's stop-reason words, so the domain checks one vocabulary.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Sequence
from typing import Any

from reviewflow.errors import ConfigurationError, ProviderError, ProviderThrottledError, ProviderTimeoutError
from reviewflow.models.chat import ChatMessage, ChatReply
from reviewflow.models.steps import TokenUsage

# (request, timeout in seconds) -> (HTTP status, response body). Raises TimeoutError or OSError
# (urllib.error.URLError is one) when no HTTP answer arrives.
Transport = Callable[[urllib.request.Request, float], tuple[int, bytes]]

FINISH_TO_STOP_REASON = {
    "stop": "end_turn",
    "length": "max_tokens",
    "content_filter": "content_filtered",
    "tool_calls": "tool_use",
}


def urllib_transport(request: urllib.request.Request, timeout: float) -> tuple[int, bytes]:
    """The real transport: ``urlopen``, with HTTP error statuses returned instead of raised."""
    try:
        # The scheme is checked to be http(s) when the model is built.
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            return int(response.status), response.read()
    except urllib.error.HTTPError as exc:
        body = exc.read() if exc.fp is not None else b""
        exc.close()
        return int(exc.code), body


class OpenAICompatibleChatModel:
    def __init__(
        self,
        *,
        base_url: str,
        model_id: str,
        api_key: str = "",
        timeout_seconds: float = 60.0,
        transport: Transport | None = None,
    ):
        scheme = urllib.parse.urlsplit(base_url).scheme
        if scheme not in ("http", "https"):
            raise ConfigurationError("REVIEWFLOW_OPENAI_BASE_URL must be an http:// or https:// URL")
        self._url = base_url.rstrip("/") + "/chat/completions"
        self.model_id = model_id
        self._api_key = api_key
        self._timeout = timeout_seconds
        self._transport = transport or urllib_transport

    def __repr__(self) -> str:  # keeps the API key out of any accidental log line
        return f"OpenAICompatibleChatModel(url={self._url!r}, model_id={self.model_id!r})"

    def converse(
        self,
        system: str,
        messages: Sequence[ChatMessage],
        *,
        max_tokens: int,
        temperature: float,
    ) -> ChatReply:
        body = {
            "model": self.model_id,
            "messages": [{"role": "system", "content": system}]
            + [{"role": m.role, "content": m.text} for m in messages],
            "max_tokens": max_tokens,
            "temperature": temperature,
        }
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if self._api_key:
            headers["Authorization"] = f"Bearer {self._api_key}"
        request = urllib.request.Request(  # noqa: S310 - scheme checked in __init__
            self._url, data=json.dumps(body).encode("utf-8"), headers=headers, method="POST"
        )
        where = f"chat completion with {self.model_id}"
        try:
            status, payload = self._transport(request, self._timeout)
        except TimeoutError as exc:
            raise ProviderTimeoutError(f"{where} timed out after {self._timeout:g} s") from exc
        except OSError as exc:  # URLError (refused, DNS, reset): the server may be back next time
            raise ProviderTimeoutError(f"{where} failed: {type(exc).__name__}") from exc
        if status == 429:
            raise ProviderThrottledError(f"{where} was throttled (HTTP 429)")
        if status >= 500 or status == 408:
            raise ProviderTimeoutError(f"{where} failed with HTTP {status}")
        if status >= 400 or status < 200:
            raise ProviderError(f"{where} was refused with HTTP {status}")
        return self._reply(payload, where)

    def _reply(self, payload: bytes, where: str) -> ChatReply:
        try:
            document: Any = json.loads(payload)
            choice = document["choices"][0]
            text = choice["message"].get("content") or ""
        except (ValueError, KeyError, IndexError, TypeError, AttributeError) as exc:
            raise ProviderError(f"{where} answered with an unexpected body") from exc
        if not isinstance(text, str):
            raise ProviderError(f"{where} answered with non-text content")
        usage = document.get("usage") or {}
        finish = choice.get("finish_reason")
        return ChatReply(
            text=text,
            model_id=self.model_id,
            usage=TokenUsage(
                input_tokens=int(usage.get("prompt_tokens") or 0),
                output_tokens=int(usage.get("completion_tokens") or 0),
            ),
            stop_reason=FINISH_TO_STOP_REASON.get(finish, finish) if finish else None,
        )
