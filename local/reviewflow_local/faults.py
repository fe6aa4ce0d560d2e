"""Fault injection for the local runtime: providers that throttle, time out, fail or answer
garbage at configured rates, so the workflow's real Retry and Catch are what gets exercised.

A plan is configuration, never a code edit: ``reviewflow run --faults SPEC --seed N`` or the
``REVIEWFLOW_FAULTS`` / ``REVIEWFLOW_FAULT_SEED`` environment variables. SPEC is a ``;``-separated
list of ``provider:kind=rate,...`` where provider is ``toxicity``, ``sentiment``, ``response`` or
``all`` and kind is ``throttle``, ``timeout``, ``server_error`` or ``malformed``; a bare number
(``0.1``) spreads that rate evenly over every kind of every provider. ``insights`` (the insight
branch's extractor) takes faults only from a clause that names it.

Decisions are deterministic for a seed whatever the thread interleaving: each call is decided by
``(seed, provider, text, n)`` where n counts the calls for that text, so a retry of the same call
draws again, as a real transient fault would.
"""

from __future__ import annotations

import hashlib
import os
import random
import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from reviewflow.contracts import LocalEnvVar
from reviewflow.domain.insights import ExtractedInsights
from reviewflow.errors import (
    MalformedModelOutputError,
    ProviderError,
    ProviderThrottledError,
    ProviderTimeoutError,
)
from reviewflow.models.events import ReviewPosted, ToxicityScore
from reviewflow.models.steps import GeneratedResponse, SentimentResult

PROVIDERS = ("toxicity", "sentiment", "response")
#: Providers faults reach only when a clause names them: a bare rate and ``all`` keep meaning the
#: reply path's three, so seeded runs from before the insight branch stay comparable.
NAMED_ONLY = ("insights",)
KINDS = ("throttle", "timeout", "server_error", "malformed")


@dataclass(frozen=True)
class FaultPlan:
    rates: dict[str, dict[str, float]] = field(default_factory=dict)
    seed: int = 0

    @classmethod
    def parse(cls, spec: str | None, seed: int = 0) -> FaultPlan:
        spec = (spec or "").strip()
        if not spec:
            return cls({}, seed)
        total = _number(spec)
        if total is not None:
            share = _check_rate(total, spec) / len(KINDS)
            return cls({p: dict.fromkeys(KINDS, share) for p in PROVIDERS}, seed)
        rates: dict[str, dict[str, float]] = {p: {} for p in (*PROVIDERS, *NAMED_ONLY)}
        for clause in filter(None, (c.strip() for c in spec.split(";"))):
            for provider, kind, rate in _parse_clause(clause):
                rates[provider][kind] = rate
        for provider, kinds in rates.items():
            if sum(kinds.values()) > 1:
                raise ValueError(f"fault rates for {provider} add up to more than 1")
        return cls({p: k for p, k in rates.items() if k}, seed)

    @property
    def active(self) -> bool:
        return any(self.rates.values())

    def describe(self) -> str:
        if not self.active:
            return "no faults"
        parts = [
            f"{provider}:" + ",".join(f"{kind}={rate:g}" for kind, rate in kinds.items())
            for provider, kinds in self.rates.items()
        ]
        return "; ".join(parts) + f" (seed {self.seed})"


