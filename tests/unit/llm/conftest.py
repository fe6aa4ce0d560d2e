"""Fixtures for the sentiment and reply tests: isolation, a sample review, golden files, stubbed Bedrock."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from reviewflow.models.events import ReviewPosted

GOLDEN = Path(__file__).parent / "golden"


@pytest.fixture
def sample_review() -> ReviewPosted:
    return ReviewPosted(
        review_id="rev-0001",
        product_id="sku-kettle-7",
        review_text=(
            "Boils fast and the {temperature} dial is handy, but the lid squeaks.\n"
            "Paid $49 and would buy it again."
        ),
        rating=4,
        product_name="Aurora Kettle 1.7 L",
        reviewer_name="Dana",
        language="en",
    )


@pytest.fixture
def golden() -> Callable[[str, str], str]:
    """``golden(name, actual)``: the pinned text; ``UPDATE_GOLDEN=1`` rewrites it."""

    def read(name: str, actual: str) -> str:
        path = GOLDEN / name
        if os.environ.get("UPDATE_GOLDEN") == "1":
            path.write_text(actual, encoding="utf-8")
        return path.read_text(encoding="utf-8")

    return read


@pytest.fixture
def bedrock() -> Iterator[tuple[Any, Stubber]]:
    """A real bedrock-runtime client whose calls are checked against the API model by Stubber."""
    client = boto3.client("bedrock-runtime", region_name="us-east-1")
    with Stubber(client) as stubber:
        yield client, stubber
        stubber.assert_no_pending_responses()
