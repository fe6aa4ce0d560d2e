"""Wording shared by the approval pages and the reviewer email: scores, labels, deadlines."""

from __future__ import annotations

from datetime import datetime

from reviewflow.models.events import Stage, ToxicityScore

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


def format_score(score: ToxicityScore | None) -> str:
    if score is None:
        return "not scored"
    if not score.scorable or score.score is None:
        return "could not be scored automatically" + (f" ({score.note})" if score.note else "")
    if score.needs_person and score.note:  # why a person is asked although the score is low
        return f"{score.score:.2f} ({score.note})"
    return f"{score.score:.2f}"


def top_labels(score: ToxicityScore | None, limit: int = 7) -> list[tuple[str, float]]:
    if score is None:
        return []
    return sorted(score.labels.items(), key=lambda item: (-item[1], item[0]))[:limit]


def format_deadline(expires_at: datetime) -> str:
    return expires_at.strftime("%Y-%m-%d %H:%M UTC")


def _duration(seconds: int) -> str:
    """At most two units, largest first: "1 day 3 hours", "5 minutes"; "" under a minute."""
    days, rest = divmod(seconds, 86_400)
    hours, rest = divmod(rest, 3_600)
    minutes = rest // 60
    parts = [
        f"{n} {unit}{'' if n == 1 else 's'}"
        for n, unit in ((days, "day"), (hours, "hour"), (minutes, "minute"))
        if n
    ]
    return " ".join(parts[:2])


def format_time_left(expires_at: datetime, now: datetime) -> str:
    seconds = int((expires_at - now).total_seconds())
    if seconds <= 0:
        return "no time left"
    return _duration(seconds) or "less than a minute"


def format_age(since: datetime, now: datetime) -> str:
    """How long something has been waiting: "just now", "2 hours 5 minutes"."""
    return _duration(max(0, int((now - since).total_seconds()))) or "just now"
