"""The approval pages: one page per ``View`` the human-review use cases return.

Review text, names and model output are untrusted, so everything interpolated goes through
``_e`` (``html.escape`` with quotes). Style and headers come from ``style``; there is no script
and no external asset. The form posts to the approval's own path (a relative URL without the
query string), which works behind the API stage prefix and locally alike; the link secret
travels in a hidden field. Pages render what they are given and decide nothing.
"""

from __future__ import annotations

import html
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from reviewflow.domain.approvals.decisions import ApprovalView, View
from reviewflow.domain.approvals.links import queue_link
from reviewflow.models.approvals import ApprovalRecord
from reviewflow.models.events import Decision, Stage
from reviewflow.models.replies import ReplyCheck
from reviewflow.models.steps import MAX_GUIDANCE_CHARS
from reviewflow.presentation.formatting import (
    STAGE_EFFECT,
    STAGE_QUESTION,
    format_deadline,
    format_time_left,
)
from reviewflow.presentation.reply_section import refusal_section, reply_section, score_section
from reviewflow.presentation.style import CSS, HTML_CONTENT_TYPE, SECURITY_HEADERS

__all__ = ["HTML_CONTENT_TYPE", "Page", "document", "render"]


@dataclass(frozen=True)
class Page:
    status: int
    body: str
    headers: dict[str, str] = field(default_factory=lambda: dict(SECURITY_HEADERS))


def _e(value: object) -> str:
    return html.escape(str(value), quote=True)


def document(status: int, title: str, content: str) -> Page:
    body = (
        "<!doctype html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<meta name="referrer" content="no-referrer">'
        '<meta name="robots" content="noindex, nofollow">'
        f"<title>{_e(title)} - reviewflow</title><style>{CSS}</style></head>"
        f"<body><main><h1>{_e(title)}</h1>{content}</main></body></html>\n"
    )
    return Page(status=status, body=body)


def _message(status: int, title: str, *paragraphs: str) -> Page:
    return document(
        status, title, "<section>" + "".join(f"<p>{_e(p)}</p>" for p in paragraphs) + "</section>"
    )


def _review_section(record: ApprovalRecord) -> str:
    snapshot = record.snapshot
    review = snapshot.review
    facts = [
        (
            "Product",
            f"{review.product_name} ({review.product_id})" if review.product_name else review.product_id,
        ),
        ("Reviewer", review.reviewer_name or "anonymous"),
        ("Rating", f"{review.rating} / 5" if review.rating is not None else "none"),
        ("Language", review.language),
        ("Review id", review.review_id),
    ]
    if review.posted_at:
        facts.append(("Posted", review.posted_at))
    if snapshot.sentiment:
        facts.append(("Sentiment", f"{snapshot.sentiment} - {snapshot.sentiment_reason or ''}".rstrip(" -")))
    details = "".join(f"<dt>{_e(k)}</dt><dd>{_e(v)}</dd>" for k, v in facts)
    return (
        "<section><h2>The review</h2>"
        f"<p class=note>Written by a customer: treat it as untrusted text.</p>"
        f"<blockquote>{_e(review.review_text)}</blockquote>"
        f"<h2>Details</h2><dl>{details}</dl>"
        f"{score_section('Review toxicity', snapshot.review_toxicity)}</section>"
    )


def _identity_fields(reviewer_id: str | None, *, approval_id: str, secret: str) -> str:
    """A roster reviewer is greeted (their link proves who they are) and offered their queue; the
    anonymous link asks for a name."""
    if reviewer_id is not None:
        # Relative: from ``<stage>/approvals/<id>`` to ``<stage>/reviewers/<id>/queue``.
        queue = queue_link("..", reviewer_id, approval_id, secret)
        return (
            f"<p class=note>Signed in by your own link as <strong>{_e(reviewer_id)}</strong>: "
            f'your decision is recorded under this name. <a href="{_e(queue)}">Everything waiting '
            "for you</a></p>"
        )
    return (
        "<label for=reviewer>Your name (optional, kept in the audit record)</label>"
        '<input type="text" id=reviewer name="reviewer" maxlength="200" autocomplete="name">'
    )


