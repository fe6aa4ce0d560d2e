"""Requesting an approval: store it PENDING (task token server side, secret hashed), email its link.

Without a roster there is one anonymous link (``secret_sha256``). With a roster each reviewer gets
their own secret, the item keeps ``reviewer_links`` (sha256 -> reviewer id) and no anonymous hash
(``secret_sha256`` is empty, which no secret matches), and one message per reviewer is published
with that reviewer's id, so the SNS filter policy delivers it to their mailbox only.

If an email cannot be sent the item and its token are removed again (a link already mailed to
another reviewer then leads to "not found") and the task fails (the workflow's Catch gives the
review its outcome).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from pydantic import SecretStr

from reviewflow.domain.approvals.links import (
    approval_link,
    hash_secret,
    new_approval_id,
    new_link_secret,
    queue_link,
)
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
    reviewer_ids: Sequence[str] = (),
    now: datetime | None = None,
) -> ApprovalTicket:
    """Store the pending approval (token server side, secrets hashed), then email its link(s)."""
    if not base_url:
        raise ConfigurationError("REVIEWFLOW_APPROVAL_BASE_URL must be the approval API's stage URL")
    if request.stage is Stage.RESPONSE and (request.response is None or request.bands is None):
        # The bands are what the page checks an edit against before it may be approved.
        raise ApprovalError("a RESPONSE-stage approval needs the generated response and the bands")
    now = now or utc_now()
    expires = now + timedelta(seconds=request.timeout_seconds)
    approval_id = new_approval_id()
    roster = list(dict.fromkeys(reviewer_ids))
    # One secret per roster reviewer, or the one anonymous secret (reviewer None).
    secrets_by_reviewer: dict[str | None, str] = (
        {reviewer_id: new_link_secret() for reviewer_id in roster} if roster else {None: new_link_secret()}
    )
    record = ApprovalRecord(
        approval_id=approval_id,
        status=ApprovalStatus.PENDING,
        stage=request.stage,
        review_id=request.review.review_id,
        product_id=request.review.product_id,
        execution_id=request.execution_id,
        created_at=iso_utc(now),
        expires_at=int(expires.timestamp()),
        deadline_at=iso_utc(expires),  # what reminders measure the window against
        secret_sha256="" if roster else hash_secret(secrets_by_reviewer[None]),
        task_token=SecretStr(request.task_token),
        snapshot=snapshot_of(request),
        reviewer_links={
            hash_secret(secret): reviewer_id
            for reviewer_id, secret in secrets_by_reviewer.items()
            if reviewer_id is not None
        },
        reviewer_ids=roster,
    )
    log_keys = {"approval_id": approval_id, "review_id": record.review_id, "stage": record.stage.value}
    store.create(record)
    try:
        for reviewer_id, secret in secrets_by_reviewer.items():
            # Each message carries only its reviewer's links: the approval and their queue.
            queue_url = queue_link(base_url, reviewer_id, approval_id, secret) if reviewer_id else None
            message = compose(record, link=approval_link(base_url, approval_id, secret), queue_url=queue_url)
            notifier.send(message, reviewer=reviewer_id)
    except ReviewflowError as exc:
        # Nobody can hold this link (the email never went out): drop the item and its token.
        get_logger().error("approval email not sent", extra={**log_keys, "error_type": type(exc).__name__})
        _discard_quietly(store, approval_id)
        raise
    get_logger().info(
        "approval requested",
        extra={**log_keys, "expires_at": iso_utc(expires), "reviewers": len(roster)},
    )
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
