"""What a review makes the services do, measured offline: Comprehend units and prompt tokens from
the sample reviews, handler CPU time from the handlers themselves."""

from __future__ import annotations

import contextlib
import io
import os
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from bench import common
from bench.assumptions import Assumptions
from bench.billing import comprehend_units, guardrail_text_units

if TYPE_CHECKING:  # pragma: no cover - imports for type checkers only
    from reviewflow.models.events import ReviewPosted


@dataclass
class TextWorkload:
    review_requests: float
    review_units: float
    reply_requests: int
    reply_units: int
    review_guardrail_units: float  # Bedrock Guardrails text units (one request per text)
    reply_guardrail_units: int
    sentiment_input_tokens: float
    response_input_tokens: float
    samples: int
    reviews_at_minimum: int  # reviews billed at exactly the minimum units


def _scored_samples() -> list[ReviewPosted]:
    """The sample reviews Comprehend and Bedrock would see: valid and in English."""
    from pydantic import ValidationError

    from reviewflow.models.events import ReviewPosted

    reviews = []
    for sample in common.load_samples():
        try:
            review = ReviewPosted.model_validate(sample)
        except ValidationError:
            continue  # an invalid review never reaches Comprehend or Bedrock
        if review.language == "en":  # other languages go to a person without a Comprehend call
            reviews.append(review)
    return reviews


def text_workload(assume: Assumptions, pricing: dict[str, Any]) -> TextWorkload:
    """Comprehend units and prompt tokens, averaged over the English sample reviews."""
    from reviewflow.domain.prompts import load_prompt, review_fields

    rule = pricing["comprehend"]
    units_rule = {
        "chars_per_unit": rule["characters_per_unit"],
        "minimum_units": rule["minimum_units_per_request"],
    }
    reviews = _scored_samples()
    guardrail_rule = {"chars_per_unit": pricing["bedrock_guardrails"]["characters_per_text_unit"]}
    requests, units, at_minimum, sentiment_chars, response_chars = 0, 0, 0, 0, 0
    guardrail_units = 0
    sentiment_prompt = load_prompt("sentiment", "v1")
    response_prompt = load_prompt("response", assume.response_prompt_version)
    for review in reviews:
        calls, billed = comprehend_units(review.review_text, **units_rule)
        requests += calls
        units += billed
        at_minimum += billed == rule["minimum_units_per_request"] * calls
        guardrail_units += guardrail_text_units(len(review.review_text), **guardrail_rule)
        fields = review_fields(review)
        rendered = sentiment_prompt.render(**fields)
        sentiment_chars += len(rendered.system) + len(rendered.user)
        rendered = response_prompt.render(**fields, sentiment="POSITIVE")
        response_chars += len(rendered.system) + len(rendered.user)
    reply_requests, reply_units = comprehend_units("x" * assume.reply_chars, **units_rule)
    count = len(reviews)
    return TextWorkload(
        review_requests=requests / count,
        review_units=units / count,
        reply_requests=reply_requests,
        reply_units=reply_units,
        review_guardrail_units=guardrail_units / count,
        reply_guardrail_units=guardrail_text_units(assume.reply_chars, **guardrail_rule),
        sentiment_input_tokens=sentiment_chars / count / assume.chars_per_token,
        response_input_tokens=response_chars / count / assume.chars_per_token,
        samples=count,
        reviews_at_minimum=at_minimum,
    )


def measured_handler_cpu(reviews: int = 60) -> tuple[dict[str, float], float]:
    """Warm median time of each handler on the auto path (local providers), and log bytes per call."""
    os.environ.update(common.LOCAL_ENV)
    common.add_source_paths()
    from bench.direct import DirectChain

    chain = DirectChain()
    sink = io.StringIO()
    with contextlib.redirect_stdout(sink):
        for index, review in enumerate(common.auto_path_reviews(reviews + 5, seed=23)):
            chain.run(common.eventbridge_event(review, index), f"arn:aws:states:::execution:bench:{index}")
    # The first calls load models and Powertools: drop them, as a warm Lambda would.
    cpu = {name: common.median(values[5:]) * 1000 for name, values in chain.durations.items() if values}
    calls = sum(len(v) for k, v in chain.durations.items() if ":" not in k)
    return cpu, len(sink.getvalue().encode()) / calls
