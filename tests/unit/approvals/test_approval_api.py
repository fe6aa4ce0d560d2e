"""approval_api through its Lambda entry point with REST proxy events (architecture.md §4)."""

from __future__ import annotations

import base64
import json
import re
from datetime import UTC, datetime

import boto3
import pytest
from approval_builders import (
    HOST,
    TASK_TOKEN,
    approve_form,
    decision_sent,
    lower_headers,
    rest_event,
)
from botocore.stub import Stubber

from reviewflow.errors import ApprovalError, ProviderThrottledError

SCRIPT = "<script>alert('pwned')</script>"
DRAFT = "We're sorry the blender broke.\nPlease contact our support team."


def assert_security_headers(response) -> None:
    headers = lower_headers(response)
    assert headers["content-type"] == "text/html; charset=utf-8"
    csp = headers["content-security-policy"]
    for directive in (
        "default-src 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
    ):
        assert directive in csp
    assert re.search(r"style-src 'sha256-[A-Za-z0-9+/=]{44}'", csp)
    assert "script-src" not in csp and "unsafe-inline" not in csp
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["referrer-policy"] == "no-referrer"
    assert headers["cache-control"] == "no-store"
    body = response["body"]
    assert body.startswith("<!doctype html>")
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in body
    assert "<script" not in body and "http://" not in body and "https://" not in body  # no external assets


# ----------------------------------------------------------------------------- GET


def test_get_renders_escaped_review_and_a_form(env, pending, invoke):
    approval_id, secret = pending(review_text=f"Awful {SCRIPT} blender")
    response = invoke(rest_event("GET", approval_id, secret=secret))

    assert response["statusCode"] == 200
    assert_security_headers(response)
    body = response["body"]
    assert SCRIPT not in body
    assert "Awful &lt;script&gt;alert(&#x27;pwned&#x27;)&lt;/script&gt; blender" in body
    assert "Dana &lt;b&gt;R.&lt;/b&gt;" in body  # reviewer name, escaped
    assert "Blender 9000 (blender-9000)" in body
    assert "2 / 5" in body
    assert "0.52" in body and "PROFANITY" in body
    assert re.search(r"Time left: <strong>(59 minutes|1 hour)", body)
    assert f'<form method="post" action="{approval_id}">' in body
    assert f'<input type="hidden" name="secret" value="{secret}">' in body
    assert 'name="decision" value="APPROVED"' in body and 'name="decision" value="REJECTED"' in body
    assert "<textarea id=edited_response_text" not in body  # REVIEW stage: no reply to edit
    assert env.workflow.calls == []


def test_get_response_stage_shows_editable_draft(env, pending, invoke):
    approval_id, secret = pending("RESPONSE", response_text=f"Thanks! {SCRIPT}")
    body = invoke(rest_event("GET", approval_id, secret=secret))["body"]
    assert "<textarea id=edited_response_text name=edited_response_text" in body
    assert "Thanks! &lt;script&gt;" in body and SCRIPT not in body
    assert "NEGATIVE" in body and "0.45" in body


def test_get_storm_changes_nothing(env, pending, invoke):
    approval_id, secret = pending()
    before = env.item(approval_id)
    for _ in range(100):
        assert invoke(rest_event("GET", approval_id, secret=secret))["statusCode"] == 200
    assert env.item(approval_id) == before
    assert env.workflow.calls == []


@pytest.mark.parametrize(
    ("secret", "status"),
    [(None, 403), ("", 403), ("wrong-secret", 403)],
)
def test_get_with_bad_secret_is_forbidden(env, pending, invoke, secret, status):
    approval_id, real = pending()
    response = invoke(rest_event("GET", approval_id, secret=secret))
    assert response["statusCode"] == status
    assert_security_headers(response)
    assert real not in response["body"] and "Review needed" not in response["body"]


def test_get_with_tampered_secret_is_forbidden(env, pending, invoke):
    approval_id, secret = pending()
    tampered = secret[:-1] + ("A" if secret[-1] != "A" else "B")
    response = invoke(rest_event("GET", approval_id, secret=tampered))
    assert response["statusCode"] == 403
    assert secret not in response["body"]


@pytest.mark.parametrize("approval_id", ["A" * 22, "nope", "x" * 65])
def test_get_unknown_id_is_not_found(env, pending, invoke, approval_id):
    pending()
    response = invoke(rest_event("GET", approval_id, secret="whatever"))
    assert response["statusCode"] == 404
    assert_security_headers(response)


