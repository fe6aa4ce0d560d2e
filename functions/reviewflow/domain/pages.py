"""The approval pages: self-contained HTML, every value escaped, strict headers.

Review text, names and model output are untrusted, so everything interpolated goes through
``_e`` (``html.escape`` with quotes). The only style is one inline ``<style>`` block allowed by
its hash in the Content-Security-Policy; there is no script and no external asset. The form
posts to the approval's own path (a relative URL without the query string), which works behind
the API stage prefix and locally alike; the link secret travels in a hidden field.
"""

from __future__ import annotations

import base64
import hashlib
import html
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from reviewflow.models.events import Decision, Stage, ToxicityScore

if TYPE_CHECKING:  # pragma: no cover - imports for type checkers only
    from reviewflow.domain.approvals import ApprovalRecord

CSS = (
    "*{box-sizing:border-box}"
    "body{margin:0;background:#f5f5f4;color:#1c1917;"
    "font:16px/1.5 system-ui,-apple-system,'Segoe UI',Roboto,sans-serif}"
    "main{max-width:46rem;margin:0 auto;padding:1rem}"
    "h1{font-size:1.4rem;margin:.5rem 0 1rem}h2{font-size:1.1rem;margin:1.5rem 0 .5rem}"
    "section{background:#fff;border:1px solid #d6d3d1;border-radius:.5rem;padding:1rem;margin:0 0 1rem}"
    "section>h2:first-child,section>p:first-child{margin-top:0}section>p:last-child{margin-bottom:0}"
    "blockquote{margin:0;padding:.75rem;background:#fafaf9;border-left:4px solid #a8a29e;"
    "white-space:pre-wrap;overflow-wrap:anywhere}"
    "dl{display:grid;grid-template-columns:max-content 1fr;gap:.25rem 1rem;margin:0}"
    "dt{font-weight:600}dd{margin:0;overflow-wrap:anywhere}"
    "table{border-collapse:collapse;width:100%}td,th{text-align:left;padding:.25rem .5rem;"
    "border-bottom:1px solid #e7e5e4}"
    "label{display:block;font-weight:600;margin:.75rem 0 .25rem}"
    "input[type=text],textarea{width:100%;font:inherit;padding:.5rem;border:1px solid #a8a29e;"
    "border-radius:.375rem}"
    "textarea{min-height:10rem}"
    ".actions{display:flex;flex-wrap:wrap;gap:.75rem;margin-top:1rem}"
    "button{font:inherit;font-weight:600;padding:.75rem 1.5rem;border:0;border-radius:.375rem;"
    "cursor:pointer;flex:1 1 10rem}"
    ".approve{background:#15803d;color:#fff}.reject{background:#b91c1c;color:#fff}"
    ".note{color:#57534e;font-size:.9rem}.badge{font-weight:700}"
    ".deadline{background:#fef3c7;border-color:#f59e0b}"
)
_CSS_HASH = base64.b64encode(hashlib.sha256(CSS.encode("utf-8")).digest()).decode("ascii")

CONTENT_SECURITY_POLICY = (
    f"default-src 'none'; style-src 'sha256-{_CSS_HASH}'; img-src 'none'; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'"
)
SECURITY_HEADERS: dict[str, str] = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
    "X-Frame-Options": "DENY",
    "X-Robots-Tag": "noindex, nofollow",
}
HTML_CONTENT_TYPE = "text/html; charset=utf-8"

STAGE_QUESTION = {
    Stage.REVIEW: "Is this customer review acceptable to answer?",
    Stage.RESPONSE: "May this reply be published?",
}
STAGE_EFFECT = {
    Stage.REVIEW: (
        "Approve: the pipeline goes on to write a reply. "
        "Reject: the review is treated as harmful content and not answered."
    ),
    Stage.RESPONSE: (
        "Approve: the reply below is published, including your edits. Reject: no reply is published."
    ),
}


@dataclass(frozen=True)
class Page:
    status: int
    body: str
    headers: dict[str, str] = field(default_factory=lambda: dict(SECURITY_HEADERS))


def _e(value: object) -> str:
    return html.escape(str(value), quote=True)


def _document(status: int, title: str, content: str) -> Page:
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
    return _document(
        status, title, "<section>" + "".join(f"<p>{_e(p)}</p>" for p in paragraphs) + "</section>"
    )


# ----------------------------------------------------------------------------- formatting


def format_score(score: ToxicityScore | None) -> str:
    if score is None:
        return "not scored"
    if not score.scorable or score.score is None:
        return "could not be scored automatically" + (f" ({score.note})" if score.note else "")
    return f"{score.score:.2f}"


def top_labels(score: ToxicityScore | None, limit: int = 7) -> list[tuple[str, float]]:
    if score is None:
        return []
    return sorted(score.labels.items(), key=lambda item: (-item[1], item[0]))[:limit]


