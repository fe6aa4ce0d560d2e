"""The three adapters (Step Functions, SNS, DynamoDB) and the protocol's pure parts."""

from __future__ import annotations

import hashlib
import json
import string
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path

import boto3
import pytest
from approval_builders import TASK_TOKEN
from botocore.exceptions import EndpointConnectionError, ParamValidationError
from botocore.stub import Stubber

from reviewflow.domain.approvals import forms, links
from reviewflow.domain.approvals.requests import snapshot_of
from reviewflow.errors import (
    ApprovalError,
    ConfigurationError,
    ExecutionNotWaitingError,
    ProviderThrottledError,
    ProviderTimeoutError,
)
from reviewflow.models import approvals as records
from reviewflow.providers.workflow_client import StepFunctionsWorkflowClient

ROOT = Path(__file__).resolve().parents[3]

# ----------------------------------------------------------------------------- Step Functions


def test_send_task_success_passes_token_and_output():
    sfn = boto3.client("stepfunctions", region_name="us-east-1")
    with Stubber(sfn) as stub:
        stub.add_response("send_task_success", {}, {"taskToken": TASK_TOKEN, "output": '{"a":1}'})
        StepFunctionsWorkflowClient(sfn).send_task_success(TASK_TOKEN, '{"a":1}')
        stub.assert_no_pending_responses()


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("TaskTimedOut", ExecutionNotWaitingError),
        ("TaskDoesNotExist", ExecutionNotWaitingError),
        ("InvalidToken", ExecutionNotWaitingError),
        ("ThrottlingException", ProviderThrottledError),
        ("KmsThrottlingException", ProviderThrottledError),
        ("ServiceUnavailable", ProviderTimeoutError),
        ("InvalidOutput", ApprovalError),
        ("AccessDeniedException", ApprovalError),
    ],
)
def test_step_functions_errors_are_typed_by_code(code, expected):
    sfn = boto3.client("stepfunctions", region_name="us-east-1")
    with Stubber(sfn) as stub:
        stub.add_client_error(
            "send_task_success", service_error_code=code, service_message=f"token {TASK_TOKEN} rejected"
        )
        with pytest.raises(expected) as caught:
            StepFunctionsWorkflowClient(sfn).send_task_success(TASK_TOKEN, "{}")
    assert type(caught.value) is expected
    assert TASK_TOKEN not in str(caught.value)
    if expected is ExecutionNotWaitingError:
        assert caught.value.code == code


def test_step_functions_connection_failure_is_retryable_and_bad_params_are_not():
    class Unreachable:
        def send_task_success(self, **kwargs):
            raise EndpointConnectionError(endpoint_url="https://states.example")

    class Invalid:
        def send_task_success(self, **kwargs):
            raise ParamValidationError(report="taskToken too long")

    with pytest.raises(ProviderTimeoutError):
        StepFunctionsWorkflowClient(Unreachable()).send_task_success(TASK_TOKEN, "{}")
    with pytest.raises(ApprovalError) as caught:
        StepFunctionsWorkflowClient(Invalid()).send_task_success(TASK_TOKEN, "{}")
    assert not isinstance(caught.value, ProviderTimeoutError)


# ----------------------------------------------------------------------------- SNS


def _message(subject: str, text: str = "body with link") -> EmailMessage:
    message = EmailMessage()
    message["Subject"] = subject
    message.set_content(text)
    message.add_alternative("<p>html</p>", subtype="html")
    return message


def test_sns_publishes_text_part_with_safe_subject():
    from reviewflow.providers.notifier import SnsNotifier

    sns = boto3.client("sns", region_name="us-east-1")
    arn = "arn:aws:sns:us-east-1:123456789012:reviewers"
    with Stubber(sns) as stub:
        stub.add_response(
            "publish",
            {"MessageId": "m-1"},
            {"TopicArn": arn, "Subject": "Review needed: Caf? cr?me", "Message": "body with link\n"},
        )
        assert SnsNotifier(sns, arn).send(_message("Review needed: Café crème")) == "m-1"
        stub.assert_no_pending_responses()