def test_get_expired_is_gone(env, pending, invoke):
    approval_id, secret = pending()
    env.set_item_attribute(approval_id, "expires_at", {"N": str(int(datetime.now(UTC).timestamp()) - 5)})
    response = invoke(rest_event("GET", approval_id, secret=secret))
    assert response["statusCode"] == 410
    assert_security_headers(response)
    assert 'name="decision"' not in response["body"]


def test_unknown_route_gets_an_html_404(env, invoke):
    event = rest_event("GET", "x")
    event.update(path="/admin", resource="/admin")
    response = invoke(event)
    assert response["statusCode"] == 404
    assert_security_headers(response)


# ----------------------------------------------------------------------------- POST


def test_post_approve_resumes_workflow_once_and_audits(env, pending, invoke):
    approval_id, secret = pending()
    response = invoke(rest_event("POST", approval_id, form=approve_form(secret)))

    assert response["statusCode"] == 200, response["body"]
    assert_security_headers(response)
    assert "approved</strong> by Sam" in response["body"]
    assert secret not in response["body"]
    item = env.item(approval_id)
    sent = decision_sent(env)
    assert sent == {
        "approval_id": approval_id,
        "stage": "REVIEW",
        "decision": "APPROVED",
        "reviewer": "Sam",
        "comment": "fine by me",
        "decided_at": item["decided_at"]["S"],
        "response_edited": False,
        "edited_response_text": None,
        "policy_override_reason": None,
        "source_ip": "198.51.100.7",
        "user_agent": "Mozilla/5.0 (test)",
        # no roster: an anonymous decision on the first draft, before any reminder
        "reviewer_id": None,
        "reviewer_verified": False,
        "round": 0,
        "guidance": None,
        "reminders": [],
    }
    decided_at = datetime.strptime(sent["decided_at"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    assert abs((datetime.now(UTC) - decided_at).total_seconds()) < 10
    assert item["status"]["S"] == "APPROVED"
    assert item["decision"]["S"] == "APPROVED"
    assert item["reviewer"]["S"] == "Sam"
    assert item["comment"]["S"] == "fine by me"
    assert item["source_ip"]["S"] == "198.51.100.7"
    assert item["user_agent"]["S"] == "Mozilla/5.0 (test)"
    assert item["response_edited"]["BOOL"] is False
    assert "delivered_at" in item
    assert "task_token" not in item  # no use for it once the workflow has the decision


def test_post_reject_sends_rejection(env, pending, invoke):
    approval_id, secret = pending()
    form = {"secret": secret, "decision": "REJECTED"}
    assert invoke(rest_event("POST", approval_id, form=form))["statusCode"] == 200
    sent = decision_sent(env)
    assert sent["decision"] == "REJECTED" and sent["reviewer"] is None and sent["comment"] is None
    assert env.item(approval_id)["status"]["S"] == "REJECTED"


def test_replayed_post_is_conflict_without_second_resume(env, pending, invoke):
    approval_id, secret = pending()
    event = rest_event("POST", approval_id, form=approve_form(secret))
    assert invoke(event)["statusCode"] == 200
    after_first = env.item(approval_id)
    replay = invoke(event)
    assert replay["statusCode"] == 409
    assert_security_headers(replay)
    assert "approved</strong> by Sam" in replay["body"]
    assert len(env.workflow.calls) == 1
    assert env.item(approval_id) == after_first


def test_approve_then_reject_keeps_the_first_decision(env, pending, invoke):
    approval_id, secret = pending()
    assert invoke(rest_event("POST", approval_id, form=approve_form(secret)))["statusCode"] == 200
    reject = invoke(rest_event("POST", approval_id, form={"secret": secret, "decision": "REJECTED"}))
    assert reject["statusCode"] == 409
    assert env.item(approval_id)["status"]["S"] == "APPROVED"
    assert [json.loads(o)["decision"] for _, o in env.workflow.calls] == ["APPROVED"]
    # A GET afterwards shows the decision and offers no form.
    page = invoke(rest_event("GET", approval_id, secret=secret))
    assert page["statusCode"] == 200 and "Already decided" in page["body"]
    assert 'name="decision"' not in page["body"]


def test_tampered_secret_post_is_forbidden_and_changes_nothing(env, pending, invoke):
    approval_id, secret = pending()
    before = env.item(approval_id)
    for bad in (secret[:-2], secret + "x", "", None):
        form = approve_form(bad) if bad is not None else {"decision": "APPROVED"}
        response = invoke(rest_event("POST", approval_id, form=form))
        assert response["statusCode"] == 403
        assert_security_headers(response)
    assert env.item(approval_id) == before
    assert env.workflow.calls == []


def test_post_unknown_id_is_not_found(env, pending, invoke):
    _, secret = pending()
    response = invoke(rest_event("POST", "B" * 22, form=approve_form(secret)))
    assert response["statusCode"] == 404
    assert env.workflow.calls == []


def test_post_after_deadline_is_gone(env, pending, invoke):
    approval_id, secret = pending()
    env.set_item_attribute(approval_id, "expires_at", {"N": str(int(datetime.now(UTC).timestamp()) - 1)})
    before = env.item(approval_id)
    response = invoke(rest_event("POST", approval_id, form=approve_form(secret)))
    assert response["statusCode"] == 410
    assert_security_headers(response)
    assert env.item(approval_id) == before
    assert env.workflow.calls == []


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (None, "application/x-www-form-urlencoded"),
        ("", "application/x-www-form-urlencoded"),
        ("decision=APPROVED&secret={secret}", "application/json"),
        ("decision=MAYBE&secret={secret}", "application/x-www-form-urlencoded"),
        ("secret={secret}", "application/x-www-form-urlencoded"),
        ("decision=APPROVED&decision=REJECTED&secret={secret}", "application/x-www-form-urlencoded"),
        ("decision=APPROVED&secret={secret}&comment=a%00b", "application/x-www-form-urlencoded"),
        ("decision=APPROVED&secret={secret}&comment=" + "x" * 2001, "application/x-www-form-urlencoded"),
        ("decision=APPROVED&secret={secret}&reviewer=%FF%FE", "application/x-www-form-urlencoded"),
        ("decision=APPROVED&&&secret={secret}&junk", "application/x-www-form-urlencoded"),
    ],
    ids=[
        "no-body",
        "empty",
        "json",
        "bad-decision",
        "no-decision",
        "two-decisions",
        "control-char",
        "comment-too-long",
        "bad-utf8",
        "unparseable",
    ],
)
def test_malformed_body_is_bad_request(env, pending, invoke, body, content_type):
    approval_id, secret = pending()
    before = env.item(approval_id)
    event = rest_event("POST", approval_id, headers={"Content-Type": content_type})
    event["body"] = body.format(secret=secret) if body else body
    response = invoke(event)
    assert response["statusCode"] == 400, response["body"]
    assert_security_headers(response)
    assert env.item(approval_id) == before
    assert env.workflow.calls == []


