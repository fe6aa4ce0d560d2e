"""Showing an approval and deciding it exactly once, then resuming the workflow.

An approval is created PENDING by ``requests.request_approval`` and moves exactly once, by a conditional
write, to APPROVED or REJECTED when a reviewer POSTs the form; only then is the workflow resumed
with ``SendTaskSuccess``. A GET never writes (mail scanners prefetch links). The use cases return
an ``ApprovalView`` — what the reviewer should be told — and ``reviewflow.presentation.pages``
renders it; nothing here knows HTML.

Secrets: the task token stays in the table (server side only); the link secret travels in the
email link and the form body, and only its SHA-256 is stored. Neither is ever logged, put in an
error message or rendered anywhere but the form's hidden field.

When ``SendTaskSuccess`` fails:
- the execution is no longer waiting (TaskTimedOut / TaskDoesNotExist / InvalidToken): the item
  is closed as EXPIRED (keeping the attempted decision as audit) and the reviewer gets a 410 page;
- any other failure (throttling, a transient or unexpected service error): the decision is rolled
  back to PENDING with a conditional update, so the reviewer can simply submit again. This was
  chosen over an ERROR state because the workflow is still waiting and a retry is the only useful
  next step. Caveat: after an ambiguous failure (a timeout where the call may have gone through)
  a retry is answered TaskTimedOut and the item is closed EXPIRED; the workflow already has the
  first decision, which its outcome event records.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from reviewflow.domain.approvals.forms import HttpRequest, audit_of, cross_site_refusal, parse_decision_form
from reviewflow.domain.approvals.links import is_well_formed_id, reviewer_of, secret_matches
from reviewflow.domain.clock import iso_utc, utc_now
from reviewflow.domain.ports import ApprovalStore, ToxicityProvider, WorkflowClient
from reviewflow.domain.publish_gate import check_edit
from reviewflow.domain.reply_policy import ReplyPolicy
from reviewflow.errors import ApprovalError, ExecutionNotWaitingError, ProviderError, ReviewflowError
from reviewflow.models.approvals import ApprovalRecord, ApprovalStatus, DecisionAudit
from reviewflow.models.events import Decision, Stage
from reviewflow.models.replies import ReplyCheck
from reviewflow.models.steps import TaskDecision
from reviewflow.observability import add_metric, get_logger


class View(StrEnum):
    """What the reviewer is told; each has one page in ``reviewflow.presentation.pages``."""

    FORM = "form"
    DECIDED = "decided"
    ALREADY_DECIDED = "already_decided"
    BAD_REQUEST = "bad_request"
    FORBIDDEN = "forbidden"
    CROSS_SITE = "cross_site"
    NOT_FOUND = "not_found"
    EXPIRED = "expired"
    NO_LONGER_WAITING = "no_longer_waiting"
    TRY_AGAIN = "try_again"
    EDIT_REFUSED = "edit_refused"  # the reply would not pass the publish gate; still pending
    SERVER_ERROR = "server_error"


@dataclass(frozen=True)
class ApprovalView:
    """The answer to one request: which view, its HTTP status, and what the page shows."""

    view: View
    status: int
    record: ApprovalRecord | None = None
    reason: str = ""
    secret: str = field(default="", repr=False)  # FORM and EDIT_REFUSED: for the hidden field
    now: datetime | None = None
    check: ReplyCheck | None = None  # EDIT_REFUSED: what the gate found in the submitted reply
    reviewer_id: str | None = None  # FORM and EDIT_REFUSED: the roster reviewer whose link this is


@dataclass(frozen=True)
class LinkHolder:
    """Who holds a valid link: a roster reviewer (``reviewer_id``) or the anonymous link (None)."""

    reviewer_id: str | None


def link_holder(secret: str | None, record: ApprovalRecord) -> LinkHolder | None:
    """The holder of this secret's link, or ``None`` when it opens nothing.

    With a roster only the reviewers' own links count (``secret_sha256`` is empty then); both
    checks run every time, each in constant time.
    """
    reviewer_id = reviewer_of(secret, record.reviewer_links)
    anonymous = bool(record.secret_sha256) and secret_matches(secret, record.secret_sha256)
    if reviewer_id is not None:
        return LinkHolder(reviewer_id)
    return LinkHolder(None) if anonymous else None


def show_approval(request: HttpRequest, *, store: ApprovalStore, now: datetime | None = None) -> ApprovalView:
    """GET: the decision page, or the reason there is none. Never writes."""
    now = now or utc_now()
    record = _load(request.approval_id, store)
    if record is None:
        return ApprovalView(View.NOT_FOUND, 404)
    holder = link_holder(request.secret, record)
    if holder is None:
        return ApprovalView(View.FORBIDDEN, 403)
    closed = _closed_view(record, now, decided_status=200)
    if closed is not None:
        return closed
    return ApprovalView(
        View.FORM, 200, record=record, secret=request.secret or "", now=now, reviewer_id=holder.reviewer_id
    )


def _closed_view(record: ApprovalRecord, now: datetime, *, decided_status: int) -> ApprovalView | None:
    """Why this approval can no longer be decided, or ``None`` while it can."""
    if record.status is ApprovalStatus.EXPIRED:
        return ApprovalView(View.NO_LONGER_WAITING, 410)
    if record.status is not ApprovalStatus.PENDING:
        return ApprovalView(View.ALREADY_DECIDED, decided_status, record=record)
    if record.expired(now):
        return ApprovalView(View.EXPIRED, 410, record=record)
    return None


def decide_approval(
    request: HttpRequest,
    *,
    store: ApprovalStore,
    workflow: WorkflowClient,
    toxicity: ToxicityProvider,
    policy: ReplyPolicy,
    now: datetime | None = None,
) -> ApprovalView:
    """POST: check the form (and an approved reply, as the publish gate will), record the decision
    exactly once, then resume the workflow."""
    now = now or utc_now()
    log_keys: dict[str, Any] = {"approval_id": request.approval_id}
    refusal = cross_site_refusal(request)
    if refusal:
        get_logger().warning("cross-site decision refused", extra={**log_keys, "reason": refusal})
        return ApprovalView(View.CROSS_SITE, 403)
    if not is_well_formed_id(request.approval_id):
        return ApprovalView(View.NOT_FOUND, 404)
    try:
        secret, form = parse_decision_form(request.body, request.content_type)
    except ValueError as exc:
        return ApprovalView(View.BAD_REQUEST, 400, reason=str(exc))
    record = _load(request.approval_id, store)
    if record is None:
        return ApprovalView(View.NOT_FOUND, 404)
    holder = link_holder(secret, record)
    if holder is None:
        get_logger().warning("decision with a wrong secret", extra=log_keys)
        return ApprovalView(View.FORBIDDEN, 403)
    log_keys.update(review_id=record.review_id, stage=record.stage.value)
    closed = _closed_view(record, now, decided_status=409)
    if closed is not None:
        return closed
    try:
        audit = audit_of(form, record, request, iso_utc(now), reviewer_id=holder.reviewer_id)
    except ValueError as exc:
        return ApprovalView(View.BAD_REQUEST, 400, reason=str(exc))
    refused = _gate_refusal(record, audit, toxicity=toxicity, policy=policy)
    if refused is not None:
        get_logger().info("approved reply refused", extra={**log_keys, "reason": refused.reason})
        add_metric("ApprovalEditsRefused")
        return ApprovalView(
            View.EDIT_REFUSED,
            422,
            record=record,
            secret=secret or "",
            now=now,
            check=refused,
            reviewer_id=holder.reviewer_id,
        )
    return _record_and_resume(record, audit, store=store, workflow=workflow, now=now, log_keys=log_keys)


def _gate_refusal(
    record: ApprovalRecord, audit: DecisionAudit, *, toxicity: ToxicityProvider, policy: ReplyPolicy
) -> ReplyCheck | None:
    """The gate's verdict on a reply being approved, when it would refuse it; else ``None``."""
    snapshot = record.snapshot
    if record.stage is not Stage.RESPONSE or audit.decision is not Decision.APPROVED:
        return None
    if snapshot.bands is None or snapshot.response_text is None or snapshot.response_toxicity is None:
        raise ApprovalError("a RESPONSE-stage approval was stored without its draft check")
    check = check_edit(
        audit.edited_response_text or snapshot.response_text,
        snapshot_text=snapshot.response_text,
        snapshot_toxicity=snapshot.response_toxicity,
        review=snapshot.review,
        review_toxicity=snapshot.review_toxicity,
        bands=snapshot.bands,
        provider=toxicity,
        policy=policy,
        override_reason=audit.policy_override_reason,
    )
    return check if check.verdict == "refuse" else None


