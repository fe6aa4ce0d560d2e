"""The RESPONSE-stage part of the approval page: the editable draft, what the checks found in it,
and, after a refused approval, why the publish gate would not let that reply through."""

from __future__ import annotations

import html

from reviewflow.models.approvals import ApprovalRecord
from reviewflow.models.events import ToxicityScore
from reviewflow.models.replies import PolicyViolation, ReplyCheck
from reviewflow.presentation.formatting import format_score, top_labels


def _e(value: object) -> str:
    return html.escape(str(value), quote=True)


def score_section(title: str, score: ToxicityScore | None) -> str:
    rows = "".join(f"<tr><td>{_e(label)}</td><td>{value:.2f}</td></tr>" for label, value in top_labels(score))
    table = f"<table><tr><th>Label</th><th>Score</th></tr>{rows}</table>" if rows else ""
    return (
        f"<h2>{_e(title)}</h2><p>Overall toxicity: <span class=badge>{_e(format_score(score))}</span>"
        f" <span class=note>(0 = harmless, 1 = toxic)</span></p>{table}"
    )


def _rules(violations: list[PolicyViolation]) -> str:
    items = "".join(
        f"<li><strong>{_e(v.rule)}</strong>: {_e(v.description)}"
        + ("" if v.overridable else " <em>(cannot be published over: change the text)</em>")
        + "</li>"
        for v in violations
    )
    return f"<ul class=rules>{items}</ul>"


def refusal_section(check: ReplyCheck) -> str:
    """Why the approval was refused; the approval is still pending and the text kept for editing."""
    if check.band == "harmful":
        labels = ", ".join(
            f"{name} {value:.2f}" for name, value in top_labels(check.toxicity, limit=4) if value > 0
        )
        why = (
            f"<p>This reply scores <strong>{_e(format_score(check.toxicity))}</strong> for toxicity"
            f"{' (' + _e(labels) + ')' if labels else ''}, above the harmful threshold. It cannot be "
            "published, whoever approves it. Change the text and approve again, or reject.</p>"
        )
    else:
        why = (
            "<p>This reply breaks the reply rules below. Change the text, or give a reason for publishing "
            "it as it is (rules marked as such cannot be published over).</p>" + _rules(check.violations)
        )
    return (
        f"<section class=refused role=alert><h2>Not approved yet</h2>{why}"
        "<p>Nothing was recorded; the approval is still waiting for you.</p></section>"
    )


def reply_section(record: ApprovalRecord, text: str | None = None) -> str:
    """The editable reply (``text``: what the reviewer last submitted, else the draft) and its checks."""
    snapshot = record.snapshot
    policy = ""
    if snapshot.policy_violations:
        policy = "<h2>Reply rules the draft breaks</h2>" + _rules(snapshot.policy_violations)
    reason_label = (
        "Reason for publishing over a reply rule (needed only if the reply breaks one; kept in the audit)"
    )
    return (
        "<section><h2>Draft reply</h2>"
        "<label for=edited_response_text>Reply (you may edit it before approving)</label>"
        '<textarea id=edited_response_text name=edited_response_text maxlength="4000">'
        f"{_e(text if text is not None else snapshot.response_text or '')}</textarea>"
        + (f"<p class=note>Model: {_e(snapshot.response_model_id)}</p>" if snapshot.response_model_id else "")
        + score_section("Draft reply toxicity", snapshot.response_toxicity)
        + policy
        + f"<label for=policy_override_reason>{_e(reason_label)}</label>"
        + '<textarea id=policy_override_reason name="policy_override_reason" maxlength="1000"></textarea>'
        + "</section>"
    )
