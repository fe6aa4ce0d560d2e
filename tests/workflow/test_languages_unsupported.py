"""The German and French reviews of ``test_languages``, on a stack whose toxicity provider scores
English only (the default offline ``local``): a person decides before anything is answered."""

from __future__ import annotations

from typing import Any

import pytest

from reviewflow.contracts import OutcomeType
from reviewflow_local.pipeline import LocalPipeline
from tests.workflow.conftest import decide_over_http
from tests.workflow.test_languages import DEADLINE, GREETINGS, REVIEWS, history


@pytest.fixture(scope="module")
def english_only(stack_factory: Any) -> LocalPipeline:
    stack = stack_factory()
    stack.post_reviews(REVIEWS)
    return stack


@pytest.mark.parametrize("review_id", list(GREETINGS))
def test_without_a_provider_for_the_language_a_person_decides(
    english_only: LocalPipeline, review_id: str
) -> None:
    # The review cannot be scored, so a person looks at it; the reply (in the review's language)
    # cannot be scored either, so a person looks at that too before anything is published.
    assert decide_over_http(english_only, review_id, "REVIEW", "APPROVED").status == 200
    assert decide_over_http(english_only, review_id, "RESPONSE", "APPROVED").status == 200
    event = english_only.outcome_for(review_id, timeout=DEADLINE)
    detail = event["detail"]
    greeting, _ = GREETINGS[review_id]
    assert event["detail-type"] == OutcomeType.RESPONSE_CREATED
    assert detail["review_toxicity"]["scorable"] is False
    assert detail["response_toxicity"]["scorable"] is False
    assert detail["decided_by"] == "reviewer"
    assert [d["stage"] for d in detail["human_decisions"]] == ["REVIEW", "RESPONSE"]
    assert detail["response_text"].startswith(greeting)
    states = history(english_only, event)
    assert "HumanReviewOfReview" in states and "HumanReviewOfResponse" in states
