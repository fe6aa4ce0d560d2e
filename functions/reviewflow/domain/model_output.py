"""Reading the JSON a language model was asked for out of what it actually answered.

Models wrap JSON in code fences or prose; the sentiment step and the LLM judge both take the first
JSON object found and then validate it strictly, so the leniency is here, once.
"""

from __future__ import annotations

import json
import re
from typing import Any

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