def format_deadline(expires_at: datetime) -> str:
    return expires_at.strftime("%Y-%m-%d %H:%M UTC")


def format_time_left(expires_at: datetime, now: datetime) -> str:
    seconds = int((expires_at - now).total_seconds())
    if seconds <= 0:
        return "no time left"
    days, rest = divmod(seconds, 86_400)
    hours, rest = divmod(rest, 3_600)
    minutes = rest // 60
    parts = [
        f"{n} {unit}{'' if n == 1 else 's'}"
        for n, unit in ((days, "day"), (hours, "hour"), (minutes, "minute"))
        if n
    ]
    return " ".join(parts[:2]) or "less than a minute"


def _score_section(title: str, score: ToxicityScore | None) -> str:
    rows = "".join(f"<tr><td>{_e(label)}</td><td>{value:.2f}</td></tr>" for label, value in top_labels(score))
    table = f"<table><tr><th>Label</th><th>Score</th></tr>{rows}</table>" if rows else ""
    return (
        f"<h2>{_e(title)}</h2><p>Overall toxicity: <span class=badge>{_e(format_score(score))}</span>"
        f" <span class=note>(0 = harmless, 1 = toxic)</span></p>{table}"
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
        f"{_score_section('Review toxicity', snapshot.review_toxicity)}</section>"
    )


# ----------------------------------------------------------------------------- pages


def review_form(record: ApprovalRecord, *, secret: str, now: datetime) -> Page:
    snapshot = record.snapshot
    deadline = record.expires_at_datetime
    reply = ""
    if record.stage is Stage.RESPONSE:
        reply = (
            "<section><h2>Draft reply</h2>"
            "<label for=edited_response_text>Reply (you may edit it before approving)</label>"
            '<textarea id=edited_response_text name=edited_response_text maxlength="4000">'
            f"{_e(snapshot.response_text or '')}</textarea>"
            + (
                f"<p class=note>Model: {_e(snapshot.response_model_id)}</p>"
                if snapshot.response_model_id
                else ""
            )
            + _score_section("Reply toxicity", snapshot.response_toxicity)
            + "</section>"
        )
    # Relative action: ".../approvals/<id>" without the "?s=" query, under any stage prefix.
    form = (
        f'<form method="post" action="{_e(record.approval_id)}">{reply}'
        f'<section><input type="hidden" name="secret" value="{_e(secret)}">'
        "<label for=reviewer>Your name (optional, kept in the audit record)</label>"
        '<input type="text" id=reviewer name="reviewer" maxlength="200" autocomplete="name">'
        "<label for=comment>Comment (optional)</label>"
        '<textarea id=comment name="comment" maxlength="2000"></textarea>'
        "<div class=actions>"
        '<button type="submit" name="decision" value="APPROVED" class=approve>Approve</button>'
        '<button type="submit" name="decision" value="REJECTED" class=reject>Reject</button>'
        "</div></section></form>"
    )
    content = (
        f"<section class=deadline><p><strong>{_e(STAGE_QUESTION[record.stage])}</strong></p>"
        f"<p>{_e(STAGE_EFFECT[record.stage])}</p>"
        f"<p>Time left: <strong>{_e(format_time_left(deadline, now))}</strong> "
        f"(until {_e(format_deadline(deadline))}). After that the review fails as timed out.</p></section>"
        f"{_review_section(record)}{form}"
    )
    return _document(200, "Review needed", content)


def _decision_summary(record: ApprovalRecord) -> str:
    audit = record.audit
    if audit is None:
        return "<p>This review has been decided.</p>"
    verb = "approved" if audit.decision is Decision.APPROVED else "rejected"
    who = f" by {_e(audit.reviewer)}" if audit.reviewer else ""
    parts = [f"<p>This review was <strong>{verb}</strong>{who} at {_e(audit.decided_at)}.</p>"]
    if audit.comment:
        parts.append(f"<p>Comment:</p><blockquote>{_e(audit.comment)}</blockquote>")
    if audit.response_edited and audit.edited_response_text:
        parts.append(
            f"<p>Published reply (edited):</p><blockquote>{_e(audit.edited_response_text)}</blockquote>"
        )
    return "".join(parts)


def decided(record: ApprovalRecord) -> Page:
    """After a successful POST."""
    return _document(
        200,
        "Decision recorded",
        f"<section>{_decision_summary(record)}<p>Thank you. The pipeline has resumed.</p></section>",
    )


def already_decided(record: ApprovalRecord, *, status: int) -> Page:
    return _document(
        status,
        "Already decided",
        f"<section>{_decision_summary(record)}<p>A decision can be made only once.</p></section>",
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
