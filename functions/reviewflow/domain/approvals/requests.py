"""Requesting an approval: store it PENDING (task token server side, secret hashed), email its link.

If the email cannot be sent nobody can hold the link, so the item and its token are removed again
and the task fails (the workflow's Catch gives the review its outcome).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from pydantic import SecretStr

from reviewflow.domain.approvals.links import approval_link, hash_secret, new_approval_id, new_link_secret
from reviewflow.domain.clock import iso_utc, utc_now
from reviewflow.domain.ports import ApprovalStore, EmailComposer, Notifier
from reviewflow.errors import ApprovalError, ConfigurationError, ReviewflowError
from reviewflow.models.approvals import ApprovalRecord, ApprovalSnapshot, ApprovalStatus
from reviewflow.models.events import Stage
from reviewflow.models.steps import ApprovalRequest, ApprovalTicket
from reviewflow.observability import add_metric, get_logger


def snapshot_of(request: ApprovalRequest) -> ApprovalSnapshot:
    response = request.response if request.stage is Stage.RESPONSE else None
    return ApprovalSnapshot(
        review=request.review,
        review_toxicity=request.review_toxicity,
        sentiment=request.sentiment.sentiment if request.sentiment else None,
        sentiment_reason=request.sentiment.reason if request.sentiment else None,
        response_text=response.response_text if response else None,
        response_model_id=response.model_id if response else None,
        response_prompt_version=response.prompt_version if response else None,
        response_toxicity=request.response_toxicity if response else None,
        policy_violations=request.policy_violations if response else [],
        policy_version=request.policy_version if response else None,
        bands=request.bands if response else None,
        round=request.round if response else 0,
        max_rounds=request.max_rounds if response else 0,
        draft_rounds=request.draft_rounds if response else [],
    )


def request_approval(
    request: ApprovalRequest,
    *,
    store: ApprovalStore,
    notifier: Notifier,
    compose: EmailComposer,
    base_url: str,
    now: datetime | None = None,
) -> ApprovalTicket:
    """Store the pending approval (token server side, secret hashed), then email its link."""
    if not base_url:
        raise ConfigurationError("REVIEWFLOW_APPROVAL_BASE_URL must be the approval API's stage URL")
    if request.stage is Stage.RESPONSE and (request.response is None or request.bands is None):
        # The bands are what the page checks an edit against before it may be approved.
        raise ApprovalError("a RESPONSE-stage approval needs the generated response and the bands")
    now = now or utc_now()
    expires = now + timedelta(seconds=request.timeout_seconds)
    approval_id, secret = new_approval_id(), new_link_secret()
    record = ApprovalRecord(
        approval_id=approval_id,
        status=ApprovalStatus.PENDING,
        stage=request.stage,
        review_id=request.review.review_id,
        product_id=request.review.product_id,
        execution_id=request.execution_id,
        created_at=iso_utc(now),
        expires_at=int(expires.timestamp()),
        secret_sha256=hash_secret(secret),
        task_token=SecretStr(request.task_token),
        snapshot=snapshot_of(request),
    )
    log_keys = {"approval_id": approval_id, "review_id": record.review_id, "stage": record.stage.value}
    store.create(record)
    message = compose(record, link=approval_link(base_url, approval_id, secret))
    try:
        notifier.send(message)
    except ReviewflowError as exc:
        # Nobody can hold this link (the email never went out): drop the item and its token.
        get_logger().error("approval email not sent", extra={**log_keys, "error_type": type(exc).__name__})
        _discard_quietly(store, approval_id)
        raise
    get_logger().info("approval requested", extra={**log_keys, "expires_at": iso_utc(expires)})
    add_metric("ApprovalsRequested")
    return ApprovalTicket(approval_id=approval_id, expires_at=iso_utc(record.expires_at_datetime))


def _discard_quietly(store: ApprovalStore, approval_id: str) -> None:
    try:
        store.discard(approval_id)
    except ReviewflowError as exc:
        get_logger().warning(
            "could not discard unsent approval",
            extra={"approval_id": approval_id, "error_type": type(exc).__name__},
        )
