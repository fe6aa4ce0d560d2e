""" "Request a new draft" end to end: a reviewer sends the reply back with guidance from the page,
the workflow writes it again (guided-v1), checks it, and asks again, at most ``max_draft_rounds``
times (2 by default); the outcome lists every round. Past the limit the page offers no new draft,
refuses a forged one, and the workflow fails closed when a task token is resumed without the page."""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode, urljoin, urlsplit

import pytest

from reviewflow.contracts import OutcomeType
from reviewflow_local import reviewer
from reviewflow_local.pipeline import LocalPipeline
from tests.workflow.conftest import approval_link, entered_states, wait_until

DEADLINE = 45.0
GUIDANCE = [
    "Thank them for the coffee detail <b>and</b> skip the greeting by name.",
    "Make it short: one sentence is enough.",
]

# A rude reviewer name makes the template's greeting uncertain: each draft waits for a person.
REVIEWS = [
    {"review_id": "draft-two-rounds", "product_id": "mug-1", "product_name": "Classic Mug",
     "reviewer_name": "Damn Hell", "rating": 5, "review_text": "Nice heavy mug, keeps coffee warm."},
    {"review_id": "draft-past-limit", "product_id": "mug-1", "product_name": "Classic Mug",
     "reviewer_name": "Damn Hell", "rating": 5, "review_text": "Lovely mug, good size for tea."},
    {"review_id": "draft-no-guidance", "product_id": "mug-1", "product_name": "Classic Mug",
     "reviewer_name": "Damn Hell", "rating": 5, "review_text": "Solid mug, survived the dishwasher."},
]  # fmt: skip


@pytest.fixture(scope="module")
def stack(stack_factory: Any) -> Iterator[LocalPipeline]:
    local = stack_factory()
    local.post_reviews(REVIEWS)
    yield local


def approval_id_of(link: str) -> str:
    return urlsplit(link).path.rsplit("/", 1)[-1]


def next_link(stack: LocalPipeline, review_id: str, previous: set[str]) -> str:
    """The RESPONSE approval link of the next round (a new approval, a new email)."""

    def find() -> str | None:
        link = approval_link(stack, review_id, "RESPONSE", timeout=DEADLINE)
        return link if approval_id_of(link) not in previous else None

    return str(wait_until(find, DEADLINE, f"a new RESPONSE approval of {review_id}"))


def draft_on(page: str) -> str:
    match = re.search(r"<textarea id=edited_response_text[^>]*>(.*?)</textarea>", page, re.S)
    assert match, "the page shows no draft"
    return html.unescape(match.group(1))


def request_new_drafts(stack: LocalPipeline, review_id: str) -> tuple[str, list[str], list[str]]:
    """Ask for a new draft twice through the page; the link of the third draft, the drafts shown
    before it, and every approval id in order."""
    link = approval_link(stack, review_id, "RESPONSE", timeout=DEADLINE)
    seen = [approval_id_of(link)]
    drafts: list[str] = []
    for number, guidance in enumerate(GUIDANCE):
        shown, decided = reviewer.decide(
            link, "NEW_DRAFT_REQUESTED", reviewer="Draft Test", fill={"guidance": guidance}
        )
        assert f"{2 - number} new draft{'s' if number == 0 else ''} left for this review." in shown.body
        drafts.append(draft_on(shown.body))
        assert decided.status == 200, decided.body
        assert "sent back for a new draft" in decided.body
        link = next_link(stack, review_id, set(seen))
        seen.append(approval_id_of(link))
    return link, drafts, seen


def test_two_new_drafts_then_an_approval_publish_the_last_draft(stack: LocalPipeline) -> None:
    link, drafts, approvals = request_new_drafts(stack, "draft-two-rounds")
    shown = reviewer.fetch(link)
    assert shown.status == 200
    last = draft_on(shown.body)
    drafts.append(last)
    assert len(set(drafts)) == 3, drafts  # each round wrote another reply
    assert "This is new draft 2 of at most 2." in shown.body
    assert html.escape(GUIDANCE[0]) in shown.body and GUIDANCE[0] not in shown.body  # staff text, escaped

    _, approved = reviewer.decide(link, "APPROVED", reviewer="Draft Test")
    assert approved.status == 200, approved.body

    event = stack.outcome_for("draft-two-rounds", timeout=DEADLINE)
    assert event["detail-type"] == OutcomeType.RESPONSE_CREATED.value
    detail = event["detail"]
    assert detail["response_text"] == last
    rounds = detail["draft_rounds"]
    assert [r["round"] for r in rounds] == [1, 2]
    assert [r["guidance"] for r in rounds] == GUIDANCE
    assert [r["response_text"] for r in rounds] == drafts[1:]
    assert {r["prompt_version"] for r in rounds} == {"template/guided-v1"}
    assert all(r["response_toxicity"] is not None for r in rounds)
    assert [r["approval_id"] for r in rounds] == approvals[:2]  # where each new draft was asked for
    assert approvals[2] == approval_id_of(link)
    decisions = [(d["stage"], d["decision"], d["round"]) for d in detail["human_decisions"]]
    assert decisions == [
        ("RESPONSE", "NEW_DRAFT_REQUESTED", 0),
        ("RESPONSE", "NEW_DRAFT_REQUESTED", 1),
        ("RESPONSE", "APPROVED", 2),
    ]
    assert [d.get("guidance") for d in detail["human_decisions"]] == [*GUIDANCE, None]  # None is left out
    history = stack.history(detail["execution_id"])
    states = entered_states(history)
    assert states.count("RegenerateResponse") == 2
    assert states.count("HumanReviewOfResponse") == 3
    assert states.count("PublishGate") == 1


