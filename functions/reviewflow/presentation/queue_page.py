"""The reviewer queue page: what waits for one roster reviewer, soonest deadline first.

Same document, style and headers as the approval pages (``pages.document``): everything
interpolated is escaped, there is no script and no form. Each entry shows its age and time left;
only the approval the queue was opened from is linked (relative, so it works under any stage
prefix), the others name the subject of the email that holds their link.
"""

from __future__ import annotations

import html
from datetime import datetime

from reviewflow.domain.approvals.links import approval_link
from reviewflow.domain.approvals.queue import QueueOutcome, QueueView
from reviewflow.domain.approvals.reminders import deadline_of
from reviewflow.domain.clock import parse_utc
from reviewflow.models.approvals import ApprovalRecord
from reviewflow.models.events import Stage
from reviewflow.presentation.emails import excerpt, subject_for
from reviewflow.presentation.formatting import format_age, format_deadline, format_time_left
from reviewflow.presentation.pages import Page, document

QUEUE_EXCERPT_CHARS = 160
#: From ``/<stage>/reviewers/<id>/queue`` up to ``/<stage>/``, where ``approvals/<id>`` lives.
_TO_API_ROOT = "../.."
_WAITING_FOR = {Stage.REVIEW: "Review to check", Stage.RESPONSE: "Reply to approve"}


def _e(value: object) -> str:
    return html.escape(str(value), quote=True)


def _entry(record: ApprovalRecord, view: QueueView, now: datetime) -> str:
    review = record.snapshot.review
    deadline = deadline_of(record)
    product = f"{review.product_name} ({review.product_id})" if review.product_name else review.product_id
    facts = [
        ("Product", product),
        ("Review id", review.review_id),
        ("Rating", f"{review.rating} / 5" if review.rating is not None else "none"),
        ("Waiting", format_age(parse_utc(record.created_at), now)),
        ("Time left", f"{format_time_left(deadline, now)} (until {format_deadline(deadline)})"),
    ]
    if record.stage is Stage.RESPONSE and record.snapshot.round:
        facts.append(("Draft", f"new draft {record.snapshot.round} of at most {record.snapshot.max_rounds}"))
    if record.reminders:
        facts.append(("Reminders sent", str(len(record.reminders))))
    details = "".join(f"<dt>{_e(k)}</dt><dd>{_e(v)}</dd>" for k, v in facts)
    if record.approval_id == view.via_approval_id:
        link = approval_link(_TO_API_ROOT, record.approval_id, view.secret)
        action = f'<p><a href="{_e(link)}">Open this approval</a> (the one this link came with).</p>'
    else:
        action = f"<p class=note>Open it from its email: “{_e(subject_for(record))}”.</p>"
    return (
        f'<li><section id="approval-{_e(record.approval_id)}">'
        f"<h2>{_e(_WAITING_FOR[record.stage])}</h2><dl>{details}</dl>"
        f"<p class=note>Written by a customer (untrusted):</p>"
        f"<blockquote>{_e(excerpt(review.review_text, QUEUE_EXCERPT_CHARS))}</blockquote>{action}"
        "</section></li>"
    )


def queue_page(view: QueueView) -> Page:
    if view.outcome is QueueOutcome.NOT_FOUND:
        return document(
            404,
            "Queue not found",
            "<section><p>This link does not open a queue. Use the complete queue link from one of "
            "your reviewflow emails.</p></section>",
        )
    if view.outcome is QueueOutcome.LINK_EXPIRED:
        return document(
            410,
            "This link has expired",
            "<section><p>The approval this link came with is past its deadline, so the link no longer "
            "opens your queue. The queue link in a newer email does.</p></section>",
        )
    if view.now is None:
        raise ValueError("the queue view needs the time it was listed at")
    now = view.now
    count = len(view.entries) + view.left_out
    summary = (
        "Nothing is waiting for you right now."
        if not count
        else f"{count} approval{'s' if count != 1 else ''} waiting for you, soonest deadline first."
    )
    intro = (
        f"<section><p class=note>Opened with your own link as <strong>{_e(view.reviewer_id)}</strong>, "
        f"at {_e(format_deadline(now))}. Viewing this page changes nothing.</p><p>{_e(summary)}</p></section>"
    )
    entries = "".join(_entry(record, view, now) for record in view.entries)
    listing = f"<ol class=queue>{entries}</ol>" if entries else ""
    more = (
        f"<section><p>{view.left_out} more not shown: decide the ones above first.</p></section>"
        if view.left_out
        else ""
    )
    return document(200, "Waiting for you", intro + listing + more)


def render_queue(view: QueueView) -> Page:
    page = queue_page(view)
    if page.status != view.status:
        raise ValueError(
            f"the {view.outcome.value} queue page has status {page.status}, the view {view.status}"
        )
    return page
