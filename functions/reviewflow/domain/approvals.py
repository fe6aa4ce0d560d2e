"""The human-review protocol (DESIGN §4): ids, link secrets, state transitions, audit.

An approval is created PENDING by ``request_approval`` and moves exactly once, by a conditional
write, to APPROVED or REJECTED when a reviewer POSTs the form; only then is the workflow resumed
with ``SendTaskSuccess``. A GET never writes (mail scanners prefetch links).

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

import hashlib
import hmac
import json
import re
import secrets
import traceback
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, quote, urlsplit

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError

from reviewflow.errors import ApprovalError, ConfigurationError, ProviderError, ReviewflowError
from reviewflow.models.events import Decision, ReviewPosted, Sentiment, Stage, ToxicityScore
from reviewflow.models.steps import ApprovalRequest, ApprovalTicket, DecisionForm, TaskDecision
from reviewflow.observability import add_metric, get_logger

if TYPE_CHECKING:  # pragma: no cover - imports for type checkers only
    from reviewflow.domain.pages import Page
    from reviewflow.providers.approval_store import ApprovalStore
    from reviewflow.providers.notifier import Notifier
    from reviewflow.providers.workflow_client import WorkflowClient

APPROVAL_ID_BYTES = 16  # 128 bits; the id is also the table key, so it must not be guessable
LINK_SECRET_BYTES = 32  # 256 bits
MAX_FORM_BYTES = 64 * 1024
MAX_USER_AGENT_CHARS = 512
FORM_CONTENT_TYPE = "application/x-www-form-urlencoded"
ALLOWED_FETCH_SITES = frozenset({"same-origin", "none"})

_APPROVAL_ID = re.compile(r"^[A-Za-z0-9_-]{16,64}$")
_FORBIDDEN_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_FORM_FIELDS = ("secret", "decision", "reviewer", "comment", "edited_response_text")


class ApprovalStatus(StrEnum):
    PENDING = "PENDING"
    APPROVED = "APPROVED"
    REJECTED = "REJECTED"
    EXPIRED = "EXPIRED"  # the workflow stopped waiting before a decision reached it


def utc_now() -> datetime:
    """The clock every transition reads (tests replace it)."""
    return datetime.now(UTC)


def iso_utc(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


# ----------------------------------------------------------------------------- ids and secrets


def new_approval_id() -> str:
    return secrets.token_urlsafe(APPROVAL_ID_BYTES)


def new_link_secret() -> str:
    return secrets.token_urlsafe(LINK_SECRET_BYTES)


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def secret_matches(candidate: str | None, stored_sha256: str) -> bool:
    """Constant-time comparison of hashes, so neither length nor prefix of the secret leaks."""
    supplied = hash_secret(candidate or "")
    return hmac.compare_digest(supplied.encode("ascii"), stored_sha256.encode("ascii")) and bool(candidate)


def is_well_formed_id(approval_id: str) -> bool:
    return bool(_APPROVAL_ID.fullmatch(approval_id))


def approval_link(base_url: str, approval_id: str, secret: str) -> str:
    return f"{base_url.rstrip('/')}/approvals/{quote(approval_id, safe='')}?s={quote(secret, safe='')}"


# ----------------------------------------------------------------------------- stored state


class ApprovalSnapshot(BaseModel):
    """What the page and the email show, frozen at request time."""

    model_config = ConfigDict(extra="forbid")

    review: ReviewPosted
    review_toxicity: ToxicityScore
    sentiment: Sentiment | None = None
    sentiment_reason: str | None = None
    response_text: str | None = None
    response_model_id: str | None = None
    response_prompt_version: str | None = None
    response_toxicity: ToxicityScore | None = None


class DecisionAudit(BaseModel):
    """Who decided, when, from where: written on the item in the same write as the decision."""

    model_config = ConfigDict(extra="forbid")

    decision: Decision
    reviewer: str | None = None
    comment: str | None = None
    decided_at: str
    source_ip: str | None = None
    user_agent: str | None = None
    response_edited: bool = False
    edited_response_text: str | None = None


class ApprovalRecord(BaseModel):
    """One approval item. ``task_token`` is a ``SecretStr`` so no repr or log can show it."""

    model_config = ConfigDict(extra="forbid")

    approval_id: str
    status: ApprovalStatus
    stage: Stage
    review_id: str
    product_id: str
    execution_id: str
    created_at: str
    expires_at: int = Field(description="epoch seconds; also the table's TTL attribute")
    secret_sha256: str
    task_token: SecretStr | None = None
    snapshot: ApprovalSnapshot
    audit: DecisionAudit | None = None
    delivered_at: str | None = None
    closed_reason: str | None = None
    closed_at: str | None = None
    last_delivery_error: str | None = None

    def expired(self, now: datetime) -> bool:
        return now.timestamp() >= self.expires_at

    @property
    def expires_at_datetime(self) -> datetime:
        return datetime.fromtimestamp(self.expires_at, UTC)


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
    )


# ----------------------------------------------------------------------------- request_approval


def request_approval(
    request: ApprovalRequest,
    *,
    store: ApprovalStore,
    notifier: Notifier,
    base_url: str,
    now: datetime | None = None,
) -> ApprovalTicket:
    """Store the pending approval (token server side, secret hashed), then email its link."""
    from reviewflow.domain.emails import build_email

    if not base_url:
        raise ConfigurationError("REVIEWFLOW_APPROVAL_BASE_URL must be the approval API's stage URL")
    if request.stage is Stage.RESPONSE and request.response is None:
        raise ApprovalError("a RESPONSE-stage approval needs the generated response")
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
    message = build_email(record, link=approval_link(base_url, approval_id, secret))
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


# ----------------------------------------------------------------------------- approval_api


@dataclass(frozen=True)
class HttpRequest:
    """The parts of an API Gateway request the protocol looks at."""

    approval_id: str
    secret: str | None = None  # GET: the ``s`` query parameter
    body: str | None = None  # POST: the decoded form body
    content_type: str | None = None
    host: str | None = None
    origin: str | None = None
    sec_fetch_site: str | None = None
    source_ip: str | None = None
    user_agent: str | None = None


def show_approval(request: HttpRequest, *, store: ApprovalStore, now: datetime | None = None) -> Page:
    """GET: render the decision page, or the reason there is none. Never writes."""
    from reviewflow.domain import pages

    now = now or utc_now()
    record = _load(request.approval_id, store)
    if record is None:
        return pages.not_found()
    if not secret_matches(request.secret, record.secret_sha256):
        return pages.forbidden()
    if record.status is ApprovalStatus.EXPIRED:
        return pages.no_longer_waiting()
    if record.status is not ApprovalStatus.PENDING:
        return pages.already_decided(record, status=200)
    if record.expired(now):
        return pages.expired(record)
    return pages.review_form(record, secret=request.secret or "", now=now)


def decide_approval(
    request: HttpRequest,
    *,
    store: ApprovalStore,
    workflow: WorkflowClient,
    now: datetime | None = None,
) -> Page:
    """POST: check the form, record the decision exactly once, then resume the workflow."""
    from reviewflow.domain import pages

    now = now or utc_now()
    log_keys: dict[str, Any] = {"approval_id": request.approval_id}
    refusal = cross_site_refusal(request)
    if refusal:
        get_logger().warning("cross-site decision refused", extra={**log_keys, "reason": refusal})
        return pages.forbidden(cross_site=True)
    if not is_well_formed_id(request.approval_id):
        return pages.not_found()
    try:
        secret, form = parse_decision_form(request.body, request.content_type)
    except ValueError as exc:
        return pages.bad_request(str(exc))
    record = _load(request.approval_id, store)
    if record is None:
        return pages.not_found()
    if not secret_matches(secret, record.secret_sha256):
        get_logger().warning("decision with a wrong secret", extra=log_keys)
        return pages.forbidden()
    log_keys.update(review_id=record.review_id, stage=record.stage.value)
    if record.status is ApprovalStatus.EXPIRED:
        return pages.no_longer_waiting()
    if record.status is not ApprovalStatus.PENDING:
        return pages.already_decided(record, status=409)
    if record.expired(now):
        return pages.expired(record)
    try:
        audit = _audit_of(form, record, request, now)
    except ValueError as exc:
        return pages.bad_request(str(exc))

    if not store.record_decision(record.approval_id, audit, now_epoch=int(now.timestamp())):
        # Someone else decided (or the deadline passed) between our read and our write.
        current = store.get(record.approval_id)
        if current is not None and current.status is ApprovalStatus.EXPIRED:
            return pages.no_longer_waiting()
        if current is not None and current.status is not ApprovalStatus.PENDING:
            return pages.already_decided(current, status=409)
        return pages.expired(record)
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
) -> Page:
    from reviewflow.domain import pages
    from reviewflow.providers.workflow_client import ExecutionNotWaitingError

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
        return pages.no_longer_waiting()
    except ProviderError as exc:
        return _roll_back(record, audit, exc, store=store, log_keys=log_keys, retryable=True)
    except ApprovalError as exc:
        return _roll_back(record, audit, exc, store=store, log_keys=log_keys, retryable=False)
    get_logger().info("approval decided", extra={**log_keys, "decision": audit.decision.value})
    add_metric("ApprovalsDecided")
    try:
        store.mark_delivered(record.approval_id, decision=audit.decision, delivered_at=iso_utc(now))
    except ReviewflowError as exc:  # the workflow has the decision; the token just stays until TTL
        get_logger().warning(
            "could not mark approval delivered", extra={**log_keys, "error_type": type(exc).__name__}
        )
    return pages.decided(record)


def _roll_back(
    record: ApprovalRecord,
    audit: DecisionAudit,
    exc: ReviewflowError,
    *,
    store: ApprovalStore,
    log_keys: dict[str, Any],
    retryable: bool,
) -> Page:
    from reviewflow.domain import pages

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
    return pages.try_again(status=503 if retryable else 502)


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
        source_ip=audit.source_ip,
        user_agent=audit.user_agent[:512] if audit.user_agent else None,
    )


def _load(approval_id: str, store: ApprovalStore) -> ApprovalRecord | None:
    record = store.get(approval_id) if is_well_formed_id(approval_id) else None
    if record is not None:  # API events carry no review id; correlate the logs once it is known
        get_logger().set_correlation_id(record.review_id)
    return record


# ----------------------------------------------------------------------------- form and origin


def cross_site_refusal(request: HttpRequest) -> str | None:
    """Why a POST looks cross-site, or ``None``. Defence in depth: the secret is the real check.

    ``Origin: null`` is not a refusal: browsers send it for same-origin form posts from a page
    whose Referrer-Policy is ``no-referrer`` (ours), and ``Sec-Fetch-Site`` then says same-origin.
    """
    site = (request.sec_fetch_site or "").strip().lower()
    if site and site not in ALLOWED_FETCH_SITES:
        return f"sec-fetch-site={site[:32]}"
    origin = (request.origin or "").strip()
    if (
        origin
        and origin.lower() != "null"
        and (not request.host or _origin_host(origin) != _normal_host(request.host, _scheme_of(origin)))
    ):
        return "origin-mismatch"
    return None


def _scheme_of(origin: str) -> str:
    return urlsplit(origin).scheme.lower()


def _origin_host(origin: str) -> str | None:
    try:
        parts = urlsplit(origin)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        return None
    return _normal_host(parts.netloc, parts.scheme.lower())


def _normal_host(host: str, scheme: str) -> str:
    host = host.strip().lower()
    default_port = {"https": ":443", "http": ":80"}.get(scheme)
    if default_port and host.endswith(default_port):
        host = host[: -len(default_port)]
    return host


def parse_decision_form(body: str | None, content_type: str | None) -> tuple[str | None, DecisionForm]:
    """The secret and the validated form; ``ValueError`` with a reviewer-readable reason."""
    media_type = (content_type or "").split(";", 1)[0].strip().lower()
    if media_type != FORM_CONTENT_TYPE:
        raise ValueError("The form must be sent as application/x-www-form-urlencoded.")
    if not body:
        raise ValueError("The form was empty.")
    if len(body.encode("utf-8", errors="surrogatepass")) > MAX_FORM_BYTES:
        raise ValueError("The form is too large.")
    try:
        fields = parse_qs(
            body, keep_blank_values=True, strict_parsing=True, errors="strict", max_num_fields=20
        )
    except (ValueError, UnicodeDecodeError):
        raise ValueError("The form could not be read.") from None
    values: dict[str, str] = {}
    for name in _FORM_FIELDS:
        found = fields.get(name, [])
        if len(found) > 1:
            raise ValueError(f"The form field '{name}' was sent more than once.")
        if found:
            values[name] = found[0].replace("\r\n", "\n").replace("\r", "\n")
    for name, value in values.items():
        if _FORBIDDEN_CONTROL.search(value):
            raise ValueError(f"The form field '{name}' contains control characters.")
    secret = values.pop("secret", None)
    if "decision" not in values:
        raise ValueError("Choose Approve or Reject.")
    for optional in ("reviewer", "comment"):
        if optional in values:
            values[optional] = values[optional].strip()
            if not values[optional]:
                del values[optional]
    try:
        form = DecisionForm.model_validate(values)
    except ValidationError as exc:
        fields_in_error = sorted({str(err["loc"][0]) for err in exc.errors(include_input=False)})
        raise ValueError("Invalid value for: " + ", ".join(fields_in_error) + ".") from None
    return secret, form


def _normalized(text: str | None) -> str:
    return (text or "").replace("\r\n", "\n").replace("\r", "\n").strip()


def _audit_of(
    form: DecisionForm, record: ApprovalRecord, request: HttpRequest, now: datetime
) -> DecisionAudit:
    edited_text: str | None = None
    if record.stage is Stage.RESPONSE and form.edited_response_text is not None:
        submitted = _normalized(form.edited_response_text)
        if submitted != _normalized(record.snapshot.response_text):
            if not submitted and form.decision is Decision.APPROVED:
                raise ValueError("The reply cannot be empty. Restore the text or reject the reply.")
            edited_text = submitted if form.decision is Decision.APPROVED else None
    return DecisionAudit(
        decision=form.decision,
        reviewer=form.reviewer,
        comment=form.comment,
        decided_at=iso_utc(now),
        source_ip=request.source_ip or None,
        user_agent=(request.user_agent or "")[:MAX_USER_AGENT_CHARS] or None,
        response_edited=edited_text is not None,
        edited_response_text=edited_text,
    )


def describe_unexpected(exc: BaseException) -> dict[str, Any]:
    """Loggable facts about an unexpected error: type and frames, never the message.

    Messages of SDK and validation errors can echo request values (a task token, a form body).
    """
    frames = traceback.extract_tb(exc.__traceback__)[-8:]
    return {
        "error_type": type(exc).__name__,
        "frames": [f"{f.filename.rsplit('/', 1)[-1]}:{f.lineno} {f.name}" for f in frames],
    }


def snapshot_json(snapshot: ApprovalSnapshot) -> str:
    return json.dumps(snapshot.model_dump(mode="json", exclude_none=True), ensure_ascii=False)