def test_past_the_limit_the_page_offers_no_new_draft_and_the_workflow_refuses_one(
    stack: LocalPipeline,
) -> None:
    link, _, _ = request_new_drafts(stack, "draft-past-limit")
    shown = reviewer.fetch(link)
    assert shown.status == 200
    assert 'value="NEW_DRAFT_REQUESTED"' not in shown.body and 'name="guidance"' not in shown.body
    with pytest.raises(ValueError, match="not 'NEW_DRAFT_REQUESTED'"):
        reviewer.decide(link, "NEW_DRAFT_REQUESTED", fill={"guidance": "Once more."})

    # A hand-made POST of the page's own form, with the decision the page no longer offers.
    form = reviewer.decision_form(shown.body)
    fields = {**form.fields, "decision": "NEW_DRAFT_REQUESTED", "guidance": "Once more."}
    forged = reviewer.fetch(
        urljoin(link, form.action),
        data=urlencode(fields).encode("utf-8"),
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "Origin": "null",
            "Sec-Fetch-Site": "same-origin",
        },
    )
    assert forged.status == 400
    assert "No more new drafts can be requested for this reply." in forged.body
    approval_id = approval_id_of(link)
    assert stack.pending_approval(approval_id) is not None

    # A script holding the task token asks anyway: the workflow counts the rounds itself.
    resume_directly(stack, approval_id, new_draft(approval_id, guidance="Once more.", round=0))
    event = stack.outcome_for("draft-past-limit", timeout=DEADLINE)
    detail = event["detail"]
    assert event["detail-type"] == OutcomeType.GENERATION_FAILED.value
    assert detail["reason"] == "new_draft_refused"
    assert [r["guidance"] for r in detail["draft_rounds"]] == GUIDANCE
    assert detail["draft_rounds"][-1]["response_text"] == draft_on(shown.body)  # the one refused again
    states = entered_states(stack.history(detail["execution_id"]))
    assert states.count("RegenerateResponse") == 2 and "PublishGate" not in states


def test_a_new_draft_without_guidance_fails_closed(stack: LocalPipeline) -> None:
    link = approval_link(stack, "draft-no-guidance", "RESPONSE", timeout=DEADLINE)
    approval_id = approval_id_of(link)
    resume_directly(stack, approval_id, new_draft(approval_id, guidance=None, round=0))
    event = stack.outcome_for("draft-no-guidance", timeout=DEADLINE)
    assert event["detail-type"] == OutcomeType.GENERATION_FAILED.value
    assert event["detail"]["reason"] == "new_draft_refused"
    assert event["detail"]["draft_rounds"] == []
    states = entered_states(stack.history(event["detail"]["execution_id"]))
    assert "RegenerateResponse" not in states and "PublishGate" not in states


def new_draft(approval_id: str, *, guidance: str | None, round: int) -> dict[str, Any]:
    return {
        "approval_id": approval_id,
        "stage": "RESPONSE",
        "decision": "NEW_DRAFT_REQUESTED",
        "decided_at": "2026-12-03T10:00:00Z",
        "round": round,
        "guidance": guidance,
    }


def resume_directly(stack: LocalPipeline, approval_id: str, decision: dict[str, Any]) -> None:
    """What a script holding the task token could do: resume the execution without the page."""
    item = stack.client("dynamodb").get_item(
        TableName=stack.resources.table_name, Key={"pk": {"S": f"approval#{approval_id}"}}
    )["Item"]
    stack.client("stepfunctions").send_task_success(
        taskToken=item["task_token"]["S"], output=json.dumps(decision)
    )
