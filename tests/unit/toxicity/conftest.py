"""Fixtures for the toxicity tests: unit tier isolation and a Stubber-wrapped Comprehend client."""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber
from reviewflow.config import get_settings
from reviewflow.providers import registry


@pytest.fixture(autouse=True)
def _isolated(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """No network use, and no settings or providers leaking between tests."""

    def refuse(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("unit tests must not open sockets")

    # Creating a socket is allowed (the X-Ray SDK makes an idle UDP one on import); using one is not.
    for method in ("connect", "connect_ex", "send", "sendto", "sendall"):
        monkeypatch.setattr(socket.socket, method, refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    for name in [key for key in os.environ if key.startswith("REVIEWFLOW_")]:
        monkeypatch.delenv(name)
    registry.reset()
    get_settings.cache_clear()
    yield
    registry.reset()
    get_settings.cache_clear()


@pytest.fixture
def comprehend() -> Iterator[tuple[Any, Stubber]]:
    """A real Comprehend client whose calls Stubber checks against the service model."""
    client = boto3.client("comprehend", region_name="us-east-1")
    with Stubber(client) as stubber:
        yield client, stubber
        stubber.assert_no_pending_responses()


@pytest.fixture
def sent_segments(comprehend: tuple[Any, Stubber]) -> list[list[str]]:
    """The TextSegments of every DetectToxicContent request, as the client received them."""
    client, _ = comprehend
    sent: list[list[str]] = []

    def record(params: dict[str, Any], **_: Any) -> None:
        sent.append([segment["Text"] for segment in params["TextSegments"]])

    client.meta.events.register("provide-client-params.comprehend.DetectToxicContent", record)
    return sent
