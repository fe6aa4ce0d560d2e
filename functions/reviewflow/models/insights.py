"""Product feedback extracted from a review: the fourth subtask of the prompt chain.

A ``ProductFeedback`` is what the insight branch of the workflow produces for one review that is
cleared to be answered. It is published as ``PRODUCT_FEEDBACK_EXTRACTED`` (not an outcome) and
stored by product in the insights table:

- ``pk = "product#<product_id>"``, ``sk = "<extracted_at>#<review_id>"`` (ISO 8601 UTC, so a
  period is a key range), attribute ``feedback`` = the model's JSON, ``ttl`` = epoch seconds.
- ``pk = "products"``, ``sk = "<product_id>"``: one marker per product ever seen (the report job
  lists products from it without a scan), attribute ``last_extracted_at``.

The report job (``domain/insights_report.py``) reads both.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Polarity = Literal["positive", "negative", "neutral"]

#: extractor id of the offline, deterministic extractor (aspect lexicon + sentence sentiment).
LOCAL_EXTRACTOR_ID = "local/aspect-lexicon"
MAX_INSIGHTS = 8


class Insight(BaseModel):
    """One product aspect a review talks about."""

    model_config = ConfigDict(extra="forbid")

    aspect: str = Field(
        min_length=1, max_length=60, description="lower-case noun phrase, e.g. 'battery life'"
    )
    polarity: Polarity
    severity: int = Field(ge=1, le=5, description="1 = minor remark … 5 = product unusable or unsafe")
    suggestion: str = Field(max_length=240, description="a short improvement suggestion ('' for praise)")
    evidence: str = Field(
        min_length=1, max_length=240, description="the supporting phrase, verbatim from the review"
    )


class ProductFeedback(BaseModel):
    """The insight branch's result for one review (also the event detail and the stored item)."""

    model_config = ConfigDict(extra="forbid")

    review_id: str
    product_id: str
    product_name: str | None = None
    execution_id: str | None = None
    language: str = "en"
    rating: int | None = None
    extracted_at: str
    extractor: str = Field(description="model id, or LOCAL_EXTRACTOR_ID offline")
    prompt_version: str | None = Field(default=None, description="e.g. insights/v1; None offline")
    insights: list[Insight] = Field(default_factory=list, max_length=MAX_INSIGHTS)
    dropped: int = Field(default=0, ge=0, description="items the parser dropped as malformed")
