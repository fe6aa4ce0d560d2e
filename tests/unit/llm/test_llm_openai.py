"""OpenAICompatibleChatModel over an injected transport: request shape and error mapping."""

from __future__ import annotations

import json
import urllib.error

import pytest

from reviewflow.errors import (
    ConfigurationError,
    ProviderError,
    ProviderThrottledError,
    ProviderTimeoutError,
)
from reviewflow.models.chat import ChatMessage
from reviewflow.models.steps import TokenUsage
from reviewflow.providers.openai_compatible import OpenAICompatibleChatModel


class RecordingTransport:
    def __init__(self, status=200, body=None, raises=None):
        self.status, self.raises = status, raises
        self.body = body if body is not None else b"{}"
        self.requests = []

    def __call__(self, request, timeout):
        self.requests.append((request, timeout))
        if self.raises is not None:
            raise self.raises
        return self.status, self.body


def _completion(content="Thanks, Dana!", finish="stop", usage=True):
    document = {
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "model": "served-name",
        "choices": [
            {"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": finish}
        ],
    }
    if usage:
        document["usage"] = {"prompt_tokens": 42, "completion_tokens": 7, "total_tokens": 49}
    return json.dumps(document).encode()


def _model(transport, api_key="sk-test-not-real"):
    return OpenAICompatibleChatModel(
        base_url="http://127.0.0.1:8080/v1/",
        model_id="llama-3.1-8b-instruct",
        api_key=api_key,
        timeout_seconds=12.5,
        transport=transport,
    )


def _call(model):
    return model.converse(
        "system text",
        [ChatMessage("user", "hi"), ChatMessage("assistant", "{bad}"), ChatMessage("user", "again")],
        max_tokens=100,
        temperature=0.1,
    )


def test_posts_the_chat_completions_body_and_reads_the_reply():
    transport = RecordingTransport(body=_completion())
    reply = _call(_model(transport))
    (request, timeout), *_ = transport.requests
    assert request.full_url == "http://127.0.0.1:8080/v1/chat/completions"
    assert request.get_method() == "POST"
    assert timeout == 12.5
    assert request.get_header("Content-type") == "application/json"
    assert request.get_header("Authorization") == "Bearer sk-test-not-real"
    assert json.loads(request.data) == {
        "model": "llama-3.1-8b-instruct",
        "messages": [
            {"role": "system", "content": "system text"},
            {"role": "user", "content": "hi"},
            {"role": "assistant", "content": "{bad}"},
            {"role": "user", "content": "again"},
        ],
        "max_tokens": 100,
        "temperature": 0.1,
    }
    assert reply.text == "Thanks, Dana!"
    assert reply.model_id == "llama-3.1-8b-instruct"
    assert reply.usage == TokenUsage(input_tokens=42, output_tokens=7)
    assert reply.stop_reason == "end_turn"


def test_no_api_key_sends_no_authorization_header_and_missing_usage_is_zero():
    transport = RecordingTransport(body=_completion(usage=False, finish="length", content=None))
    reply = _call(_model(transport, api_key=""))
    assert transport.requests[0][0].get_header("Authorization") is None
    assert reply.usage == TokenUsage()
    assert reply.stop_reason == "max_tokens"
    assert reply.text == ""


def test_the_api_key_never_shows_in_repr():
    assert "sk-test-not-real" not in repr(_model(RecordingTransport()))


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        (429, ProviderThrottledError),
        (500, ProviderTimeoutError),
        (502, ProviderTimeoutError),
        (503, ProviderTimeoutError),
        (408, ProviderTimeoutError),
        (400, ProviderError),
        (401, ProviderError),
        (404, ProviderError),
    ],
)
def test_http_statuses_map_to_typed_errors(status, expected):
    with pytest.raises(ProviderError) as caught:
        _call(_model(RecordingTransport(status=status, body=b'{"error": {"message": "nope"}}')))
    assert type(caught.value) is expected
    assert str(status) in str(caught.value)


@pytest.mark.parametrize(
    "failure",
    [TimeoutError("timed out"), urllib.error.URLError(ConnectionRefusedError(111, "refused"))],
)
def test_timeouts_and_unreachable_servers_are_retryable_timeouts(failure):
    with pytest.raises(ProviderTimeoutError) as caught:
        _call(_model(RecordingTransport(raises=failure)))
    assert caught.value.__cause__ is failure


@pytest.mark.parametrize(
    "body", [b"not json", b"{}", b'{"choices": []}', b'{"choices": [{"message": {"content": 5}}]}']
)
def test_unexpected_bodies_are_provider_errors(body):
    with pytest.raises(ProviderError) as caught:
        _call(_model(RecordingTransport(body=body)))
    assert type(caught.value) is ProviderError


@pytest.mark.parametrize("url", ["file:///etc/passwd", "ftp://host/v1", "localhost:8080"])
def test_only_http_urls_are_accepted(url):
    with pytest.raises(ConfigurationError):
        OpenAICompatibleChatModel(base_url=url, model_id="m")
