""" "Request a new draft" on the approval page: offered at the RESPONSE stage while rounds remain,
required guidance (bounded, escaped), and the same POST rules as Approve and Reject."""

from __future__ import annotations

import pytest
from approval_builders import approve_form, decision_sent, rest_event

SCRIPT = "<script>alert('pwned')</script>"
NEW_DRAFT_BUTTON = 'name="decision" value="NEW_DRAFT_REQUESTED"'


def new_draft_form(
    secret: str, guidance: str = "Shorter, and offer a replacement.", **extra: str
) -> dict[str, str]:
    return {"secret": secret, "decision": "NEW_DRAFT_REQUESTED", "guidance": guidance, **extra}


def earlier_round(number: int, guidance: str) -> dict[str, object]:
    return {
        "round": number,
        "guidance": guidance,
        "requested_at": "2026-12-03T10:00:00Z",
        "approval_id": f"earlier-{number}",
        "response_text": f"draft {number}",
    }


# ----------------------------------------------------------------------------- the page


def test_response_page_offers_a_new_draft_with_required_bounded_guidance(env, pending, invoke):
    approval_id, secret = pending("RESPONSE", max_rounds=2)
    body = invoke(rest_event("GET", approval_id, secret=secret))["body"]

    assert NEW_DRAFT_BUTTON in body
    assert '<textarea id=guidance name="guidance" maxlength="1000" required></textarea>' in body
    assert "2 new drafts left for this review." in body
    # Its own form: the required guidance must not block Approve or Reject.
    assert body.count(f'<form method="post" action="{approval_id}">') == 2
    approve_form_html = body.split("</form>")[0]
    assert 'value="APPROVED"' in approve_form_html and 'name="guidance"' not in approve_form_html
    assert body.count(f'<input type="hidden" name="secret" value="{secret}">') == 2


@pytest.mark.parametrize(
    ("stage", "round_", "max_rounds"),
    [("REVIEW", 0, 0), ("RESPONSE", 0, 0), ("RESPONSE", 2, 2)],
    ids=["review-stage", "new-drafts-off", "rounds-used-up"],
)
def test_no_new_draft_where_none_may_be_requested(env, pending, invoke, stage, round_, max_rounds):
    kwargs = {"round": round_, "max_rounds": max_rounds} if stage == "RESPONSE" else {}
    approval_id, secret = pending(stage, **kwargs)
    body = invoke(rest_event("GET", approval_id, secret=secret))["body"]
    assert NEW_DRAFT_BUTTON not in body
    assert 'name="guidance"' not in body
    assert 'value="APPROVED"' in body and 'value="REJECTED"' in body


def test_earlier_guidance_is_shown_escaped(env, pending, invoke):
    approval_id, secret = pending(
        "RESPONSE", round=1, max_rounds=2, draft_rounds=[earlier_round(1, f"Warmer {SCRIPT} please")]
    )
    body = invoke(rest_event("GET", approval_id, secret=secret))["body"]
    assert SCRIPT not in body
    assert "Warmer &lt;script&gt;alert(&#x27;pwned&#x27;)&lt;/script&gt; please" in body
    assert "This is new draft 1 of at most 2." in body
    assert "1 new draft left for this review." in body


# ----------------------------------------------------------------------------- the POST


def test_new_draft_request_resumes_the_workflow_with_guidance_and_round(env, pending, invoke):
    approval_id, secret = pending("RESPONSE", round=1, max_rounds=2)
    guidance = f"Mention the warranty.\r\nNo {SCRIPT}."
    response = invoke(rest_event("POST", approval_id, form=new_draft_form(secret, guidance, reviewer="Sam")))

    assert response["statusCode"] == 200, response["body"]
    body = response["body"]
    assert "sent back for a new draft</strong> by Sam" in body
    assert "Mention the warranty.\nNo &lt;script&gt;alert(&#x27;pwned&#x27;)&lt;/script&gt;." in body
    assert SCRIPT not in body
    assert "The new draft will be emailed for review like this one." in body
    sent = decision_sent(env)
    assert sent["decision"] == "NEW_DRAFT_REQUESTED"
    assert sent["guidance"] == f"Mention the warranty.\nNo {SCRIPT}."  # line breaks normalised
    assert sent["round"] == 1
    assert sent["reviewer"] == "Sam"
    assert sent["edited_response_text"] is None and sent["policy_override_reason"] is None
    item = env.item(approval_id)
    assert item["status"]["S"] == "NEW_DRAFT_REQUESTED"
    assert item["guidance"]["S"] == sent["guidance"]
    assert "task_token" not in item and "delivered_at" in item


