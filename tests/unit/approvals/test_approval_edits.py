"""Approving a reply on the page runs the publish gate's rules first: a harmful edit is refused with
the labels that caused it, a broken reply rule needs a written reason, and a refused approval stays
pending so the reviewer can fix the text."""

from __future__ import annotations

from approval_builders import approve_form, decision_sent, rest_event

DRAFT = "We're sorry the blender broke. Please contact our support team so they can help."
TOXIC = "Shut up, you pathetic idiot. Nobody cares about your stupid blender."
CLEAN = "We are sorry the blender broke so soon. Our support team will be glad to help you."
PROMISE = "We are sorry the blender broke. A replacement is already on its way to you."
PROMISE_RULE = {
    "rule": "promise_of_money_or_goods",
    "description": (
        "Promises or offers of refunds, money back, compensation, discounts, vouchers, gifts or replacements."
    ),
    "overridable": True,
}


def post(invoke, approval_id: str, form: dict[str, str]) -> dict:
    return invoke(rest_event("POST", approval_id, form=form))


def test_a_toxic_edit_is_refused_with_its_labels_and_the_approval_stays_pending(env, pending, invoke):
    env.toxicity.scores[TOXIC] = 0.97
    approval_id, secret = pending("RESPONSE", response_text=DRAFT)
    refused = post(invoke, approval_id, approve_form(secret, edited_response_text=TOXIC))
    assert refused["statusCode"] == 422
    body = refused["body"]
    assert "Not approved yet" in body and "0.97" in body and "INSULT" in body
    assert "Shut up, you pathetic idiot." in body  # the reviewer's text is kept, escaped, to fix it
    assert env.item(approval_id)["status"]["S"] == "PENDING"
    assert env.workflow.calls == []
    # The same link still works: a clean edit is approved and reaches the workflow.
    accepted = post(invoke, approval_id, approve_form(secret, edited_response_text=CLEAN))
    assert accepted["statusCode"] == 200, accepted["body"]
    assert decision_sent(env)["edited_response_text"] == CLEAN
    assert env.toxicity.seen == [TOXIC, CLEAN]  # each edit scored, the unchanged draft never re-scored


def test_an_uncertain_edit_may_be_approved_by_the_person(env, pending, invoke):
    env.toxicity.scores[CLEAN] = 0.5
    approval_id, secret = pending("RESPONSE", response_text=DRAFT)
    assert post(invoke, approval_id, approve_form(secret, edited_response_text=CLEAN))["statusCode"] == 200
    assert decision_sent(env)["response_edited"] is True


def test_the_page_lists_the_rules_the_draft_breaks(env, pending, invoke):
    approval_id, secret = pending("RESPONSE", response_text=PROMISE, policy_violations=[PROMISE_RULE])
    page = invoke(rest_event("GET", approval_id, secret=secret))
    assert page["statusCode"] == 200
    assert "Reply rules the draft breaks" in page["body"] and "promise_of_money_or_goods" in page["body"]
    assert 'name="policy_override_reason"' in page["body"]


def test_publishing_over_a_rule_needs_a_reason_which_is_audited(env, pending, invoke):
    approval_id, secret = pending("RESPONSE", response_text=PROMISE, policy_violations=[PROMISE_RULE])
    refused = post(invoke, approval_id, approve_form(secret))
    assert refused["statusCode"] == 422 and "promise_of_money_or_goods" in refused["body"]
    assert env.item(approval_id)["status"]["S"] == "PENDING" and env.workflow.calls == []
    reason = "Support already agreed a replacement with this customer on the phone (ticket 4411)."
    accepted = post(invoke, approval_id, approve_form(secret, policy_override_reason=reason))
    assert accepted["statusCode"] == 200, accepted["body"]
    assert decision_sent(env)["policy_override_reason"] == reason
    assert env.item(approval_id)["policy_override_reason"]["S"] == reason
    assert "Published over a reply rule because" in accepted["body"]


def test_an_invisible_only_edit_cannot_be_approved_even_with_a_reason(env, pending, invoke):
    approval_id, secret = pending("RESPONSE", response_text=DRAFT)
    form = approve_form(secret, edited_response_text="\u200b", policy_override_reason="looks fine")
    refused = post(invoke, approval_id, form)
    assert refused["statusCode"] == 422 and "invisible_only" in refused["body"]
    assert env.workflow.calls == []


def test_rejecting_never_runs_the_gate(env, pending, invoke):
    env.toxicity.scores[TOXIC] = 0.97
    approval_id, secret = pending("RESPONSE", response_text=DRAFT)
    form = {"secret": secret, "decision": "REJECTED", "edited_response_text": TOXIC}
    assert post(invoke, approval_id, form)["statusCode"] == 200
    assert env.toxicity.seen == []
    assert decision_sent(env)["decision"] == "REJECTED"