def test_base64_encoded_form_is_accepted(env, pending, invoke):
    approval_id, secret = pending()
    event = rest_event("POST", approval_id, form=approve_form(secret))
    event["body"] = base64.b64encode(event["body"].encode()).decode()
    event["isBase64Encoded"] = True
    assert invoke(event)["statusCode"] == 200
    assert decision_sent(env)["decision"] == "APPROVED"


@pytest.mark.parametrize(
    "headers",
    [
        {"Origin": "https://evil.example"},
        {"Origin": f"https://{HOST}.evil.example"},
        {"Origin": f"http://{HOST}:8443"},
        {"Sec-Fetch-Site": "cross-site"},
        {"Sec-Fetch-Site": "same-site"},
        {"Sec-Fetch-Site": "cross-site", "Origin": f"https://{HOST}"},
    ],
    ids=["foreign-origin", "suffix-origin", "other-port", "cross-site", "same-site", "cross-site-own-origin"],
)
def test_cross_site_post_is_forbidden(env, pending, invoke, headers):
    approval_id, secret = pending()
    before = env.item(approval_id)
    response = invoke(rest_event("POST", approval_id, form=approve_form(secret), headers=headers))
    assert response["statusCode"] == 403
    assert_security_headers(response)
    assert "approval page itself" in response["body"]
    assert env.item(approval_id) == before
    assert env.workflow.calls == []


