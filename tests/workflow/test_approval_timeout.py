"""A person who never answers: the HumanReview task times out and the review still ends.

The template is synthesized with ``approval_timeout_seconds=60`` (the smallest the approval
model accepts); moto's interpreter honours ``TimeoutSecondsPath`` on ``.waitForTaskToken``, so
this test really waits a minute. The email link is dead afterwards.
"""

from __future__ import annotations

from typing import Any

from reviewflow.contracts import OutcomeType
from reviewflow_local import reviewer
from tests.workflow.conftest import approval_link, entered_states, wait_until

TIMEOUT_SECONDS = 60


def test_unanswered_approval_times_out_as_approval_timed_out(stack_factory: Any) -> None:
    stack = stack_factory({"approval_timeout_seconds": TIMEOUT_SECONDS})
    stack.post_reviews(
        [
            {
                "review_id": "wf-timeout",
                "product_id": "kettle-200",
                "language": "de",
                "review_text": "Der Wasserkocher ist schnell und leise.",
            }
        ]
    )
    link = approval_link(stack, "wf-timeout", "REVIEW")

    event = stack.outcome_for("wf-timeout", timeout=TIMEOUT_SECONDS + 60)
    detail = event["detail"]
    assert event["detail-type"] == OutcomeType.GENERATION_FAILED
    assert detail["reason"] == "approval_timed_out"
    assert detail["review_toxicity"]["scorable"] is False  # German: the local model cannot score it
    assert detail.get("human_decisions", []) == []

    arn = detail["execution_id"]
    sfn = stack.client("stepfunctions")
    wait_until(lambda: sfn.describe_execution(executionArn=arn)["status"] == "SUCCEEDED", 30, "the execution")
    history = stack.history(arn)
    assert any(e["type"] == "TaskTimedOut" for e in history)
    assert "ReviewApprovalTimedOut" in entered_states(history)

    # A late click changes nothing: either the page no longer offers the form, or deciding fails.
    try:
        _, late = reviewer.decide(link, "APPROVED")
    except (RuntimeError, ValueError):
        late = None
    assert late is None or late.status != 200
    # The execution has ended: everything it published is on the tap's queue; read all of it.
    assert [e for e in stack.flush_outcomes() if e["detail"]["review_id"] == "wf-timeout"] == [event]