def _record_and_resume(
    record: ApprovalRecord,
    audit: DecisionAudit,
    *,
    store: ApprovalStore,
    workflow: WorkflowClient,
    now: datetime,
    log_keys: dict[str, Any],
) -> ApprovalView:
    if not store.record_decision(record.approval_id, audit, now_epoch=int(now.timestamp())):
        # Someone else decided (or the deadline passed) between our read and our write.
        current = store.get(record.approval_id)
        if current is not None and current.status is ApprovalStatus.EXPIRED:
            return ApprovalView(View.NO_LONGER_WAITING, 410)
        if current is not None and current.status is not ApprovalStatus.PENDING:
            return ApprovalView(View.ALREADY_DECIDED, 409, record=current)
        return ApprovalView(View.EXPIRED, 410, record=record)
    decided = record.model_copy(update={"status": ApprovalStatus(audit.decision.value), "audit": audit})
    return _resume_workflow(decided, audit, store=store, workflow=workflow, now=now, log_keys=log_keys)


def _resume_workflow(
    record: ApprovalRecord,
    audit: DecisionAudit,
    *,
    store: ApprovalStore,
    workflow: WorkflowClient,
    now: datetime,
    log_keys: dict[str, Any],
) -> ApprovalView:
    decision = task_decision_of(record, audit)
    token = record.task_token.get_secret_value() if record.task_token else ""
    try:
        if not token:
            raise ExecutionNotWaitingError("MissingTaskToken")
        workflow.send_task_success(token, decision.model_dump_json())
    except ExecutionNotWaitingError as exc:
        get_logger().warning("workflow no longer waiting", extra={**log_keys, "code": exc.code})
        store.mark_not_waiting(record.approval_id, reason=exc.code, closed_at=iso_utc(now))
        add_metric("ApprovalsTooLate")
        return ApprovalView(View.NO_LONGER_WAITING, 410)
    except ProviderError as exc:
        return _roll_back(record, audit, exc, store=store, log_keys=log_keys, status=503)
    except ApprovalError as exc:
        return _roll_back(record, audit, exc, store=store, log_keys=log_keys, status=502)
    get_logger().info("approval decided", extra={**log_keys, "decision": audit.decision.value})
    add_metric("ApprovalsDecided")
    try:
        store.mark_delivered(record.approval_id, decision=audit.decision, delivered_at=iso_utc(now))
    except ReviewflowError as exc:  # the workflow has the decision; the token just stays until TTL
        get_logger().warning(
            "could not mark approval delivered", extra={**log_keys, "error_type": type(exc).__name__}
        )
    return ApprovalView(View.DECIDED, 200, record=record)


