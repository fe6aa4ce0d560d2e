"""Fault plans parse strictly, draw deterministically, and raise the adapters' own error types."""

from __future__ import annotations

import pytest

from reviewflow.errors import (
    MalformedModelOutputError,
    ProviderError,
    ProviderThrottledError,
    ProviderTimeoutError,
)
from reviewflow.models.events import ReviewPosted, ToxicityScore
from reviewflow_local.faults import FaultInjector, FaultPlan, FaultySentiment, FaultyToxicity


def test_bare_rate_spreads_over_every_kind_and_provider() -> None:
    plan = FaultPlan.parse("0.1", seed=3)
    assert set(plan.rates) == {"toxicity", "sentiment", "response"}
    assert sum(plan.rates["toxicity"].values()) == pytest.approx(0.1)
    assert "seed 3" in plan.describe()


def test_clauses_target_providers() -> None:
    plan = FaultPlan.parse("response:throttle=0.2,malformed=0.1; toxicity:timeout=0.05")
    assert plan.rates == {"response": {"throttle": 0.2, "malformed": 0.1}, "toxicity": {"timeout": 0.05}}


@pytest.mark.parametrize(
    "spec",
    [
        "bogus:throttle=0.1",
        "all:explode=0.1",
        "all:throttle=2",
        "1.5",
        "toxicity:throttle=0.6,timeout=0.6",
        "toxicity",
    ],
)
def test_bad_specs_are_refused_with_a_reason(spec: str) -> None:
    with pytest.raises(ValueError):
        FaultPlan.parse(spec)


def test_empty_plan_injects_nothing() -> None:
    injector = FaultInjector(FaultPlan.parse(""))
    assert not injector.plan.active
    assert all(injector.draw("toxicity", f"t{i}") is None for i in range(100))


def test_draws_are_deterministic_for_a_seed_and_close_to_the_rate() -> None:
    def run(seed: int) -> list[str | None]:
        injector = FaultInjector(FaultPlan.parse("toxicity:throttle=0.2", seed=seed))
        return [injector.draw("toxicity", f"text {i}") for i in range(2_000)]

    first, again, other = run(7), run(7), run(8)
    assert first == again
    assert first != other
    assert 0.16 < first.count("throttle") / len(first) < 0.24


def test_a_retry_of_the_same_text_draws_again() -> None:
    injector = FaultInjector(FaultPlan.parse("toxicity:throttle=0.5", seed=1))
    draws = [injector.draw("toxicity", "same text") for _ in range(40)]
    assert None in draws and "throttle" in draws


class _Tox:
    name = "local"

    def score(self, text: str, language: str) -> ToxicityScore:
        return ToxicityScore(score=0.1, provider="local")


@pytest.mark.parametrize(
    ("kind", "error"),
    [
        ("throttle", ProviderThrottledError),
        ("timeout", ProviderTimeoutError),
        ("server_error", ProviderError),
        ("malformed", ProviderError),
    ],
)
def test_wrappers_raise_the_typed_errors(kind: str, error: type[Exception]) -> None:
    injector = FaultInjector(FaultPlan.parse(f"toxicity:{kind}=1"))
    faulty = FaultyToxicity(lambda: _Tox(), injector)
    with pytest.raises(error) as caught:
        faulty.score("hello", "en")
    assert type(caught.value).__name__ == error.__name__
    assert injector.injected[("toxicity", kind)] == 1


def test_malformed_sentiment_is_a_malformed_model_output() -> None:
    injector = FaultInjector(FaultPlan.parse("sentiment:malformed=1"))
    faulty = FaultySentiment(lambda: None, injector)
    review = ReviewPosted(review_id="r", product_id="p", review_text="ok")
    with pytest.raises(MalformedModelOutputError):
        faulty.detect(review)


def test_no_fault_passes_through() -> None:
    faulty = FaultyToxicity(lambda: _Tox(), FaultInjector(FaultPlan.parse("")))
    assert faulty.score("hi", "en").score == 0.1
    assert faulty.name == "local+faults"