def test_sns_subject_is_short_single_line_ascii():
    from reviewflow.providers.notifier import sns_subject

    subject = sns_subject(_message("x" * 150))
    assert len(subject) == 99
    assert sns_subject(_message("")) == "Review needed"


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("Throttled", ProviderThrottledError),
        ("InternalError", ProviderTimeoutError),
        ("NotFound", ConfigurationError),
        ("AuthorizationError", ConfigurationError),
        ("InvalidParameter", ApprovalError),
    ],
)
def test_sns_errors_are_typed_by_code(code, expected):
    from reviewflow.providers.notifier import SnsNotifier

    sns = boto3.client("sns", region_name="us-east-1")
    with Stubber(sns) as stub:
        stub.add_client_error("publish", service_error_code=code)
        with pytest.raises(expected) as caught:
            SnsNotifier(sns, "arn:aws:sns:us-east-1:123456789012:t").send(_message("s"))
    assert type(caught.value) is expected


# ----------------------------------------------------------------------------- DynamoDB


def _record(**changes) -> records.ApprovalRecord:
    from approval_builders import approval_request

    from reviewflow.models.steps import ApprovalRequest

    request = ApprovalRequest.model_validate(approval_request("RESPONSE"))
    record = records.ApprovalRecord(
        approval_id="Abcdefghijklmnopqrstuv",
        status=records.ApprovalStatus.PENDING,
        stage=request.stage,
        review_id="rev-42",
        product_id="blender-9000",
        execution_id="exec-1",
        created_at="2026-11-23T10:00:00Z",
        expires_at=int((datetime.now(UTC) + timedelta(hours=1)).timestamp()),
        secret_sha256=links.hash_secret("s"),
        task_token=TASK_TOKEN,
        snapshot=snapshot_of(request),
    )
    return record.model_copy(update=changes)


def _audit(decided_at: str = "2026-11-23T10:05:00Z") -> records.DecisionAudit:
    return records.DecisionAudit(
        decision="APPROVED", reviewer="Sam", comment="ok", decided_at=decided_at, source_ip="192.0.2.1"
    )


def test_record_survives_the_item_round_trip_and_hides_its_token():
    from reviewflow.providers.approval_store import from_item, to_item

    record = _record(audit=_audit())
    item = to_item(record)
    assert item["task_token"] == {"S": TASK_TOKEN}
    assert from_item(json.loads(json.dumps(item))) == record
    assert TASK_TOKEN not in repr(record) and TASK_TOKEN not in str(record.model_dump())


def test_store_transitions_are_conditional(env):
    from reviewflow.providers.approval_store import DynamoApprovalStore

    store = DynamoApprovalStore(env.dynamodb, "reviewflow-test-table")
    record = _record()
    store.create(record)
    with pytest.raises(ApprovalError):
        store.create(record)  # the same id twice never overwrites
    now = int(datetime.now(UTC).timestamp())
    assert store.record_decision(record.approval_id, _audit(), now_epoch=now)
    assert not store.record_decision(record.approval_id, _audit("2026-11-23T10:06:00Z"), now_epoch=now)
    # Only the decision that was made can be released.
    assert not store.release_decision(record.approval_id, decided_at="2026-11-23T10:06:00Z", error="X")
    assert store.release_decision(record.approval_id, decided_at="2026-11-23T10:05:00Z", error="X")
    released = store.get(record.approval_id)
    assert released.status is records.ApprovalStatus.PENDING and released.audit is None
    # Past the deadline nothing can be decided, even while PENDING.
    assert not store.record_decision(record.approval_id, _audit(), now_epoch=record.expires_at)
    store.discard(record.approval_id)
    assert store.get(record.approval_id) is None
    assert store.get("never-created-id-000000") is None


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("ProvisionedThroughputExceededException", ProviderThrottledError),
        ("ThrottlingException", ProviderThrottledError),
        ("InternalServerError", ProviderTimeoutError),
        ("ResourceNotFoundException", ConfigurationError),
        ("ValidationException", ApprovalError),
    ],
)
def test_dynamodb_errors_are_typed_by_code(code, expected):
    from reviewflow.providers.approval_store import DynamoApprovalStore

    client = boto3.client("dynamodb", region_name="us-east-1")
    with Stubber(client) as stub:
        stub.add_client_error("get_item", service_error_code=code)
        with pytest.raises(expected) as caught:
            DynamoApprovalStore(client, "t").get("Abcdefghijklmnopqrstuv")
    assert type(caught.value) is expected


