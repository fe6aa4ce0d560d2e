"""Scoring one text for toxicity: what both providers share, and the step the handler calls.

A provider scores segments; this module turns segment results into the text's ``ToxicityScore``
(maximum over segments, overall and per label: docs/architecture.md, "Scoring") and builds the result for
text no provider can score, which the workflow always routes to a person, as it routes a text whose
provider found something that needs a person (``needs_person``, e.g. a prompt attack in a review).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from reviewflow.domain.ports import ToxicityProvider
from reviewflow.models.events import ToxicityScore
from reviewflow.models.steps import ToxicityRequest
from reviewflow.observability import add_metric, get_logger


class SegmentMaxima:
    """Running maximum of the overall score and of each label's score over scored segments."""

    def __init__(self) -> None:
        self.score: float | None = None
        self.labels: dict[str, float] = {}
        self.segments = 0

    def add(self, score: float, labels: Mapping[str, float]) -> None:
        self.segments += 1
        self.score = score if self.score is None else max(self.score, score)
        for name, value in labels.items():
            self.labels[name] = max(self.labels.get(name, value), value)

    def extend(self, results: Iterable[tuple[float, Mapping[str, float]]]) -> None:
        for score, labels in results:
            self.add(score, labels)

    def result(self, provider: str, calls: int) -> ToxicityScore:
        if self.score is None:
            return unscorable(provider, "the text has no characters to score", calls=calls)
        return ToxicityScore(
            score=_unit(self.score),
            labels={name: _unit(value) for name, value in sorted(self.labels.items())},
            scorable=True,
            provider=provider,
            segments=self.segments,
            calls=calls,
        )


def unscorable(provider: str, note: str, *, segments: int = 0, calls: int = 0) -> ToxicityScore:
    return ToxicityScore(
        score=None, scorable=False, provider=provider, segments=segments, calls=calls, note=note
    )


def unsupported_language(provider: str, language: str, service: str, *, calls: int = 0) -> ToxicityScore:
    return unscorable(
        provider, f"language {language!r} is not supported by {service} toxicity detection", calls=calls
    )


def _unit(value: float) -> float:
    """Clamp into [0, 1]: a provider rounding to 1.0000001 must not fail the whole review."""
    return min(1.0, max(0.0, float(value)))


def score_toxicity(request: ToxicityRequest, provider: ToxicityProvider) -> ToxicityScore:
    """Score one text with the given provider, logging its shape (never its content)."""
    result = provider.score(request.text, request.language)
    get_logger().info(
        "toxicity scored",
        extra={
            "stage": request.stage.value,
            "language": request.language,
            "provider": result.provider,
            "scorable": result.scorable,
            "score": result.score,
            "labels": result.labels,
            "segments": result.segments,
            "calls": result.calls,
            "findings": result.findings,
            "needs_person": result.needs_person,
            "billed_units": result.billed_units,
            "text_chars": len(request.text),
        },
    )
    add_metric("ToxicityProviderCalls", result.calls)
    for unit, count in result.billed_units.items():
        add_metric(f"ToxicityBilled.{unit}", count)
    if not result.scorable:
        add_metric("ToxicityUnscorable", 1)
    if result.needs_person:
        add_metric("ToxicityNeedsPerson", 1)
    return result
