"""What a reviewer's browser sends: the request's parts, the cross-site check, the decision form.

Everything here is a pure function of the request, so each rule is tested without a table or a
workflow. A refusal is a ``ValueError`` whose message a reviewer can read and that never echoes
what was sent.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

from pydantic import ValidationError

from reviewflow.models.approvals import ApprovalRecord, DecisionAudit
from reviewflow.models.events import Decision, Stage
from reviewflow.models.steps import DecisionForm

MAX_FORM_BYTES = 64 * 1024
MAX_USER_AGENT_CHARS = 512
FORM_CONTENT_TYPE = "application/x-www-form-urlencoded"
ALLOWED_FETCH_SITES = frozenset({"same-origin", "none"})

_FORBIDDEN_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_FORM_FIELDS = (
    "secret",
    "decision",
    "reviewer",
    "comment",
    "edited_response_text",
    "policy_override_reason",
    "guidance",
)


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
    values = _form_values(body, content_type)
    secret = values.pop("secret", None)
    if "decision" not in values:
        raise ValueError("Choose Approve or Reject.")
    for optional in ("reviewer", "comment", "policy_override_reason", "guidance"):
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


def _form_values(body: str | None, content_type: str | None) -> dict[str, str]:
    """The known fields of an urlencoded body, each at most once, line breaks normalised."""
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
    if duplicated := next((name for name in _FORM_FIELDS if len(fields.get(name, [])) > 1), None):
        raise ValueError(f"The form field '{duplicated}' was sent more than once.")
    values = {
        name: fields[name][0].replace("\r\n", "\n").replace("\r", "\n")
        for name in _FORM_FIELDS
        if name in fields
    }
    if controlled := next((name for name, value in values.items() if _FORBIDDEN_CONTROL.search(value)), None):
        raise ValueError(f"The form field '{controlled}' contains control characters.")
    return values


def _normalized(text: str | None) -> str:
    return (text or "").replace("\r\n", "\n").replace("\r", "\n").strip()


def audit_of(
    form: DecisionForm,
    record: ApprovalRecord,
    request: HttpRequest,
    decided_at: str,
    *,
    reviewer_id: str | None = None,
) -> DecisionAudit:
    """The audit record of this decision; an approved edit that differs from the draft is kept.

    ``reviewer_id``: the roster reviewer whose own link decided. Their id is the reviewer of the
    record, verified; a typed name in the form is ignored then (it proves nothing). Without it
    (the anonymous link) the typed name is kept, unverified.

    A new draft is accepted only where the page offers it: at the RESPONSE stage, while rounds
    remain, with guidance. The workflow checks the round again (a task token can be resumed
    without this page), but refusing here keeps the approval pending instead of failing the review.
    """
    guidance = _new_draft_guidance(form, record)
    edited_text: str | None = None
    if record.stage is Stage.RESPONSE and form.edited_response_text is not None:
        submitted = _normalized(form.edited_response_text)
        if submitted != _normalized(record.snapshot.response_text):
            if not submitted and form.decision is Decision.APPROVED:
                raise ValueError("The reply cannot be empty. Restore the text or reject the reply.")
            edited_text = submitted if form.decision is Decision.APPROVED else None
    return DecisionAudit(
        decision=form.decision,
        reviewer=reviewer_id if reviewer_id is not None else form.reviewer,
        comment=form.comment,
        decided_at=decided_at,
        source_ip=request.source_ip or None,
        user_agent=(request.user_agent or "")[:MAX_USER_AGENT_CHARS] or None,
        response_edited=edited_text is not None,
        edited_response_text=edited_text,
        policy_override_reason=form.policy_override_reason if form.decision is Decision.APPROVED else None,
        reviewer_id=reviewer_id,
        reviewer_verified=reviewer_id is not None,
        guidance=guidance,
    )


def _new_draft_guidance(form: DecisionForm, record: ApprovalRecord) -> str | None:
    """The guidance of an acceptable new-draft request; ``None`` for any other decision."""
    if form.decision is not Decision.NEW_DRAFT_REQUESTED:
        return None
    if record.stage is not Stage.RESPONSE:
        raise ValueError("A new draft can be requested only for a reply.")
    if not record.snapshot.new_draft_allowed:
        raise ValueError("No more new drafts can be requested for this reply. Approve or reject it.")
    if not form.guidance:
        raise ValueError("Say what the new draft should do differently.")
    return form.guidance