# ----------------------------------------------------------------------------- protocol


def test_ids_and_secrets_are_long_random_and_url_safe():
    ids = {links.new_approval_id() for _ in range(200)}
    secrets_ = {links.new_link_secret() for _ in range(200)}
    assert len(ids) == 200 and len(secrets_) == 200
    assert all(len(i) >= 22 and links.is_well_formed_id(i) for i in ids)  # 16 bytes = 128 bits
    assert all(len(s) >= 43 for s in secrets_)  # 32 bytes = 256 bits
    url_safe = set(string.ascii_letters + string.digits + "-_")
    assert all(set(s) <= url_safe for s in secrets_)


def test_secret_matching():
    stored = hashlib.sha256(b"right").hexdigest()
    assert links.secret_matches("right", stored)
    for wrong in ("Right", "right ", "", None):
        assert not links.secret_matches(wrong, stored)
    assert not links.secret_matches("", hashlib.sha256(b"").hexdigest())


@pytest.mark.parametrize(
    ("origin", "fetch_site", "host", "refused"),
    [
        (None, None, "h.example", False),
        ("https://h.example", "same-origin", "h.example", False),
        ("http://127.0.0.1:8787", None, "127.0.0.1:8787", False),
        ("null", "same-origin", "h.example", False),
        ("https://h.example", None, None, True),
        ("https://evil.example", None, "h.example", True),
        ("javascript:alert(1)", None, "h.example", True),
        (None, "cross-site", "h.example", True),
        (None, "same-site", "h.example", True),
    ],
)
def test_cross_site_refusal(origin, fetch_site, host, refused):
    request = forms.HttpRequest(approval_id="x", origin=origin, sec_fetch_site=fetch_site, host=host)
    assert (forms.cross_site_refusal(request) is not None) is refused


def test_decision_form_parsing_keeps_what_a_browser_sends():
    body = "secret=abc&reviewer=+Sam+&comment=&decision=REJECTED&edited_response_text=a%0D%0Ab&extra=1"
    secret, form = forms.parse_decision_form(body, "application/x-www-form-urlencoded; charset=UTF-8")
    assert secret == "abc"
    assert form.decision == "REJECTED" and form.reviewer == "Sam" and form.comment is None
    assert form.edited_response_text == "a\nb"


def test_time_left_wording():
    start = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
    from reviewflow.presentation.formatting import format_time_left

    assert format_time_left(start + timedelta(days=2, hours=3, minutes=4), start) == "2 days 3 hours"
    assert format_time_left(start + timedelta(minutes=1, seconds=5), start) == "1 minute"
    assert format_time_left(start + timedelta(seconds=30), start) == "less than a minute"
    assert format_time_left(start, start) == "no time left"


def test_importing_the_handlers_reads_no_environment_and_builds_nothing():
    # Third-party libraries may read the environment while importing; reviewflow code may not.
    probe = """
import os, sys
reads = []
class Guard(dict):
    def _note(self, key):
        caller = sys._getframe(2).f_code.co_filename
        if "/reviewflow/" in caller:
            reads.append(f"{key} from {caller}")
    def __getitem__(self, key):
        self._note(key)
        return super().__getitem__(key)
    def get(self, key, default=None):
        self._note(key)
        return super().get(key, default)
    def __contains__(self, key):
        self._note(key)
        return super().__contains__(key)
    def items(self):
        self._note("*")
        return super().items()
sys.path.insert(0, sys.argv[1])
os.environ = Guard(os.environ)
import reviewflow.handlers.request_approval, reviewflow.handlers.approval_api
loaded = [m for m in ("boto3", "aws_lambda_powertools.event_handler", "reviewflow.providers.approval_store")
          if m in sys.modules]
print("loaded:", loaded, "reads:", reads)
"""
    result = subprocess.run(
        [sys.executable, "-c", probe, str(ROOT / "functions")], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "loaded: [] reads: []"
