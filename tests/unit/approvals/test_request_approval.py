"""request_approval: what is stored, what is emailed, what is logged (architecture.md §4)."""

from __future__ import annotations

import hashlib
import json
import time
from datetime import UTC, datetime

import boto3
import pytest
from approval_builders import BASE_URL, TABLE, TASK_TOKEN, approval_request
from botocore.stub import Stubber

from reviewflow.errors import ApprovalError, ConfigurationError, InvalidInputError, ProviderThrottledError


def _request(env, lambda_context, **kwargs):
    from reviewflow.handlers import request_approval

    return request_approval.handler(approval_request(**kwargs), lambda_context)


def test_stores_hash_of_secret_and_token_server_side(env, lambda_context):
    before = time.time()
    ticket = _request(env, lambda_context)
    [mail] = env.mails()
    link = mail.link
    assert link["base"] == BASE_URL
    assert link["id"] == ticket["approval_id"]
    secret = link["secret"]
    assert len(secret) >= 43  # token_urlsafe(32): 256 bits
    assert len(ticket["approval_id"]) >= 22  # >= 128 bits, URL-safe

    item = env.item(ticket["approval_id"])
    assert item is not None
    assert item["pk"]["S"] == f"approval#{ticket['approval_id']}"
    assert item["status"]["S"] == "PENDING"
    assert item["stage"]["S"] == "REVIEW"
    assert item["review_id"]["S"] == "rev-42"
    assert item["product_id"]["S"] == "blender-9000"
    assert item["execution_id"]["S"].endswith(":exec-1")
    assert item["task_token"]["S"] == TASK_TOKEN
    assert item["secret_sha256"]["S"] == hashlib.sha256(secret.encode()).hexdigest()
    assert secret not in json.dumps(item)
    expires_at = int(item["expires_at"]["N"])
    assert before + 3600 - 2 <= expires_at <= time.time() + 3600 + 2
    assert ticket["expires_at"] == datetime.fromtimestamp(expires_at, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    snapshot = json.loads(item["snapshot"]["S"])
    assert snapshot["review"]["review_text"].startswith("The blender broke")
    assert snapshot["review_toxicity"]["score"] == 0.52
    assert "response_text" not in snapshot


def test_token_and_secret_never_reach_email_or_logs(env, lambda_context, captured_logs, capsys):
    ticket = _request(env, lambda_context, stage="RESPONSE")
    [mail] = env.mails()
    secret = mail.link["secret"]
    out = capsys.readouterr()
    logged = "\n".join(captured_logs) + out.out + out.err

    assert TASK_TOKEN not in mail.body and TASK_TOKEN not in mail.subject
    assert secret not in mail.subject
    # The capture works: the request is logged, with its ids.
    assert ticket["approval_id"] in logged and "approval requested" in logged
    assert TASK_TOKEN not in logged
    assert secret not in logged


def test_email_carries_excerpt_scores_draft_deadline_and_link(env, lambda_context):
    long_text = "Terrible service. " * 60  # ~1,080 characters
    ticket = _request(env, lambda_context, stage="RESPONSE", review_text=long_text)
    [mail] = env.mails()

    assert len(mail.subject) <= 100 and mail.subject.isascii() and "\n" not in mail.subject
    assert "blender-9000" in mail.subject
    assert "Terrible service." in mail.body
    assert long_text.strip() not in mail.body  # truncated to an excerpt
    assert "Review toxicity: 0.52" in mail.body
    assert "Reply toxicity: 0.45" in mail.body
    assert "We're sorry the blender broke." in mail.body
    expires = datetime.strptime(ticket["expires_at"], "%Y-%m-%dT%H:%M:%SZ")
    assert f"Decide before {expires:%Y-%m-%d %H:%M} UTC" in mail.body
    assert f"{BASE_URL}/approvals/{ticket['approval_id']}?s=" in mail.body


def test_build_email_has_escaped_html_alternative(env, lambda_context):
    from reviewflow.models.approvals import ApprovalStatus
    from reviewflow.presentation.emails import build_email
    from reviewflow.providers.approval_store import from_item

    ticket = _request(env, lambda_context, review_text="<script>alert('x')</script> & more")
    record = from_item(env.item(ticket["approval_id"]))
    assert record.status is ApprovalStatus.PENDING
    message = build_email(record, link="https://example.test/approvals/abc?s=s3cret&x=1")

    text = message.get_body(preferencelist=("plain",)).get_content()
    html = message.get_body(preferencelist=("html",)).get_content()
    assert "<script>alert('x')</script> & more" in text
    assert "<script>" not in html
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; &amp; more" in html
    assert 'href="https://example.test/approvals/abc?s=s3cret&amp;x=1"' in html
    assert message["X-Reviewflow-Approval-Id"] == ticket["approval_id"]


def test_each_request_gets_its_own_id_and_secret(env, lambda_context):
    first = _request(env, lambda_context)
    second = _request(env, lambda_context)
    mails = env.mails()
    assert first["approval_id"] != second["approval_id"]
    assert len({m.link["secret"] for m in mails}) == 2
    assert len(env.all_items()) == 2


def test_failed_publish_raises_and_leaves_no_usable_item(env, lambda_context):
    from reviewflow.providers import registry
    from reviewflow.providers.notifier import SnsNotifier

    sns = boto3.client("sns", region_name="us-east-1")
    with Stubber(sns) as stub, registry.override(notifier=SnsNotifier(sns, env.topic_arn)):
        stub.add_client_error("publish", service_error_code="InvalidParameter", http_status_code=400)
        with pytest.raises(ApprovalError):
            _request(env, lambda_context)
        stub.add_client_error("publish", service_error_code="Throttled", http_status_code=400)
        with pytest.raises(ProviderThrottledError):
            _request(env, lambda_context)
    assert env.all_items() == []  # the token of an email that never went out is not kept


def test_invalid_payload_is_rejected_without_echoing_the_token(env, lambda_context):
    from reviewflow.handlers import request_approval

    event = approval_request()
    event["stage"] = "SOMETHING"
    event["timeout_seconds"] = 5
    with pytest.raises(InvalidInputError) as caught:
        request_approval.handler(event, lambda_context)
    assert "stage" in str(caught.value) and "timeout_seconds" in str(caught.value)
    assert TASK_TOKEN not in str(caught.value)
    assert env.all_items() == []


def test_missing_base_url_is_a_configuration_error(env, lambda_context, runtime_env):
    from reviewflow.config import get_settings

    runtime_env.delenv("REVIEWFLOW_APPROVAL_BASE_URL")
    get_settings.cache_clear()
    with pytest.raises(ConfigurationError):
        _request(env, lambda_context)
    assert env.all_items() == [] and env.mails() == []


def test_real_registry_getters_build_aws_adapters(runtime_env):
    from reviewflow.providers import registry
    from reviewflow.providers.approval_store import DynamoApprovalStore
    from reviewflow.providers.notifier import SnsNotifier
    from reviewflow.providers.workflow_client import StepFunctionsWorkflowClient

    registry.reset()
    try:
        with pytest.raises(ConfigurationError):
            registry.approval_store()
        runtime_env.setenv("REVIEWFLOW_APPROVALS_TABLE", TABLE)
        runtime_env.setenv(
            "REVIEWFLOW_NOTIFICATION_TOPIC_ARN", "arn:aws:sns:us-east-1:123456789012:reviewers"
        )
        from reviewflow.config import get_settings

        get_settings.cache_clear()
        assert isinstance(registry.approval_store(), DynamoApprovalStore)
        assert isinstance(registry.notifier(), SnsNotifier)
        assert isinstance(registry.workflow_client(), StepFunctionsWorkflowClient)
    finally:
        registry.reset()


def test_an_anonymous_email_has_no_queue_link(env, lambda_context):
    _request(env, lambda_context)
    [mail] = env.mails()
    assert "/reviewers/" not in mail.body and "Everything waiting for you" not in mail.body


def test_a_new_draft_s_email_states_its_round_and_the_guidance(env, lambda_context):
    from reviewflow.presentation.emails import build_email
    from reviewflow.providers.approval_store import from_item

    guidance = "Mention the <b>lid</b> & say how to reach support."
    ticket = _request(
        env,
        lambda_context,
        stage="RESPONSE",
        round=1,
        max_rounds=2,
        draft_rounds=[
            {
                "round": 1, "guidance": guidance, "requested_by": "bo",
                "requested_at": "2026-11-23T10:00:00Z", "approval_id": "EarlierApproval00001",
            }
        ],
    )  # fmt: skip
    [mail] = env.mails()
    assert mail.subject.startswith("Review needed: reply (new draft 1) for product")
    assert "This is new draft 1 of at most 2.\nGuidance given by bo:\n" + guidance in mail.body
    record = from_item(env.item(ticket["approval_id"]))
    html = (
        build_email(record, link="https://example.test/approvals/abc?s=x")
        .get_body(preferencelist=("html",))
        .get_content()
    )
    assert "<strong>This is new draft 1 of at most 2.</strong>" in html
    assert "Mention the &lt;b&gt;lid&lt;/b&gt; &amp; say" in html and "<b>lid" not in html
