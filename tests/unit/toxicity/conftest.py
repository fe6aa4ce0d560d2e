"""Fixtures for the toxicity tests: unit tier isolation and a Stubber-wrapped Comprehend client."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber


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
