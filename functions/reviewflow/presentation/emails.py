"""The reviewer email: a plain-text body (what SNS delivers) and an escaped HTML alternative.

The subject carries no secret and nothing a customer wrote (only ids, which are restricted to
a safe character set). The body quotes the review as clearly delimited, untrusted text and ends
with the one link that carries the approval's secret (and, for a roster reviewer, their queue
link with the same secret).
"""

from __future__ import annotations

import html
from email.message import EmailMessage

from reviewflow.models.approvals import ApprovalRecord
from reviewflow.models.events import Stage
from reviewflow.presentation.formatting import (
    STAGE_EFFECT,
    STAGE_QUESTION,
    format_deadline,
    format_score,
    top_labels,
)

EXCERPT_CHARS = 500
MAX_SUBJECT_CHARS = 99
SENDER = "reviewflow <no-reply@reviewflow.invalid>"
# Inline styles (mail clients drop <style> blocks): fit a 390-px phone, wrap long words and links.
_BODY_STYLE = (
    "margin:0;padding:12px;max-width:40rem;font:16px/1.5 system-ui,sans-serif;overflow-wrap:anywhere"
)
_QUOTE_STYLE = (
    "margin:0 0 12px;padding:8px;border-left:4px solid #a8a29e;white-space:pre-wrap;overflow-wrap:anywhere"
)


def excerpt(text: str, limit: int = EXCERPT_CHARS) -> str:
    text = text.strip()
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def subject_for(record: ApprovalRecord) -> str:
    what = "reply" if record.stage is Stage.RESPONSE else "review"
    if record.stage is Stage.RESPONSE and record.snapshot.round:
        what = f"reply (new draft {record.snapshot.round})"
    subject = f"Review needed: {what} for product {record.product_id} (review {record.review_id})"
    return subject if len(subject) <= MAX_SUBJECT_CHARS else subject[: MAX_SUBJECT_CHARS - 3] + "..."


def _labels_line(record: ApprovalRecord, response: bool) -> str:
    score = record.snapshot.response_toxicity if response else record.snapshot.review_toxicity
    labels = ", ".join(f"{name} {value:.2f}" for name, value in top_labels(score, limit=4))
    return f"{format_score(score)}" + (f" ({labels})" if labels else "")


def _new_draft(record: ApprovalRecord) -> tuple[str, str, str] | None:
    """For a new draft: which round it is, who gave the guidance, and the guidance (staff text)."""
    snapshot = record.snapshot
    if record.stage is not Stage.RESPONSE or not snapshot.round:
        return None
    heading = f"This is new draft {snapshot.round} of at most {snapshot.max_rounds}."
    if not snapshot.draft_rounds:
        return heading, "", ""
    latest = snapshot.draft_rounds[-1]
    who = f" by {latest.requested_by}" if latest.requested_by else ""
    return heading, f"Guidance given{who}:", excerpt(latest.guidance)


def text_body(record: ApprovalRecord, link: str, queue_url: str | None = None) -> str:
    snapshot, review = record.snapshot, record.snapshot.review
    deadline = format_deadline(record.expires_at_datetime)
    lines = [
        STAGE_QUESTION[record.stage],
        STAGE_EFFECT[record.stage],
        "",
        f"Product:  {review.product_name + ' ' if review.product_name else ''}({review.product_id})",
        f"Review:   {review.review_id}",
        f"Rating:   {f'{review.rating} / 5' if review.rating is not None else 'none'}",
        f"Review toxicity: {_labels_line(record, response=False)}",
    ]
    if snapshot.sentiment:
        lines.append(f"Sentiment: {snapshot.sentiment}")
    lines += [
        "",
        "----- review text (written by a customer; untrusted) -----",
        excerpt(review.review_text),
        "----- end of review text -----",
    ]
    if record.stage is Stage.RESPONSE:
        new_draft = _new_draft(record)
        if new_draft is not None:
            lines += ["", *(line for line in new_draft if line)]
        lines += [
            "",
            f"Reply toxicity: {_labels_line(record, response=True)}",
            "----- draft reply -----",
            snapshot.response_text or "",
            "----- end of draft reply -----",
        ]
    lines += [
        "",
        f"Decide before {deadline}. After that the review fails as timed out.",
        "Open the page below to read everything and approve or reject (opening it changes nothing):",
        link,
        "",
        "The link is personal: do not forward it.",
    ]
    if queue_url:
        lines += [
            "",
            "Everything waiting for you (your queue, opened with the same personal link):",
            queue_url,
        ]
    return "\n".join(lines) + "\n"