def _roll_back(
    record: ApprovalRecord,
    audit: DecisionAudit,
    exc: ReviewflowError,
    *,
    store: ApprovalStore,
    log_keys: dict[str, Any],
    status: int,
) -> ApprovalView:
    """Undo our decision so the reviewer can resubmit: 503 when retrying may help, else 502."""
    error_type = type(exc).__name__
    get_logger().error("could not resume workflow", extra={**log_keys, "error_type": error_type})
    try:
        released = store.release_decision(record.approval_id, decided_at=audit.decided_at, error=error_type)
    except ReviewflowError as release_exc:
        released = False
        get_logger().error(
            "could not roll the decision back",
            extra={**log_keys, "error_type": type(release_exc).__name__},
        )
    if not released:
        get_logger().error("decision recorded but not delivered", extra=log_keys)
    return ApprovalView(View.TRY_AGAIN, status)


def task_decision_of(record: ApprovalRecord, audit: DecisionAudit) -> TaskDecision:
    return TaskDecision(
        approval_id=record.approval_id,
        stage=record.stage,
        decision=audit.decision,
        reviewer=audit.reviewer,
        comment=audit.comment,
        decided_at=audit.decided_at,
        response_edited=audit.response_edited,
        edited_response_text=audit.edited_response_text if audit.response_edited else None,
        policy_override_reason=audit.policy_override_reason,
        round=record.snapshot.round,
        guidance=audit.guidance,
        source_ip=audit.source_ip,
        user_agent=audit.user_agent[:512] if audit.user_agent else None,
        reviewer_id=audit.reviewer_id,
        reviewer_verified=audit.reviewer_verified,
        reminders=list(record.reminders),  # sent before this decision (send_reminders)
    )


def _load(approval_id: str, store: ApprovalStore) -> ApprovalRecord | None:
    record = store.get(approval_id) if is_well_formed_id(approval_id) else None
    if record is not None:  # API events carry no review id; correlate the logs once it is known
        get_logger().set_correlation_id(record.review_id)
    return record