@pytest.mark.parametrize(
    "headers",
    [
        {"Origin": f"https://{HOST}", "Sec-Fetch-Site": "same-origin"},
        {"Origin": f"https://{HOST.upper()}:443"},
        # A same-origin form post from a no-referrer page carries "Origin: null".
        {"Origin": "null", "Sec-Fetch-Site": "same-origin"},
        {"Sec-Fetch-Site": "none"},
    ],
    ids=["same-origin", "default-port", "null-origin", "typed-url"],
)
def test_same_origin_post_is_accepted(env, pending, invoke, headers):
    approval_id, secret = pending()
    response = invoke(rest_event("POST", approval_id, form=approve_form(secret), headers=headers))
    assert response["statusCode"] == 200, response["body"]
    assert len(env.workflow.calls) == 1


def test_finished_execution_gives_gone_and_marks_item(env, pending, invoke):
    """Real adapter, stubbed Step Functions answering TaskTimedOut."""
    from reviewflow.providers import registry
    from reviewflow.providers.workflow_client import StepFunctionsWorkflowClient

    approval_id, secret = pending()
    sfn = boto3.client("stepfunctions", region_name="us-east-1")
    with Stubber(sfn) as stub, registry.override(workflow_client=StepFunctionsWorkflowClient(sfn)):
        stub.add_client_error("send_task_success", service_error_code="TaskTimedOut", http_status_code=400)
        response = invoke(rest_event("POST", approval_id, form=approve_form(secret)))
        stub.assert_no_pending_responses()
        assert response["statusCode"] == 410
        assert "no longer waiting" in response["body"]
        item = env.item(approval_id)
        assert item["status"]["S"] == "EXPIRED"
        assert item["closed_reason"]["S"] == "TaskTimedOut"
        assert "task_token" not in item
        assert item["decision"]["S"] == "APPROVED"  # the attempted decision stays as audit
        # Any later request is told the same; nothing more is sent.
        assert invoke(rest_event("POST", approval_id, form=approve_form(secret)))["statusCode"] == 410
        assert invoke(rest_event("GET", approval_id, secret=secret))["statusCode"] == 410


def test_stubbed_step_functions_receives_exact_output(env, pending, invoke, monkeypatch):
    from reviewflow.domain.approvals import decisions
    from reviewflow.providers import registry
    from reviewflow.providers.workflow_client import StepFunctionsWorkflowClient

    approval_id, secret = pending("RESPONSE", response_text=DRAFT)
    fixed = datetime.now(UTC).replace(microsecond=0)
    monkeypatch.setattr(decisions, "utc_now", lambda: fixed)
    expected = {
        "approval_id": approval_id,
        "stage": "RESPONSE",
        "decision": "APPROVED",
        "reviewer": "Sam",
        "comment": "fine by me",
        "decided_at": fixed.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "response_edited": True,
        "policy_override_reason": None,
        "source_ip": "198.51.100.7",
        "user_agent": "Mozilla/5.0 (test)",
        "reviewer_id": None,
        "reviewer_verified": False,
        "round": 0,
        "guidance": None,
        "reminders": [],
        "edited_response_text": "Thanks, our support team will be in touch today.",
    }
    sfn = boto3.client("stepfunctions", region_name="us-east-1")
    with Stubber(sfn) as stub, registry.override(workflow_client=StepFunctionsWorkflowClient(sfn)):
        stub.add_response(
            "send_task_success",
            {},
            expected_params={"taskToken": TASK_TOKEN, "output": json.dumps(expected, separators=(",", ":"))},
        )
        form = approve_form(
            secret, edited_response_text="  Thanks, our support team will be in touch today.\r\n"
        )
        event = rest_event("POST", approval_id, form=form)
        first = invoke(event)
        stub.assert_no_pending_responses()
        assert first["statusCode"] == 200, first["body"]
        # A replay would make the stub raise (no queued response); it never gets that far.
        assert invoke(event)["statusCode"] == 409
    item = env.item(approval_id)
    assert item["response_edited"]["BOOL"] is True
    assert item["edited_response_text"]["S"] == "Thanks, our support team will be in touch today."