def html_body(record: ApprovalRecord, link: str, queue_url: str | None = None) -> str:
    snapshot, review = record.snapshot, record.snapshot.review

    def e(value: object) -> str:
        return html.escape(str(value), quote=True)

    facts = [
        (
            "Product",
            f"{review.product_name} ({review.product_id})" if review.product_name else review.product_id,
        ),
        ("Review", review.review_id),
        ("Rating", f"{review.rating} / 5" if review.rating is not None else "none"),
        ("Review toxicity", _labels_line(record, response=False)),
    ]
    if snapshot.sentiment:
        facts.append(("Sentiment", snapshot.sentiment))
    rows = "".join(
        f'<tr><th align=left valign=top style="padding-right:8px;white-space:nowrap">{e(k)}</th>'
        f'<td style="overflow-wrap:anywhere;word-break:break-word">{e(v)}</td></tr>'
        for k, v in facts
    )
    reply = ""
    if record.stage is Stage.RESPONSE:
        new_draft = _new_draft(record)
        if new_draft is not None:
            heading, given, guidance = new_draft
            reply = f"<p><strong>{e(heading)}</strong></p>"
            if guidance:
                reply += f'<p>{e(given)}</p><blockquote style="{_QUOTE_STYLE}">{e(guidance)}</blockquote>'
        reply += (
            f"<p><strong>Draft reply</strong> (toxicity {e(_labels_line(record, response=True))}):</p>"
            f'<blockquote style="{_QUOTE_STYLE}">{e(snapshot.response_text or "")}</blockquote>'
        )
    return (
        '<!doctype html><html><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1"></head>'
        f'<body style="{_BODY_STYLE}">'
        f"<p><strong>{e(STAGE_QUESTION[record.stage])}</strong></p><p>{e(STAGE_EFFECT[record.stage])}</p>"
        f'<table style="border-collapse:collapse;max-width:100%">{rows}</table>'
        "<p><strong>Review text</strong> (written by a customer; untrusted):</p>"
        f'<blockquote style="{_QUOTE_STYLE}">{e(excerpt(review.review_text))}</blockquote>'
        f"{reply}"
        f"<p>Decide before {e(format_deadline(record.expires_at_datetime))}.</p>"
        f'<p><a href="{e(link)}">Open the approval page</a> (opening it changes nothing).</p>'
        "<p>The link is personal: do not forward it.</p>"
        + (f'<p><a href="{e(queue_url)}">Everything waiting for you</a></p>' if queue_url else "")
        + "</body></html>"
    )


def build_email(
    record: ApprovalRecord, *, link: str, recipient: str | None = None, queue_url: str | None = None
) -> EmailMessage:
    """The whole message; SNS sends its text part, the local runtime writes it as an ``.eml``.
    A roster reviewer's message also links their queue (``queue_url``)."""
    message = EmailMessage()
    message["Subject"] = subject_for(record)
    message["From"] = SENDER
    if recipient:
        message["To"] = recipient
    message["X-Reviewflow-Approval-Id"] = record.approval_id
    message["X-Reviewflow-Stage"] = record.stage.value
    message.set_content(text_body(record, link, queue_url))
    message.add_alternative(html_body(record, link, queue_url), subtype="html")
    return message
