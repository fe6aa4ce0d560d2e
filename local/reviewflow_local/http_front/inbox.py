"""The local reviewer's inbox page and the outbox files it links to.

- ``/``: pending and decided approvals (read from the approvals table named in the approval
  function's environment, without the token or the secret's hash), each with links to its
  approval email's ``.eml`` file and, while pending, to the emailed approval page; then every
  email, newest first, reminders and escalations marked as such, each with its recipient;
- ``/outbox/<file>.eml`` (download) and ``/outbox/<file>.html`` (the email's HTML part, under a
  CSP that allows no script, image or form).
"""

from __future__ import annotations

import base64
import hashlib
import html
import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from reviewflow_local.http_front.routes import Answer, Route
from reviewflow_local.outbox import Outbox, OutboxMessage, read_message

APPROVALS_TABLE_VARIABLE = "REVIEWFLOW_APPROVALS_TABLE"
# What the inbox reads of an approval item; ``task_token`` and ``secret_sha256`` are not listed.
INBOX_ATTRIBUTES = (
    "approval_id",
    "review_id",
    "product_id",
    "stage",
    "status",
    "created_at",
    "expires_at",
    "decision",
    "reviewer",
    "comment",
    "decided_at",
    "closed_reason",
)
INBOX_CSS = (
    "body{font:16px/1.5 system-ui,sans-serif;margin:0 auto;padding:1rem;max-width:72rem}"
    "table{border-collapse:collapse;width:100%}"
    "td,th{padding:.3rem .8rem;text-align:left;border-bottom:1px solid #ddd;vertical-align:top}"
    ".note{color:#57534e;font-size:.9rem}td{overflow-wrap:anywhere;max-width:16rem}"
    "code{overflow-wrap:anywhere}"
    # On a phone each row becomes a card of labelled lines: nothing scrolls sideways.
    "@media (max-width:40rem){table,tbody,tr,td{display:block;width:auto;max-width:none}"
    "tr.head{display:none}tr{border:1px solid #ddd;border-radius:.4rem;margin:0 0 .75rem;padding:.25rem 0}"
    "td{border:0;padding:.15rem .6rem}td::before{content:attr(data-label) ': ';font-weight:600}}"
)
_INBOX_CSS_HASH = base64.b64encode(hashlib.sha256(INBOX_CSS.encode("utf-8")).digest()).decode("ascii")
INBOX_HEADERS = {
    "Content-Type": "text/html; charset=utf-8",
    "Content-Security-Policy": (
        f"default-src 'none'; style-src 'sha256-{_INBOX_CSS_HASH}'; form-action 'none'; "
        "frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}
# The email view: the message's own inline styles, nothing else (no script, image or form).
EMAIL_VIEW_HEADERS = {
    "Content-Type": "text/html; charset=utf-8",
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'unsafe-inline'; form-action 'none'; "
        "frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}
NOT_FOUND: Answer = (404, {"Content-Type": "text/plain"}, b"not found\n")


class Inbox:
    def __init__(
        self,
        *,
        lambda_client: Any,
        routes: list[Route],
        outbox: Outbox,
        pending_approvals: Callable[[], list[dict[str, Any]]],
        outcome_count: Callable[[], int],
    ) -> None:
        self._lambda = lambda_client
        self._routes = routes
        self._outbox = outbox
        self._pending = pending_approvals
        self._outcomes = outcome_count
        self._table_name: str | None = None  # found on first use (see ``_approvals_table``)
        # Storefront deliveries (``reviewflow_local.storefront``): rows of ``DeliveryRecord.as_dict``.
        self.deliveries: Callable[[], list[dict[str, Any]]] | None = None

    def _approvals_table(self) -> str | None:
        """The table the approval route's own function reads (its environment names it)."""
        if self._table_name is None:
            self._table_name = ""
            for route in self._routes:
                config = self._lambda.get_function_configuration(FunctionName=route.function_arn)
                table = config.get("Environment", {}).get("Variables", {}).get(APPROVALS_TABLE_VARIABLE)
                if table:
                    self._table_name = table
                    break
        return self._table_name or None

    def approvals(self) -> list[dict[str, str]]:
        """Every approval item, pending and closed, oldest first: only the columns the inbox shows.

        The scan projects the listed attributes, so the task token and the secret's hash are
        never even read. Without an approval route (no table found) the pending list is used.
        """
        table = self._approvals_table()
        if table is None:
            return [{k: str(v) for k, v in item.items()} for item in self._pending()]
        import boto3

        names = {f"#a{i}": name for i, name in enumerate(INBOX_ATTRIBUTES)}
        dynamodb = boto3.client("dynamodb", region_name=self._lambda.meta.region_name)
        items: list[dict[str, str]] = []
        for page in dynamodb.get_paginator("scan").paginate(
            TableName=table,
            FilterExpression="begins_with(pk, :p)",
            ProjectionExpression=", ".join(names),
            ExpressionAttributeNames=names,
            ExpressionAttributeValues={":p": {"S": "approval#"}},
        ):
            for item in page["Items"]:
                items.append({key: _attribute_text(value) for key, value in item.items()})
        return sorted(items, key=lambda item: item.get("created_at", ""))

    def page(self) -> Answer:
        messages = self._outbox.messages()
        emails: dict[str, OutboxMessage] = {}  # approval id -> its approval email (not a reminder)
        for message in messages:
            if message.approval_id and message.reminder is None:
                emails.setdefault(message.approval_id, message)
        approvals = self.approvals()
        pending = [a for a in approvals if a.get("status") == "PENDING"]
        closed = [a for a in approvals if a.get("status") != "PENDING"]
        sent = "".join(_email_item(m) for m in reversed(messages))
        page = f"""<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="refresh" content="5"><title>reviewflow inbox</title>
<style>{INBOX_CSS}</style></head><body>
<h1>reviewflow — local inbox</h1>
<p>{self._outcomes()} outcome event(s) so far.
Outbox folder: <code>{_e(self._outbox.folder)}</code></p>
<p class=note>This is the local reviewer's own inbox, served only on 127.0.0.1: the
"approval page" links below are the links from the emails and carry their secret, exactly as the
emails do. Task tokens are never read by this page.</p>
<h2>Pending approvals</h2>{_pending_table(pending, emails)}
<h2>Decided and closed approvals</h2>{_closed_table(closed, emails)}
{_deliveries_section(self.deliveries)}
<h2>All emails</h2><ul>{sent or "<li>none yet</li>"}</ul></body></html>"""
        return 200, dict(INBOX_HEADERS), page.encode("utf-8")

    def outbox_file(self, name: str) -> Answer:
        if not re.fullmatch(r"[A-Za-z0-9_.-]+\.(eml|html)", name) or ".." in name:
            return NOT_FOUND
        stem, _, kind = name.rpartition(".")
        path = self._outbox.folder / f"{stem}.eml"
        if not path.is_file():
            return NOT_FOUND
        if kind == "eml":
            headers = {
                "Content-Type": "message/rfc822",
                "Content-Disposition": f'attachment; filename="{path.name}"',
            }
            return 200, headers, path.read_bytes()
        message = read_message(path)
        body = message.html or f"<pre>{html.escape(message.text)}</pre>"
        return 200, dict(EMAIL_VIEW_HEADERS), body.encode()


_PENDING_COLUMNS = ("review", "product", "stage", "requested", "deadline", "email")
_CLOSED_COLUMNS = ("review", "stage", "status", "decision", "reviewer", "decided at", "comment", "email")


def _table(columns: tuple[str, ...], rows: list[list[str]]) -> str:
    """Rows of ready HTML cells; each cell carries its column's name for the phone layout."""
    head = "".join(f"<th>{_e(name)}</th>" for name in columns)
    body = "".join(
        "<tr>"
        + "".join(f'<td data-label="{_e(name)}">{cell}</td>' for name, cell in zip(columns, row, strict=True))
        + "</tr>"
        for row in rows
    )
    return f'<table><tr class="head">{head}</tr>{body}</table>'


def _pending_table(pending: list[dict[str, str]], emails: dict[str, OutboxMessage]) -> str:
    rows = [
        [
            *_cells(a, ("review_id", "product_id", "stage", "created_at")),
            _e(_epoch_text(a.get("expires_at"))),
            _mail_links(emails.get(a.get("approval_id", "")), page=True),
        ]
        for a in pending
    ]
    if not rows:
        return "<p>No pending approvals.</p>"
    return _table(_PENDING_COLUMNS, rows)


def _closed_table(closed: list[dict[str, str]], emails: dict[str, OutboxMessage]) -> str:
    rows = [
        [
            *_cells(a, ("review_id", "stage", "status")),
            _e(_decision_text(a)),
            *_cells(a, ("reviewer", "decided_at", "comment")),
            _mail_links(emails.get(a.get("approval_id", "")), page=False),
        ]
        for a in closed
    ]
    if not rows:
        return "<p>Nothing decided yet.</p>"
    return _table(_CLOSED_COLUMNS, rows)


def _e(value: object) -> str:
    return html.escape(str(value), quote=True)


def _cells(item: dict[str, str], keys: tuple[str, ...]) -> list[str]:
    return [_e(item.get(key, "")) for key in keys]


def _attribute_text(value: dict[str, Any]) -> str:
    for kind in ("S", "N"):
        if kind in value:
            return str(value[kind])
    return str(next(iter(value.values()), ""))


def _epoch_text(epoch: str | None) -> str:
    try:
        return datetime.fromtimestamp(int(epoch or ""), UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    except ValueError:
        return ""


def _decision_text(item: dict[str, str]) -> str:
    if item.get("decision"):
        return item["decision"]
    return f"none ({item['closed_reason']})" if item.get("closed_reason") else "none"


def _mail_links(message: OutboxMessage | None, *, page: bool) -> str:
    if message is None:
        return "(no email)"
    links = [
        f'<a href="/outbox/{quote(message.path.stem)}.html">open email</a>',
        f'<a href="/outbox/{quote(message.path.name)}">.eml</a>',
    ]
    if page and message.approval_links:
        links.append(f'<a href="{_e(message.approval_links[0])}" rel="noreferrer">approval page</a>')
    return " · ".join(links)


def _email_item(message: OutboxMessage) -> str:
    """One line of "All emails": reminders and escalations marked, with their recipient."""
    kind = f"<strong>{_e(message.reminder)}</strong> " if message.reminder else ""
    to = f" to {_e(message.to)}" if message.to else ""
    return (
        f'<li>{kind}<a href="/outbox/{quote(message.path.stem)}.html">{_e(message.subject)}</a>{to} '
        f'(<a href="/outbox/{quote(message.path.name)}">.eml</a>)</li>'
    )


_DELIVERY_COLUMNS = ("state", "outcome", "review", "attempts", "endpoint")


def _deliveries_section(deliveries: Callable[[], list[dict[str, Any]]] | None) -> str:
    """The storefront delivery log (newest first); nothing when no storefront is configured."""
    if deliveries is None:
        return ""
    rows = [
        [
            _e(d["state"]),
            _e(d["detail_type"]),
            _e(d["review_id"]),
            _e(f"{len(d['attempts'])}: {', '.join(d['attempts'])}"),
            _e(d["url"]),
        ]
        for d in reversed(deliveries())
    ]
    table = _table(_DELIVERY_COLUMNS, rows) if rows else "<p>No deliveries yet.</p>"
    return f"<h2>Storefront deliveries</h2>{table}"
