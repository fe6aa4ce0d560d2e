"""Every path of architecture.md §1, end to end: outcome event fields and the execution history.

All scenario reviews are posted at once (the executions run concurrently, as in AWS); each test
then waits, with a deadline, for its own review's outcome. Human decisions go through the
emailed link and the HTTP approval routes read from the template, like a browser.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from reviewflow.contracts import OUTCOME_SOURCE, OutcomeType
from reviewflow.errors import ProviderThrottledError
from reviewflow.models.events import ReviewPosted
from reviewflow.models.steps import SentimentResult
from reviewflow.providers import registry
from reviewflow_local.pipeline import LocalPipeline
from tests.workflow.conftest import decide_over_http, entered_states, outbox_message_for, wait_until

CREATED, HARMFUL, FAILED = (
    OutcomeType.RESPONSE_CREATED,
    OutcomeType.HARMFUL_CONTENT,
    OutcomeType.GENERATION_FAILED,
)
# The workflow's retries back off 1, 2, 4, 8 s (with jitter) before the Catch: allow for them.
RETRY_DEADLINE = 90.0
DEADLINE = 45.0

REVIEWS: dict[str, dict[str, Any]] = {
    review["review_id"]: review
    for review in [
        {
            "review_id": "wf-safe",
            "product_id": "kettle-200",
            "product_name": "Aurora Kettle",
            "rating": 5,
            "reviewer_name": "Maria",
            "review_text": "Boils quickly, quiet, and the handle stays cool. Very happy with it.",
        },
        {
            "review_id": "wf-harmful",
            "product_id": "case-9",
            "rating": 1,
            "review_text": "This case is shit and the seller is a fucking idiot.",
        },
        {
            "review_id": "wf-review-approve",
            "product_id": "toaster-4",
            "rating": 2,
            "review_text": "This toaster sucks. Burns one side and leaves the other pale.",
        },
        {
            "review_id": "wf-review-reject",
            "product_id": "toaster-4",
            "rating": 2,
            "review_text": "What a load of crap, the toaster sucks.",
        },
        # The offline responder greets the reviewer by name: a rude name makes the reply uncertain.
        {
            "review_id": "wf-reply-approve",
            "product_id": "mug-1",
            "product_name": "Classic Mug",
            "reviewer_name": "Damn Hell",
            "rating": 5,
            "review_text": "Nice heavy mug that keeps coffee warm for a long time.",
        },
        {
            "review_id": "wf-reply-reject",
            "product_id": "mug-1",
            "product_name": "Classic Mug",
            "reviewer_name": "Damn Hell",
            "rating": 5,
            "review_text": "Nice heavy mug, dishwasher safe as promised.",
        },
        # ... and repeats the product name: a profane one makes the reply harmful.
        {
            "review_id": "wf-reply-toxic",
            "product_id": "shirt-12",
            "product_name": "Shit Happens Fucking Shirt",
            "rating": 4,
            "review_text": "Soft fabric and the print survived ten washes.",
        },
        {
            "review_id": "fault-sentiment",
            "product_id": "lamp-2",
            "rating": 3,
            "review_text": "The lamp is fine and bright enough.",
        },
        {"review_id": "wf-invalid", "product_id": "kettle-200", "rating": 9, "review_text": "   "},
    ]
}


class ThrottledSentiment:
    """Throttles every call for reviews whose id starts with ``fault-``; others get the real one."""

    name = "throttled"

    def __init__(self, real: Any) -> None:
        self.real = real
        self.calls: dict[str, int] = {}

    def detect(self, review: ReviewPosted) -> SentimentResult:
        if review.review_id.startswith("fault-"):
            self.calls[review.review_id] = self.calls.get(review.review_id, 0) + 1
            raise ProviderThrottledError("injected: sentiment provider throttled")
        return self.real.detect(review)  # type: ignore[no-any-return]


@pytest.fixture(scope="module")
def stack(stack_factory: Any) -> Iterator[LocalPipeline]:
    from reviewflow.providers.local_sentiment import VaderSentiment

    local = stack_factory()
    fault = ThrottledSentiment(VaderSentiment())
    registry.set_override("sentiment_provider", fault)
    local.fault = fault  # type: ignore[attr-defined]
    local.post_reviews(REVIEWS.values())
    yield local
    registry.set_override("sentiment_provider", None)


def outcome(stack: LocalPipeline, review_id: str, deadline: float = DEADLINE) -> dict[str, Any]:
    event = stack.outcome_for(review_id, timeout=deadline)
    assert event["source"] == OUTCOME_SOURCE
    assert event["detail"]["review_id"] == review_id
    return event


def history_of(stack: LocalPipeline, event: dict[str, Any]) -> list[dict[str, Any]]:
    arn = event["detail"]["execution_id"]
    wait_until(
        lambda: stack.client("stepfunctions").describe_execution(executionArn=arn)["status"] != "RUNNING",
        DEADLINE,
        "the execution to finish",
    )
    return stack.history(arn)


def outcomes_for(stack: LocalPipeline, review_id: str) -> list[dict[str, Any]]:
    return [e for e in stack.outcomes() if e["detail"].get("review_id") == review_id]


# ------------------------------------------------------------------------------------- paths


def test_safe_review_gets_a_reply(stack: LocalPipeline) -> None:
    event = outcome(stack, "wf-safe")
    detail = event["detail"]
    assert event["detail-type"] == CREATED
    assert detail["decided_by"] == "auto"
    assert detail["product_id"] == "kettle-200"
    assert detail["review_toxicity"]["score"] < 0.4
    assert detail["review_toxicity"]["provider"] == "local"
    assert detail["sentiment"]["sentiment"] == "POSITIVE"
    assert detail["response_text"].startswith("Hi Maria")
    assert detail["response_toxicity"]["score"] < 0.4
    assert detail["model_id"] == "local/template-responder"
    assert detail["prompt_version"]
    assert detail.get("human_decisions", []) == []
    states = entered_states(history_of(stack, event))
    assert states[:2] == ["ValidateReview", "ClaimReview"]
    for state in (
        "ScoreReviewToxicity",
        "DetectSentiment",
        "GenerateResponse",
        "CheckDraftReply",
        "PublishGate",
        "PublishOutcome",
    ):
        assert state in states
    assert not any(s.startswith("HumanReview") for s in states)


def test_harmful_review_is_flagged_without_a_reply(stack: LocalPipeline) -> None:
    event = outcome(stack, "wf-harmful")
    detail = event["detail"]
    assert event["detail-type"] == HARMFUL
    assert detail["decided_by"] == "auto"
    assert detail["review_toxicity"]["score"] > 0.6
    assert "response_text" not in detail and "sentiment" not in detail
    states = entered_states(history_of(stack, event))
    # DetectSentiment ran speculatively beside the scoring; its result was discarded, never adopted.
    assert "ReviewIsHarmful" in states and "AdoptSentiment" not in states


def test_uncertain_review_approved_by_a_person_gets_a_reply(stack: LocalPipeline) -> None:
    page = decide_over_http(stack, "wf-review-approve", "REVIEW", "APPROVED")
    assert page.status == 200
    event = outcome(stack, "wf-review-approve")
    detail = event["detail"]
    assert event["detail-type"] == CREATED
    assert 0.4 <= detail["review_toxicity"]["score"] <= 0.6
    [decision] = detail["human_decisions"]
    assert (decision["stage"], decision["decision"]) == ("REVIEW", "APPROVED")
    assert decision["comment"] == "APPROVED by test" and decision["decided_at"]
    assert decision["source_ip"] == "127.0.0.1" and decision["user_agent"]
    assert detail["decided_by"] == "reviewer"
    assert detail["response_text"]
    states = entered_states(history_of(stack, event))
    assert states.index("HumanReviewOfReview") < states.index("AdoptSentiment")


def test_uncertain_review_rejected_by_a_person_is_harmful(stack: LocalPipeline) -> None:
    decide_over_http(stack, "wf-review-reject", "REVIEW", "REJECTED")
    event = outcome(stack, "wf-review-reject")
    detail = event["detail"]
    assert event["detail-type"] == HARMFUL
    assert [(d["stage"], d["decision"]) for d in detail["human_decisions"]] == [("REVIEW", "REJECTED")]
    assert detail["decided_by"] == "reviewer"
    assert "AdoptSentiment" not in entered_states(history_of(stack, event))


def test_uncertain_reply_approved_by_a_person_is_published(stack: LocalPipeline) -> None:
    decide_over_http(stack, "wf-reply-approve", "RESPONSE", "APPROVED")
    event = outcome(stack, "wf-reply-approve")
    detail = event["detail"]
    assert event["detail-type"] == CREATED
    assert detail["review_toxicity"]["score"] < 0.4
    assert 0.4 <= detail["response_toxicity"]["score"] <= 0.6
    assert [(d["stage"], d["decision"]) for d in detail["human_decisions"]] == [("RESPONSE", "APPROVED")]
    assert detail["response_text"].startswith("Hi Damn Hell")
    states = entered_states(history_of(stack, event))
    assert "HumanReviewOfResponse" in states and "HumanReviewOfReview" not in states


def test_uncertain_reply_rejected_by_a_person_fails(stack: LocalPipeline) -> None:
    decide_over_http(stack, "wf-reply-reject", "RESPONSE", "REJECTED")
    event = outcome(stack, "wf-reply-reject")
    detail = event["detail"]
    assert event["detail-type"] == FAILED
    assert detail["reason"] == "response_rejected"
    assert [(d["stage"], d["decision"]) for d in detail["human_decisions"]] == [("RESPONSE", "REJECTED")]


def test_toxic_reply_fails_without_asking_anyone(stack: LocalPipeline) -> None:
    event = outcome(stack, "wf-reply-toxic")
    detail = event["detail"]
    assert event["detail-type"] == FAILED
    assert detail["reason"] == "response_toxic"
    assert detail["response_toxicity"]["score"] > 0.6
    assert detail.get("human_decisions", []) == []
    states = entered_states(history_of(stack, event))
    assert "ResponseIsToxic" in states and "HumanReviewOfResponse" not in states


def test_provider_error_after_retries_fails_with_provider_error(stack: LocalPipeline) -> None:
    event = outcome(stack, "fault-sentiment", deadline=RETRY_DEADLINE)
    detail = event["detail"]
    assert event["detail-type"] == FAILED
    assert detail["reason"] == "provider_error"
    assert "sentiment" not in detail and "response_text" not in detail
    history = history_of(stack, event)
    failures = [e for e in history if e["type"] in ("LambdaFunctionFailed", "TaskFailed")]
    # The first attempt plus the ASL's MaxAttempts (5) retries for ProviderThrottledError.
    assert len(failures) == 6
    assert all("ProviderThrottledError" in json.dumps(e, default=str) for e in failures)
    assert stack.fault.calls["fault-sentiment"] == 6  # type: ignore[attr-defined]
    assert "DetectSentimentFailed" in entered_states(history)


def test_invalid_review_fails_with_the_validation_errors(stack: LocalPipeline) -> None:
    event = outcome(stack, "wf-invalid")
    detail = event["detail"]
    assert event["detail-type"] == FAILED
    assert detail["reason"] == "invalid_review"
    fields = {error["field"] for error in detail["errors"]}
    assert {"review_text", "rating"} <= fields
    assert "ScoreReviewToxicity" not in entered_states(history_of(stack, event))


def test_duplicate_delivery_yields_one_outcome(stack: LocalPipeline) -> None:
    review = {
        "review_id": "wf-duplicate",
        "product_id": "kettle-200",
        "review_text": "Solid kettle, no complaints.",
    }
    stack.post_reviews([review])
    first = outcome(stack, "wf-duplicate")
    stack.post_reviews([review])  # the same review delivered again, as a new event
    sfn = stack.client("stepfunctions")

    def both_finished() -> list[dict[str, Any]] | None:
        mine = [
            e
            for e in stack.executions()
            if json.loads(sfn.describe_execution(executionArn=e["executionArn"])["input"])
            .get("detail", {})
            .get("review_id")
            == "wf-duplicate"
        ]
        return mine if len(mine) == 2 and all(e["status"] != "RUNNING" for e in mine) else None

    executions = wait_until(both_finished, DEADLINE, "both deliveries to finish")
    second = next(e for e in executions if e["executionArn"] != first["detail"]["execution_id"])
    assert "DuplicateDelivery" in entered_states(stack.history(second["executionArn"]))
    # Both executions ended, so whatever they published is on the tap's queue: read all of it.
    stack.flush_outcomes()
    assert len(outcomes_for(stack, "wf-duplicate")) == 1


def test_event_that_does_not_match_the_rule_starts_nothing(stack: LocalPipeline) -> None:
    before = {e["executionArn"] for e in stack.executions()}
    detail = {"review_id": "wf-unmatched", "product_id": "p-1", "review_text": "Never processed."}
    # A review posted with the workflow's own source: the input rule must not match it, and the
    # outcome tap must not take it for an outcome either.
    stack.post_reviews([detail], source=OUTCOME_SOURCE)
    stack.client("events").put_events(
        Entries=[
            {
                "EventBusName": stack.resources.bus_name,
                "Source": stack.resources.input_source,
                "DetailType": "REVIEW_EDITED",
                "Detail": json.dumps(detail),
            }
        ]
    )
    # Rule delivery happens inside put_events: a matching event would already have started one,
    # and anything the tap's rule matched is already on its queue, which the flush reads to the end.
    assert {e["executionArn"] for e in stack.executions()} == before
    stack.flush_outcomes()
    assert outcomes_for(stack, "wf-unmatched") == []


# ------------------------------------------------------------------------ approval round trip


def test_approval_email_is_a_real_message_and_links_are_single_use(stack: LocalPipeline) -> None:
    from reviewflow_local import reviewer

    review = {
        "review_id": "wf-single-use",
        "product_id": "toaster-4",
        "review_text": "This toaster sucks, honestly.",
    }
    stack.post_reviews([review])
    link = wait_until(
        lambda: next(
            (
                m.approval_links[0]
                for m in stack.outbox.messages()
                if "wf-single-use" in m.subject and m.approval_links
            ),
            None,
        ),
        DEADLINE,
        "the approval email",
    )
    pending = next(a for a in stack.pending_approvals() if a["review_id"] == "wf-single-use")
    message = outbox_message_for(stack, pending["approval_id"])
    assert message.html and message.text and "To" not in message.subject
    assert "wf-single-use" in message.subject and "?s=" not in message.subject
    raw = message.path.read_text()
    assert "task_token" not in raw.lower() and "Message-ID:" in raw and "Date:" in raw

    bad = reviewer.fetch(link.split("?")[0] + "?s=wrong-secret")
    assert bad.status != 200
    _, decided = reviewer.decide(link, "APPROVED")
    assert decided.status == 200
    outcome(stack, "wf-single-use")
    _, again = reviewer.decide(link, "REJECTED") if _still_has_form(link) else (None, None)
    if again is not None:
        assert again.status != 200
    assert [d["decision"] for d in outcome(stack, "wf-single-use")["detail"]["human_decisions"]] == [
        "APPROVED"
    ]


def _still_has_form(link: str) -> bool:
    from reviewflow_local import reviewer

    try:
        reviewer.decision_form(reviewer.fetch(link).body)
    except ValueError:
        return False
    return True