def _number(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


def _parse_clause(clause: str) -> list[tuple[str, str, float]]:
    """``provider:kind=rate,...`` -> one (provider, kind, rate) per provider the clause names."""
    provider, _, body = clause.partition(":")
    targets = PROVIDERS if provider == "all" else (provider,)
    if not body or any(t not in (*PROVIDERS, *NAMED_ONLY) for t in targets):
        raise ValueError(
            f"fault clause {clause!r}: expected provider:kind=rate with provider in {(*PROVIDERS, 'all')}"
        )
    parsed: list[tuple[str, str, float]] = []
    for item in body.split(","):
        kind, _, value = item.partition("=")
        kind = kind.strip()
        if kind not in KINDS:
            raise ValueError(f"fault kind {kind!r} unknown; use one of {KINDS}")
        rate = _check_rate(float(value), item)
        parsed += [(target, kind, rate) for target in targets]
    return parsed


def _check_rate(rate: float, text: str) -> float:
    if not 0 <= rate <= 1:
        raise ValueError(f"fault rate in {text!r} must be between 0 and 1")
    return rate


class FaultInjector:
    """Decides, per call, whether and how a provider fails; counts what it injected."""

    def __init__(self, plan: FaultPlan) -> None:
        self.plan = plan
        self._calls: Counter[tuple[str, str]] = Counter()
        self.injected: Counter[tuple[str, str]] = Counter()
        self._lock = threading.Lock()

    def draw(self, provider: str, text: str) -> str | None:
        rates = self.plan.rates.get(provider)
        if not rates:
            return None
        digest = hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:16]
        with self._lock:
            self._calls[(provider, digest)] += 1
            n = self._calls[(provider, digest)]
        roll = random.Random(f"{self.plan.seed}:{provider}:{digest}:{n}").random()  # noqa: S311 - not crypto
        threshold = 0.0
        for kind, rate in rates.items():
            threshold += rate
            if roll < threshold:
                with self._lock:
                    self.injected[(provider, kind)] += 1
                return kind
        return None

    def fail(self, provider: str, kind: str) -> None:
        """Raise exactly what the real adapters raise for this kind of fault."""
        label = f"injected {kind} in {provider}"
        if kind == "throttle":
            raise ProviderThrottledError(label)
        if kind == "timeout":
            raise ProviderTimeoutError(label)
        if kind == "malformed" and provider != "toxicity":
            raise MalformedModelOutputError(label)
        raise ProviderError(label)


class _Faulty:
    provider: str

    def __init__(self, inner: Callable[[], Any], injector: FaultInjector) -> None:
        self._inner = inner
        self._injector = injector

    @property
    def name(self) -> str:
        return f"{self._inner().name}+faults"

    def _maybe_fail(self, text: str) -> None:
        kind = self._injector.draw(self.provider, text)
        if kind is not None:
            self._injector.fail(self.provider, kind)


class FaultyToxicity(_Faulty):
    provider = "toxicity"

    def score(self, text: str, language: str) -> ToxicityScore:
        self._maybe_fail(text)
        return self._inner().score(text, language)  # type: ignore[no-any-return]


class FaultySentiment(_Faulty):
    provider = "sentiment"

    def detect(self, review: ReviewPosted) -> SentimentResult:
        self._maybe_fail(review.review_text)
        return self._inner().detect(review)  # type: ignore[no-any-return]


class FaultyResponseWriter(_Faulty):
    provider = "response"

    def write(
        self, review: ReviewPosted, sentiment: SentimentResult, *, guidance: str | None = None
    ) -> GeneratedResponse:
        self._maybe_fail(review.review_text)
        if guidance is None:
            return self._inner().write(review, sentiment)  # type: ignore[no-any-return]
        return self._inner().write(review, sentiment, guidance=guidance)  # type: ignore[no-any-return]


class FaultyInsights(_Faulty):
    provider = "insights"

    @property
    def name(self) -> str:
        return f"{type(self._inner()).__name__}+faults"

    def extract(self, review: ReviewPosted) -> ExtractedInsights:
        self._maybe_fail(review.review_text)
        return self._inner().extract(review)  # type: ignore[no-any-return]


_WRAPPERS: tuple[tuple[str, type[_Faulty]], ...] = (
    ("toxicity_provider", FaultyToxicity),
    ("sentiment_provider", FaultySentiment),
    ("response_writer", FaultyResponseWriter),
    ("insight_extractor", FaultyInsights),
)


def fault_plan_from_env() -> FaultPlan:
    """``REVIEWFLOW_FAULTS`` / ``REVIEWFLOW_FAULT_SEED``: faults configured without a code edit."""
    return FaultPlan.parse(
        os.environ.get(LocalEnvVar.FAULTS), int(os.environ.get(LocalEnvVar.FAULT_SEED) or 0)
    )


def install_faults(plan: FaultPlan) -> FaultInjector | None:
    """Wrap each provider the plan targets in its fault-injecting twin; the inner provider is
    resolved per call, so it is the one the running function's configuration selects."""
    if not plan.active:
        return None
    from reviewflow.providers import registry

    injector = FaultInjector(plan)
    for name, wrapper in _WRAPPERS:
        if plan.rates.get(wrapper.provider):
            registry.set_override(name, wrapper(_configured(registry, name), injector))
    return injector


def _configured(registry: Any, name: str) -> Callable[[], Any]:
    return lambda: registry.configured(name)
