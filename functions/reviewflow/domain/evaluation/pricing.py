"""The project's pricing table, read from the Lambda asset, and the token prices of a model.

``functions/pricing/pricing.json`` is the one place prices live (the cost benchmark reads it
too). The evaluation report prices a candidate's tokens from its ``bedrock.per_1k_tokens``
section: the model id as given, or — for an inference-profile or model ARN — the resource id after
the ARN's last ``/``. A model the table does not list (a local model, the template responder, an
OpenAI-compatible endpoint) is *unpriced*: the report says so instead of inventing a price.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import reviewflow
from reviewflow.errors import ConfigurationError


def pricing_path() -> Path:
    """``functions/pricing/pricing.json``: beside the ``reviewflow`` package in the code asset."""
    return Path(reviewflow.__file__).resolve().parent.parent / "pricing" / "pricing.json"


def load_pricing(path: Path | None = None) -> dict[str, Any]:
    """The pricing table as a fresh dict (callers may change their copy)."""
    where = path or pricing_path()
    try:
        document = json.loads(where.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigurationError(f"pricing table not found: {where.name}") from None
    except ValueError as exc:
        raise ConfigurationError(f"pricing table {where.name} is not JSON: {exc}") from exc
    if not isinstance(document, dict):
        raise ConfigurationError(f"pricing table {where.name} is not a JSON object")
    return document


@dataclass(frozen=True)
class TokenPrices:
    """USD (or the table's currency) per 1,000 tokens, and the table key they were found under."""

    key: str
    input_per_1k: float
    output_per_1k: float


def token_prices(pricing: dict[str, Any], model_id: str) -> TokenPrices | None:
    """The per-1k-token prices of ``model_id`` in the table, or ``None`` when it is not listed."""
    table = pricing.get("bedrock", {}).get("per_1k_tokens", {})
    keys = [model_id]
    if model_id.startswith("arn:") and "/" in model_id:
        keys.append(model_id.rsplit("/", 1)[1])
    for key in keys:
        prices = table.get(key)
        if isinstance(prices, dict) and "input" in prices and "output" in prices:
            return TokenPrices(
                key=key, input_per_1k=float(prices["input"]), output_per_1k=float(prices["output"])
            )
    return None