def review_form(
    record: ApprovalRecord,
    *,
    secret: str,
    now: datetime,
    refused: ReplyCheck | None = None,
    reviewer_id: str | None = None,
) -> Page:
    """The decision form; after a refused approval (422) it says why and keeps the submitted reply."""
    deadline = record.expires_at_datetime
    reply = ""
    if record.stage is Stage.RESPONSE:
        reply = reply_section(record, text=refused.text if refused else None)
    # Relative action: ".../approvals/<id>" without the "?s=" query, under any stage prefix.
    form = (
        f'<form method="post" action="{_e(record.approval_id)}">{reply}'
        f'<section><input type="hidden" name="secret" value="{_e(secret)}">'
        f"{_identity_fields(reviewer_id, approval_id=record.approval_id, secret=secret)}"
        "<label for=comment>Comment (optional)</label>"
        '<textarea id=comment name="comment" maxlength="2000"></textarea>'
        "<div class=actions>"
        '<button type="submit" name="decision" value="APPROVED" class=approve>Approve</button>'
        '<button type="submit" name="decision" value="REJECTED" class=reject>Reject</button>'
        "</div></section></form>"
    )
    if record.stage is Stage.RESPONSE:
        form = _earlier_rounds(record) + form + _new_draft_form(record, secret=secret)
    content = (
        f"<section class=deadline><p><strong>{_e(STAGE_QUESTION[record.stage])}</strong></p>"
        f"<p>{_e(STAGE_EFFECT[record.stage])}</p>"
        f"<p>Time left: <strong>{_e(format_time_left(deadline, now))}</strong> "
        f"(until {_e(format_deadline(deadline))}). After that the review fails as timed out.</p></section>"
        f"{_review_section(record)}{form}"
    )
    if refused is not None:
        return document(422, "Review needed", refusal_section(refused) + content)
    return document(200, "Review needed", content)


def _earlier_rounds(record: ApprovalRecord) -> str:
    """The guidance given for the drafts before this one (staff text, still escaped)."""
    rounds = record.snapshot.draft_rounds
    if not rounds:
        return ""
    items = "".join(
        f"<li>Round {entry.round}: <blockquote>{_e(entry.guidance)}</blockquote></li>" for entry in rounds
    )
    return (
        f"<section><h2>New drafts so far</h2><p>This is new draft {record.snapshot.round} of at most "
        f"{record.snapshot.max_rounds}. Guidance given for each:</p><ol>{items}</ol></section>"
    )


def _new_draft_form(record: ApprovalRecord, *, secret: str) -> str:
    """Its own form, so that its required guidance never blocks Approve or Reject; offered only
    while rounds remain (the POST checks the same)."""
    snapshot = record.snapshot
    if not snapshot.new_draft_allowed:
        return ""
    left = snapshot.max_rounds - snapshot.round
    return (
        f'<form method="post" action="{_e(record.approval_id)}"><section><h2>Request a new draft</h2>'
        "<p>The reply is written again following your guidance, checked again, and sent back to you. "
        f"{left} new draft{'s' if left != 1 else ''} left for this review.</p>"
        f'<input type="hidden" name="secret" value="{_e(secret)}">'
        "<label for=reviewer_new_draft>Requested by (optional, kept in the audit record)</label>"
        '<input type="text" id=reviewer_new_draft name="reviewer" maxlength="200" autocomplete="name">'
        "<label for=guidance>What should the new draft do differently? (required)</label>"
        f'<textarea id=guidance name="guidance" maxlength="{MAX_GUIDANCE_CHARS}" required></textarea>'
        "<div class=actions>"
        '<button type="submit" name="decision" value="NEW_DRAFT_REQUESTED" class=redraft>'
        "Request a new draft</button>"
        "</div></section></form>"
    )


_DECISION_VERBS = {
    Decision.APPROVED: "approved",
    Decision.REJECTED: "rejected",
    Decision.NEW_DRAFT_REQUESTED: "sent back for a new draft",
}


def _decision_summary(record: ApprovalRecord) -> str:
    audit = record.audit
    if audit is None:
        return "<p>This review has been decided.</p>"
    verb = _DECISION_VERBS[audit.decision]
    who = f" by {_e(audit.reviewer)}" if audit.reviewer else ""
    parts = [f"<p>This review was <strong>{verb}</strong>{who} at {_e(audit.decided_at)}.</p>"]
    if audit.comment:
        parts.append(f"<p>Comment:</p><blockquote>{_e(audit.comment)}</blockquote>")
    if audit.guidance:
        parts.append(f"<p>Guidance for the new draft:</p><blockquote>{_e(audit.guidance)}</blockquote>")
    if audit.policy_override_reason:
        parts.append(
            "<p>Published over a reply rule because:</p>"
            f"<blockquote>{_e(audit.policy_override_reason)}</blockquote>"
        )
    if audit.response_edited and audit.edited_response_text:
        parts.append(
            f"<p>Published reply (edited):</p><blockquote>{_e(audit.edited_response_text)}</blockquote>"
        )
    return "".join(parts)


