"""Scheduled (EventBridge rule, every few minutes): remind and escalate pending approvals.

The scheduled event's ``time`` is the run's "now", so a replayed or test event decides exactly
as the scheduled one did; an event without it runs at the current time.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from reviewflow.domain.approvals.reminders import ReminderPlan, ReminderRun, send_due_reminders
from reviewflow.domain.clock import parse_utc, utc_now
from reviewflow.errors import InvalidInputError
from reviewflow.observability import add_metric, get_logger, lambda_entry
from reviewflow.presentation.reminder_emails import build_reminder_email
from reviewflow.providers import registry


def run_time(event: Any) -> datetime:
    moment = event.get("time") if isinstance(event, dict) else None
    if not moment:
        return utc_now()
    try:
        return parse_utc(str(moment))
    except ValueError as exc:
        raise InvalidInputError("the scheduled event's time is not an ISO 8601 timestamp") from exc


def plan_from_settings() -> ReminderPlan:
    settings = registry.runtime_settings()
    return ReminderPlan(
        reminder_fractions=tuple(float(part) for part in settings.reminder_fractions.split(",") if part),
        escalation_fraction=settings.escalation_fraction,
        escalation_reviewer_ids=tuple(part for part in settings.escalation_reviewer_ids.split(",") if part),
    )


@lambda_entry
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    run = send_due_reminders(
        run_time(event),
        plan_from_settings(),
        store=registry.reminder_store(),
        notifier=registry.reviewer_notifier(),
        compose=build_reminder_email,
        base_url=registry.runtime_settings().approval_base_url,
    )
    report(run)
    return run.as_dict()


def report(run: ReminderRun) -> None:
    """One log line per run, one per undelivered message (ids only: bodies carry link secrets)."""
    logger = get_logger()
    delivered = [d for d in run.deliveries if d.delivered]
    for failed in (d for d in run.deliveries if not d.delivered):
        logger.error(
            "reminder recorded but not delivered",
            extra={
                "approval_id": failed.approval_id,
                "step": failed.step.value,
                "reviewer_id": failed.reviewer_id or None,
                "error_type": failed.error,
            },
        )
    logger.info(
        "reminder run",
        extra={
            "now": run.now,
            "examined": run.examined,
            "delivered": len(delivered),
            "undelivered": len(run.deliveries) - len(delivered),
            "lost_races": run.lost_races,
        },
    )
    add_metric("RemindersSent", len(delivered))
    add_metric("RemindersUndelivered", len(run.deliveries) - len(delivered))
