"""The publish gate, end to end: a reply is published only after the exact text was checked in
the same execution — a generated promise goes to a person, a person publishes over a rule only
with a reason, and a task token resumed by anything but the page cannot publish a toxic edit."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from reviewflow.models.events import ReviewPosted
from reviewflow.models.steps import GeneratedResponse, SentimentResult
from reviewflow.providers import registry
from reviewflow_local import reviewer
from reviewflow_local.pipeline import LocalPipeline
from tests.workflow.conftest import approval_link, entered_states, wait_until

DEADLINE = 45.0
PROMISE = "We are so sorry! We will refund the full price and send you a free replacement today."
TOXIC_EDIT = "Shut up, you fucking idiot. Nobody cares about your shitty mug."
REASON = "Support agreed the refund with this customer by phone; ticket 4411 has the details."

REVIEWS = [
    # The writer below promises a refund for these: the draft check sends them to a person.
    {"review_id": "gate-promise-no-reason", "product_id": "mug-1", "rating": 2,
     "review_text": "The handle came off on the first day."},
    {"review_id": "gate-promise-reason", "product_id": "mug-1", "rating": 2,
     "review_text": "The glaze chipped after one wash."},
    # A rude reviewer name makes the template's greeting uncertain: the reply waits for a person.
    {"review_id": "gate-forged-toxic", "product_id": "mug-1", "product_name": "Classic Mug",
     "reviewer_name": "Damn Hell", "rating": 5, "review_text": "Nice heavy mug, keeps coffee warm."},
    {"review_id": "gate-forged-promise", "product_id": "mug-1", "product_name": "Classic Mug",
     "reviewer_name": "Damn Hell", "rating": 5, "review_text": "Lovely mug, good size for tea."},
]  # fmt: skip


class PromisingWriter:
    """The configured writer, except that it promises money for ``gate-promise-*`` reviews."""

    name = "promising"

    def __init__(self, real: Any) -> None:
        self.real = real

    def write(self, review: ReviewPosted, sentiment: SentimentResult) -> GeneratedResponse:
        written: GeneratedResponse = self.real.write(review, sentiment)
        if review.review_id.startswith("gate-promise"):
            return written.model_copy(update={"response_text": PROMISE})
        return written


@pytest.fixture(scope="module")
def stack(stack_factory: Any) -> Iterator[LocalPipeline]:
    from reviewflow.providers.template_responder import TemplateResponder

    local = stack_factory()
    registry.set_override("response_writer", PromisingWriter(TemplateResponder()))
    local.post_reviews(REVIEWS)
    yield local
    registry.set_override("response_writer", None)


def pending(stack: LocalPipeline, review_id: str) -> dict[str, Any]:
    def find() -> dict[str, Any] | None:
        return next(
            (
                a
                for a in stack.pending_approvals()
                if a["review_id"] == review_id and a["stage"] == "RESPONSE"
            ),
            None,
        )

    found: dict[str, Any] = wait_until(find, DEADLINE, f"the RESPONSE approval of {review_id}")
    return found


def resume_directly(stack: LocalPipeline, approval_id: str, decision: dict[str, Any]) -> None:
    """What a script holding the task token could do: resume the execution without the page."""
    item = stack.client("dynamodb").get_item(
        TableName=stack.resources.table_name, Key={"pk": {"S": f"approval#{approval_id}"}}
    )["Item"]
    stack.client("stepfunctions").send_task_success(
        taskToken=item["task_token"]["S"], output=json.dumps(decision)
    )


def forged(approval_id: str, text: str) -> dict[str, Any]:
    return {
        "approval_id": approval_id,
        "stage": "RESPONSE",
        "decision": "APPROVED",
        "decided_at": "2026-12-02T10:00:00Z",
        "response_edited": True,
        "edited_response_text": text,
    }


def test_a_generated_promise_goes_to_a_person_who_cannot_publish_it_without_a_reason(
    stack: LocalPipeline,
) -> None:
    approval = pending(stack, "gate-promise-no-reason")
    link = approval_link(stack, "gate-promise-no-reason", "RESPONSE")
    shown, refused = reviewer.decide(link, "APPROVED", reviewer="Gate Test")
    assert "promise_of_money_or_goods" in shown.body  # the page lists the rule the draft broke
    assert refused.status == 422 and "Not approved yet" in refused.body
    assert pending(stack, "gate-promise-no-reason")["approval_id"] == approval["approval_id"]
    # Still pending: the reviewer rewrites the reply instead, and it is published with its own score.
    clean = "We are sorry the handle came off. Our support team will contact you to sort this out."
    _, accepted = reviewer.decide(
        link, "APPROVED", reviewer="Gate Test", fill={"edited_response_text": clean}
    )
    assert accepted.status == 200, accepted.body
    detail = stack.outcome_for("gate-promise-no-reason", timeout=DEADLINE)["detail"]
    assert detail["response_text"] == clean
    assert detail["reply_check"]["rescored"] is True and detail["reply_check"]["violations"] == []
    assert detail["draft_toxicity"] is not None and detail["response_toxicity"] is not None


def test_a_person_publishes_over_a_rule_with_a_reason_which_the_outcome_carries(stack: LocalPipeline) -> None:
    link = approval_link(stack, "gate-promise-reason", "RESPONSE")
    _, accepted = reviewer.decide(
        link, "APPROVED", reviewer="Gate Test", fill={"policy_override_reason": REASON}
    )
    assert accepted.status == 200, accepted.body
    event = stack.outcome_for("gate-promise-reason", timeout=DEADLINE)
    detail = event["detail"]
    assert event["detail-type"] == "NEW_REVIEW_RESPONSE_CREATED"
    assert detail["response_text"] == PROMISE
    assert "promise_of_money_or_goods" in detail["reply_check"]["overridden"]
    [decision] = detail["human_decisions"]
    assert decision["policy_override_reason"] == REASON


def test_a_token_resumed_directly_with_a_toxic_edit_publishes_nothing(stack: LocalPipeline) -> None:
    approval = pending(stack, "gate-forged-toxic")
    resume_directly(stack, approval["approval_id"], forged(approval["approval_id"], TOXIC_EDIT))
    event = stack.outcome_for("gate-forged-toxic", timeout=DEADLINE)
    detail = event["detail"]
    assert event["detail-type"] == "RESPONSE_GENERATION_FAILED"
    assert (detail["reason"], detail["failed_step"]) == ("response_toxic", "PublishGate")
    assert TOXIC_EDIT not in json.dumps(event)  # the refused text never reaches the bus
    assert detail["response_toxicity"]["score"] > 0.6 and detail["reply_check"]["rescored"] is True
    arn = detail["execution_id"]
    wait_until(
        lambda: stack.client("stepfunctions").describe_execution(executionArn=arn)["status"] != "RUNNING",
        DEADLINE,
        "the execution to finish",
    )
    states = entered_states(stack.history(arn))
    assert "PublishGate" in states and "ReplyRefusedByGate" in states and "ResponseAccepted" not in states


def test_a_token_resumed_directly_cannot_publish_over_a_rule(stack: LocalPipeline) -> None:
    approval = pending(stack, "gate-forged-promise")
    resume_directly(stack, approval["approval_id"], forged(approval["approval_id"], PROMISE))
    detail = stack.outcome_for("gate-forged-promise", timeout=DEADLINE)["detail"]
    assert detail["reason"] == "response_policy_violation"
    assert "promise_of_money_or_goods" in detail["reply_check"]["violations"]
