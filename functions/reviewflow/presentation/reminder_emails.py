"""The reminder and escalation emails: time left, what waits, and a fresh personal link.

Like the approval email, the subject carries only ids, and the body quotes a short excerpt of
the review (escaped in the HTML part); the full review is on the page behind the link.
"""

from __future__ import annotations

import html
from datetime import datetime
from email.message import EmailMessage

from reviewflow.domain.approvals.reminders import deadline_of
from reviewflow.models.approvals import ApprovalRecord
from reviewflow.models.events import Stage
from reviewflow.models.team import ReminderStep
from reviewflow.presentation.emails import MAX_SUBJECT_CHARS, SENDER, excerpt
from reviewflow.presentation.formatting import format_deadline, format_time_left

_QUOTE_STYLE = (
    "margin:0 0 12px;padding:8px;border-left:4px solid #a8a29e;white-space:pre-wrap;overflow-wrap:anywhere"
)
_LEAD = {
    ReminderStep.REMINDER: "Reminder: a review is still waiting for a decision.",
    ReminderStep.ESCALATION: (
        "Escalation: nobody on the review roster has decided this review yet, and its deadline is near."
    ),
}


def reminder_subject(record: ApprovalRecord, step: ReminderStep) -> str:
    what = "reply" if record.stage is Stage.RESPONSE else "review"
    label = "Escalation" if step is ReminderStep.ESCALATION else "Reminder"
    subject = f"{label}: {what} for product {record.product_id} still waiting (review {record.review_id})"
    return subject if len(subject) <= MAX_SUBJECT_CHARS else subject[: MAX_SUBJECT_CHARS - 3] + "..."


def _facts(record: ApprovalRecord, now: datetime) -> list[tuple[str, str]]:
    review = record.snapshot.review
    deadline = deadline_of(record)
    product = f"{review.product_name} ({review.product_id})" if review.product_name else review.product_id
    return [
        ("Product", product),
        ("Review", review.review_id),
        ("Waiting for", "approval of the reply" if record.stage is Stage.RESPONSE else "a review decision"),
        ("Time left", format_time_left(deadline, now)),
        ("Deadline", format_deadline(deadline)),
    ]


def reminder_text(
    record: ApprovalRecord, step: ReminderStep, link: str | None, now: datetime, queue_url: str | None = None
) -> str:
    lines = [_LEAD[step], ""]
    lines += [f"{name + ':':<12} {value}" for name, value in _facts(record, now)]
    lines += ["", "Review (excerpt):", excerpt(record.snapshot.review.review_text), ""]
    if link:
        lines += ["Open the page to read the review and decide (opening it changes nothing):", link, ""]
        lines.append("The link is personal: do not forward it.")
    else:
        lines.append("Use the link in the original approval email to decide.")
    if queue_url:
        lines += ["", "Everything waiting for you:", queue_url]
    lines += ["", "After the deadline the review fails as timed out; nobody decides it for you."]
    return "\n".join(lines) + "\n"


def reminder_html(
    record: ApprovalRecord, step: ReminderStep, link: str | None, now: datetime, queue_url: str | None = None
) -> str:
    def e(value: object) -> str:
        return html.escape(str(value), quote=True)

    rows = "".join(
        f'<tr><th align=left valign=top style="padding-right:8px">{e(k)}</th><td>{e(v)}</td></tr>'
        for k, v in _facts(record, now)
    )
    action = (
        f'<p><a href="{e(link)}">Open the approval page</a> (opening it changes nothing).</p>'
        "<p>The link is personal: do not forward it.</p>"
        if link
        else "<p>Use the link in the original approval email to decide.</p>"
    )
    queue = f'<p><a href="{e(queue_url)}">Everything waiting for you</a></p>' if queue_url else ""
    return (
        '<!doctype html><html><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1"></head>'
        '<body style="margin:0;padding:12px;max-width:40rem;font:16px/1.5 system-ui,sans-serif;'
        'overflow-wrap:anywhere">'
        f"<p><strong>{e(_LEAD[step])}</strong></p>"
        f'<table style="border-collapse:collapse;max-width:100%">{rows}</table>'
        f'<blockquote style="{_QUOTE_STYLE}">{e(excerpt(record.snapshot.review.review_text))}</blockquote>'
        f"{action}{queue}"
        "<p>After the deadline the review fails as timed out.</p></body></html>"
    )


def build_reminder_email(
    record: ApprovalRecord, step: ReminderStep, link: str | None, now: datetime, queue_url: str | None = None
) -> EmailMessage:
    message = EmailMessage()
    message["Subject"] = reminder_subject(record, step)
    message["From"] = SENDER
    message["X-Reviewflow-Approval-Id"] = record.approval_id
    message["X-Reviewflow-Stage"] = record.stage.value
    message["X-Reviewflow-Reminder"] = step.value
    message.set_content(reminder_text(record, step, link, now, queue_url))
    message.add_alternative(reminder_html(record, step, link, now, queue_url), subtype="html")
    return message