def test_replayed_new_draft_request_is_conflict_without_second_resume(env, pending, invoke):
    approval_id, secret = pending("RESPONSE", max_rounds=1)
    event = rest_event("POST", approval_id, form=new_draft_form(secret))
    assert invoke(event)["statusCode"] == 200
    replay = invoke(event)
    assert replay["statusCode"] == 409
    assert "sent back for a new draft" in replay["body"]
    assert len(env.workflow.calls) == 1
    # And an approval afterwards cannot override the request either.
    assert invoke(rest_event("POST", approval_id, form=approve_form(secret)))["statusCode"] == 409
    assert len(env.workflow.calls) == 1


@pytest.mark.parametrize(
    ("guidance", "reason"),
    [
        (None, "Say what the new draft should do differently."),
        ("", "Say what the new draft should do differently."),
        ("   \n ", "Say what the new draft should do differently."),
        ("x" * 1_001, "Invalid value for: guidance."),
        ("bad \x00 byte", "The form field &#x27;guidance&#x27; contains control characters."),
    ],
    ids=["missing", "empty", "blank", "too-long", "control-character"],
)
def test_new_draft_without_acceptable_guidance_is_bad_request(env, pending, invoke, guidance, reason):
    approval_id, secret = pending("RESPONSE", max_rounds=2)
    form = new_draft_form(secret)
    if guidance is None:
        del form["guidance"]
    else:
        form["guidance"] = guidance
    response = invoke(rest_event("POST", approval_id, form=form))
    assert response["statusCode"] == 400
    assert reason in response["body"]
    assert env.workflow.calls == []
    assert env.item(approval_id)["status"]["S"] == "PENDING"


@pytest.mark.parametrize(
    ("stage", "kwargs", "reason"),
    [
        ("REVIEW", {}, "A new draft can be requested only for a reply."),
        ("RESPONSE", {"max_rounds": 0}, "No more new drafts can be requested for this reply."),
        ("RESPONSE", {"round": 2, "max_rounds": 2}, "No more new drafts can be requested for this reply."),
    ],
    ids=["review-stage", "new-drafts-off", "rounds-used-up"],
)
def test_forged_new_draft_where_the_page_offers_none_is_refused(env, pending, invoke, stage, kwargs, reason):
    approval_id, secret = pending(stage, **kwargs)
    response = invoke(rest_event("POST", approval_id, form=new_draft_form(secret)))
    assert response["statusCode"] == 400
    assert reason in response["body"]
    assert env.workflow.calls == []
    assert env.item(approval_id)["status"]["S"] == "PENDING"


def test_new_draft_needs_the_secret_in_the_body(env, pending, invoke):
    approval_id, secret = pending("RESPONSE", max_rounds=2)
    form = new_draft_form(secret)
    del form["secret"]
    response = invoke(rest_event("POST", approval_id, secret=secret, form=form))
    assert response["statusCode"] == 403
    tampered = new_draft_form(secret[:-1] + ("A" if secret[-1] != "A" else "B"))
    assert invoke(rest_event("POST", approval_id, form=tampered))["statusCode"] == 403
    assert env.workflow.calls == []
    assert env.item(approval_id)["status"]["S"] == "PENDING"


def test_cross_site_new_draft_is_forbidden(env, pending, invoke):
    approval_id, secret = pending("RESPONSE", max_rounds=2)
    event = rest_event(
        "POST", approval_id, form=new_draft_form(secret), headers={"Origin": "https://evil.example"}
    )
    assert invoke(event)["statusCode"] == 403
    assert env.workflow.calls == []


def test_guidance_sent_with_another_decision_is_not_kept(env, pending, invoke):
    approval_id, secret = pending("RESPONSE", max_rounds=2)
    response = invoke(rest_event("POST", approval_id, form=approve_form(secret, guidance="ignored")))
    assert response["statusCode"] == 200, response["body"]
    sent = decision_sent(env)
    assert sent["decision"] == "APPROVED" and sent["guidance"] is None
    assert "guidance" not in env.item(approval_id)


def test_failed_resume_of_a_new_draft_rolls_back(env, pending, invoke):
    from reviewflow.errors import ProviderThrottledError

    approval_id, secret = pending("RESPONSE", max_rounds=2)
    env.workflow.errors.append(ProviderThrottledError("throttled"))
    assert invoke(rest_event("POST", approval_id, form=new_draft_form(secret)))["statusCode"] == 503
    item = env.item(approval_id)
    assert item["status"]["S"] == "PENDING" and "guidance" not in item and "task_token" in item
    assert invoke(rest_event("POST", approval_id, form=new_draft_form(secret)))["statusCode"] == 200
    assert decision_sent(env)["decision"] == "NEW_DRAFT_REQUESTED"
