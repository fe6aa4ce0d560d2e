"""Reviews in German and French: answered automatically, in their language, when the configured
toxicity provider scores that language; sent to a person when it does not.

This module's stack runs with ``toxicity_provider: local-multilingual`` (the offline word-list
stand-in, which says what it is on every score); ``test_languages_unsupported`` posts the same
reviews to a stack with the default ``local`` provider (English only). moto is process-global, so
each stack has its own module.
"""

from __future__ import annotations

from typing import Any

import pytest

from reviewflow.contracts import OutcomeType
from reviewflow_local.pipeline import LocalPipeline
from tests.workflow.conftest import entered_states, wait_until

DEADLINE = 60.0

REVIEWS = [
    {
        "review_id": "wf-lang-de",
        "product_id": "kettle-200",
        "product_name": "Aurora Wasserkocher",
        "reviewer_name": "Jonas",
        "rating": 5,
        "language": "de",
        "review_text": "Kocht schnell und leise, der Griff bleibt kühl. Sehr zufrieden.",
    },
    {
        "review_id": "wf-lang-fr",
        "product_id": "kettle-200",
        "reviewer_name": "Camille",
        "rating": 4,
        "language": "fr",
        "review_text": "Bouilloire rapide et silencieuse, la poignée reste froide. Très contente.",
    },
]
GREETINGS = {"wf-lang-de": ("Hallo Jonas,", "de"), "wf-lang-fr": ("Bonjour Camille,", "fr")}


def history(stack: LocalPipeline, event: dict[str, Any]) -> list[str]:
    arn = event["detail"]["execution_id"]
    sfn = stack.client("stepfunctions")
    wait_until(lambda: sfn.describe_execution(executionArn=arn)["status"] != "RUNNING", DEADLINE, "the end")
    return entered_states(stack.history(arn))


@pytest.fixture(scope="module")
def multilingual(stack_factory: Any) -> LocalPipeline:
    stack = stack_factory({"toxicity_provider": "local-multilingual"})
    stack.post_reviews(REVIEWS)
    return stack


@pytest.mark.parametrize("review_id", list(GREETINGS))
def test_a_supported_language_is_answered_automatically_in_that_language(
    multilingual: LocalPipeline, review_id: str
) -> None:
    event = multilingual.outcome_for(review_id, timeout=DEADLINE)
    detail = event["detail"]
    greeting, language = GREETINGS[review_id]
    assert event["detail-type"] == OutcomeType.RESPONSE_CREATED
    assert detail["decided_by"] == "auto"
    assert detail["review_toxicity"]["scorable"] is True
    assert f"{language!r} scored with word lists only" in detail["review_toxicity"]["note"]
    assert detail["response_text"].startswith(greeting)
    assert detail["response_toxicity"]["scorable"] is True  # the reply, in that language, was scored
    assert detail.get("human_decisions", []) == []
    states = history(multilingual, event)
    assert not any(state.startswith("HumanReview") for state in states)