def decided(record: ApprovalRecord) -> Page:
    """After a successful POST."""
    return document(
        200,
        "Decision recorded",
        f"<section>{_decision_summary(record)}<p>Thank you. The pipeline has resumed.</p>"
        + (
            "<p>The new draft will be emailed for review like this one.</p>"
            if record.audit is not None and record.audit.decision is Decision.NEW_DRAFT_REQUESTED
            else ""
        )
        + "</section>",
    )


def already_decided(record: ApprovalRecord, *, status: int) -> Page:
    audit = record.audit
    who = ""
    if audit is not None and audit.reviewer_verified and audit.reviewer_id:
        # A roster decision: every reviewer's link now says who decided, and when.
        who = f"<p><strong>Already decided by {_e(audit.reviewer_id)} at {_e(audit.decided_at)}.</strong></p>"
    return document(
        status,
        "Already decided",
        f"<section>{who}{_decision_summary(record)}<p>A decision can be made only once.</p></section>",
    )


def bad_request(reason: str) -> Page:
    return _message(400, "The form could not be accepted", reason, "Go back to the page and try again.")


def forbidden(*, cross_site: bool = False) -> Page:
    if cross_site:
        return _message(403, "Not allowed", "Decisions can only be sent from the approval page itself.")
    return _message(
        403, "Not allowed", "This link is not valid. Use the complete link from the email you received."
    )


def not_found() -> Page:
    return _message(
        404, "Approval not found", "There is no pending approval at this address. It may have been removed."
    )


def expired(record: ApprovalRecord) -> Page:
    return _message(
        410,
        "This approval has expired",
        f"The deadline was {format_deadline(record.expires_at_datetime)}. "
        "The review was closed as timed out; nothing was changed.",
    )


def no_longer_waiting() -> Page:
    return _message(
        410,
        "This review is no longer waiting",
        "The pipeline stopped waiting for this decision (it timed out or was stopped), "
        "so your decision could not be applied.",
    )


def try_again(*, status: int = 503) -> Page:
    return _message(
        status,
        "Please try again",
        "Your decision could not be passed on to the pipeline just now, and it has not been recorded.",
        "Reload the link from your email and submit again in a minute.",
    )


def server_error() -> Page:
    return _message(500, "Something went wrong", "The page could not be shown. Please try again later.")


_RENDERERS: dict[View, Callable[[ApprovalView], Page]] = {
    View.FORM: lambda v: review_form(_record(v), secret=v.secret, now=_now(v), reviewer_id=v.reviewer_id),
    View.DECIDED: lambda v: decided(_record(v)),
    View.ALREADY_DECIDED: lambda v: already_decided(_record(v), status=v.status),
    View.BAD_REQUEST: lambda v: bad_request(v.reason),
    View.FORBIDDEN: lambda v: forbidden(),
    View.CROSS_SITE: lambda v: forbidden(cross_site=True),
    View.NOT_FOUND: lambda v: not_found(),
    View.EXPIRED: lambda v: expired(_record(v)),
    View.NO_LONGER_WAITING: lambda v: no_longer_waiting(),
    View.TRY_AGAIN: lambda v: try_again(status=v.status),
    View.SERVER_ERROR: lambda v: server_error(),
    View.EDIT_REFUSED: lambda v: review_form(
        _record(v), secret=v.secret, now=_now(v), refused=v.check, reviewer_id=v.reviewer_id
    ),
}


def _record(view: ApprovalView) -> ApprovalRecord:
    if view.record is None:
        raise ValueError(f"the {view.view.value} view needs the approval record")
    return view.record


def _now(view: ApprovalView) -> datetime:
    if view.now is None:
        raise ValueError("the form view needs the time it was shown at")
    return view.now


def render(view: ApprovalView) -> Page:
    """The page for what a use case decided; its status is the view's."""
    page = _RENDERERS[view.view](view)
    if page.status != view.status:
        raise ValueError(f"the {view.view.value} page has status {page.status}, the view {view.status}")
    return page