@pytest.mark.parametrize(
    ("decision", "submitted", "edited", "text"),
    [
        (
            "APPROVED",
            "We will look into it.\r\nSorry about that!",
            True,
            "We will look into it.\nSorry about that!",
        ),
        ("APPROVED", DRAFT.replace("\n", "\r\n") + "\r\n", False, None),  # browser line endings only
        ("APPROVED", None, False, None),
        ("REJECTED", "Something else", False, None),
    ],
    ids=["edited", "unchanged-crlf", "absent", "rejected-edit-ignored"],
)
def test_edited_reply_reaches_the_workflow_only_when_changed(
    env, pending, invoke, decision, submitted, edited, text
):
    approval_id, secret = pending("RESPONSE", response_text=DRAFT)
    form = {"secret": secret, "decision": decision}
    if submitted is not None:
        form["edited_response_text"] = submitted
    assert invoke(rest_event("POST", approval_id, form=form))["statusCode"] == 200
    sent = decision_sent(env)
    assert sent["stage"] == "RESPONSE"
    assert sent["response_edited"] is edited
    assert sent["edited_response_text"] == text


def test_review_stage_ignores_reply_edits(env, pending, invoke):
    approval_id, secret = pending("REVIEW")
    form = approve_form(secret, edited_response_text="injected reply")
    assert invoke(rest_event("POST", approval_id, form=form))["statusCode"] == 200
    sent = decision_sent(env)
    assert sent["response_edited"] is False and sent["edited_response_text"] is None


def test_approving_an_emptied_reply_is_bad_request(env, pending, invoke):
    approval_id, secret = pending("RESPONSE", response_text=DRAFT)
    response = invoke(
        rest_event("POST", approval_id, form=approve_form(secret, edited_response_text=" \r\n"))
    )
    assert response["statusCode"] == 400
    assert env.item(approval_id)["status"]["S"] == "PENDING"
    assert env.workflow.calls == []


@pytest.mark.parametrize(
    ("error", "status"),
    [(ProviderThrottledError("throttled"), 503), (ApprovalError("InvalidOutput"), 502)],
)
def test_failed_resume_rolls_back_so_reviewer_can_retry(env, pending, invoke, error, status):
    approval_id, secret = pending()
    before = env.item(approval_id)
    env.workflow.errors.append(error)
    failed = invoke(rest_event("POST", approval_id, form=approve_form(secret)))
    assert failed["statusCode"] == status
    assert_security_headers(failed)
    item = env.item(approval_id)
    assert item["status"]["S"] == "PENDING"
    assert item["last_delivery_error"]["S"] == type(error).__name__
    assert {k: v for k, v in item.items() if k != "last_delivery_error"} == before
    retry = invoke(rest_event("POST", approval_id, form=approve_form(secret)))
    assert retry["statusCode"] == 200
    assert decision_sent(env)["decision"] == "APPROVED"


def test_unexpected_error_is_a_generic_page_without_details(env, pending, invoke, captured_logs):
    from reviewflow.providers import registry

    class BrokenStore:
        def get(self, approval_id):
            raise RuntimeError(f"boom {TASK_TOKEN}")

    approval_id, secret = pending()
    with registry.override(approval_store=BrokenStore()):
        response = invoke(rest_event("GET", approval_id, secret=secret))
    assert response["statusCode"] == 500
    assert_security_headers(response)
    assert "boom" not in response["body"] and "Traceback" not in response["body"]
    logged = "\n".join(captured_logs)
    assert "approval page failed" in logged and "RuntimeError" in logged
    assert TASK_TOKEN not in logged


def test_requests_never_log_secrets(env, pending, invoke, captured_logs, capsys):
    approval_id, secret = pending("RESPONSE")
    invoke(rest_event("GET", approval_id, secret=secret))
    invoke(rest_event("POST", approval_id, form=approve_form(secret[:-1])))  # wrong secret: logged
    invoke(
        rest_event("POST", approval_id, form=approve_form(secret), headers={"Origin": "https://evil.test"})
    )
    invoke(rest_event("POST", approval_id, form=approve_form(secret)))
    out = capsys.readouterr()
    logged = "\n".join(captured_logs) + out.out + out.err
    assert "decision with a wrong secret" in logged
    [decided] = [json.loads(line) for line in captured_logs if '"approval decided"' in line]
    assert decided["correlation_id"] == "rev-42" and decided["approval_id"] == approval_id
    assert decided["decision"] == "APPROVED"
    assert approval_id in logged
    assert secret not in logged and secret[:-1] not in logged
    assert TASK_TOKEN not in logged
    assert "?s=" not in logged
