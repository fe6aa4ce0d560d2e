"""The conservation law under faults and duplicates, at a size that fits CI (architecture.md §1, §2).

200 generated reviews over every path, 10% of provider calls failing (throttles, timeouts,
server errors, malformed answers, spread evenly), 20 duplicate deliveries (re-posts, edited
re-posts, redeliveries of the same event); every pending approval decided through its link.
The benchmark-size run (``reviewflow soak --reviews 1000 --duplicates 100``) is in
docs/runbook.md. Measured: ~85 s on 2 cores (1,000 reviews: ~470 s).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from reviewflow.contracts import EnvVar, LocalEnvVar
from reviewflow_local.faults import FaultPlan
from reviewflow_local.pipeline import LocalPipeline
from reviewflow_local.soak import run_soak
from reviewflow_local.soak_report import SoakReport
from reviewflow_local.soak_reviews import KIND_WEIGHTS, generate_reviews, plan_deliveries

REVIEWS, DUPLICATES, FAULT_RATE, SEED = 200, 20, 0.1, 11

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def soaked(
    project_root: Any, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[LocalPipeline, SoakReport]]:
    from reviewflow_local.synth import synthesize

    workdir = tmp_path_factory.mktemp("soak")
    stack = LocalPipeline(
        synthesize(project_root),
        workdir=workdir,
        log_stream=(workdir / "lambda.log").open("a"),
        faults=FaultPlan.parse(str(FAULT_RATE), SEED),
    ).start()
    try:
        report = run_soak(stack, reviews=REVIEWS, duplicates=DUPLICATES, seed=SEED, timeout=600)
        print(report.table())
        yield stack, report
    finally:
        stack.stop()


def test_every_review_has_exactly_one_outcome(soaked: tuple[LocalPipeline, SoakReport]) -> None:
    _, report = soaked
    assert not report.timed_out
    assert report.expected == REVIEWS
    assert report.lost == []
    assert report.duplicated == []
    assert report.unexpected == []
    assert report.outcomes == REVIEWS
    assert sum(report.by_outcome.values()) == REVIEWS


def test_every_failure_carries_a_reason_and_paths_end_where_they_may(
    soaked: tuple[LocalPipeline, SoakReport],
) -> None:
    _, report = soaked
    assert report.without_reason == []
    assert report.wrong_outcome == []
    assert report.ok, report.violations


def test_every_path_was_exercised_and_faults_really_fired(soaked: tuple[LocalPipeline, SoakReport]) -> None:
    stack, report = soaked
    assert set(report.by_kind) == set(KIND_WEIGHTS)
    for label in (
        "created",
        "harmful",
        "failed (invalid_review)",
        "failed (response_toxic)",
        "failed (response_rejected)",
        "failed (provider_error)",
    ):
        assert report.by_outcome[label] > 0, label
    assert report.approvals_decided["APPROVED"] > 0 and report.approvals_decided["REJECTED"] > 0
    injected = report.faults_injected
    # ~2.5% of calls per kind and provider: with a few hundred calls a single pair can stay at
    # zero for a seed, so each provider and each kind must have fired at least once.
    for provider in ("toxicity", "sentiment", "response"):
        assert sum(n for key, n in injected.items() if key.startswith(f"{provider}:")) > 0, provider
    for kind in ("throttle", "timeout", "server_error", "malformed"):
        assert sum(n for key, n in injected.items() if key.endswith(f":{kind}")) > 0, kind
    # Transient faults were retried by the workflow: more calls failed than reviews did.
    assert sum(injected.values()) > report.by_outcome["failed (provider_error)"]
    assert stack.fault_plan.seed == SEED


def test_duplicates_started_no_second_answer(soaked: tuple[LocalPipeline, SoakReport]) -> None:
    stack, report = soaked
    deliveries, redeliveries = plan_deliveries(generate_reviews(REVIEWS, SEED), DUPLICATES, SEED)
    posted = len(deliveries)
    assert posted + len(redeliveries) == REVIEWS + DUPLICATES
    # Every PutEvents entry started one execution; redeliveries of an event started none.
    assert report.redeliveries_started == 0
    assert sum(report.executions.values()) == posted
    assert report.executions == {"SUCCEEDED": posted}
    # The duplicate executions ended at DuplicateDelivery without publishing.
    assert len(stack.flush_outcomes()) == REVIEWS


def test_generation_is_deterministic_for_a_seed() -> None:
    first = [r.detail for r in generate_reviews(50, 5)]
    assert first == [r.detail for r in generate_reviews(50, 5)]
    assert first != [r.detail for r in generate_reviews(50, 6)]
    texts = [d.get("review_text") for d in first if isinstance(d, dict)]
    assert len(set(texts)) > 40  # fault draws are keyed by text: reviews must not share one


def test_faults_are_configured_by_environment_and_wrap_the_configured_provider(
    runtime_env: pytest.MonkeyPatch,
) -> None:
    from reviewflow.errors import ProviderThrottledError
    from reviewflow.providers import registry
    from reviewflow_local.faults import fault_plan_from_env, install_faults

    monkeypatch = runtime_env
    monkeypatch.setenv(LocalEnvVar.FAULTS, "toxicity:throttle=1")
    monkeypatch.setenv(LocalEnvVar.FAULT_SEED, "9")
    plan = fault_plan_from_env()
    assert plan.seed == 9 and plan.rates == {"toxicity": {"throttle": 1.0}}
    monkeypatch.setenv(EnvVar.TOXICITY_PROVIDER, "local")
    monkeypatch.setenv(EnvVar.LLM_PROVIDER, "local")
    registry.reset()
    try:
        injector = install_faults(plan)
        assert injector is not None
        provider = registry.toxicity_provider()
        assert provider.name == f"{registry.configured('toxicity_provider').name}+faults"
        with pytest.raises(ProviderThrottledError):
            provider.score("Nice kettle.", "en")
        assert injector.injected[("toxicity", "throttle")] == 1
        # Providers without a plan are the configured ones, unwrapped.
        assert registry.sentiment_provider() is registry.configured("sentiment_provider")
    finally:
        registry.reset()
    assert install_faults(plan.__class__()) is None  # an empty plan installs nothing
