"""The reminder schedule in the local runtime: the deployed ``send_reminders`` function, invoked
as its EventBridge rule would, at a time the caller chooses.

moto keeps EventBridge schedules but never fires them, so the runtime invokes the function itself
with a scheduled event whose ``time`` is the run's "now" (the same field EventBridge sets). Tests
drive the clock this way: a reminder at half the approval window is one call, not half a window
of waiting.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from reviewflow.domain.clock import iso_utc
from reviewflow_local.deployment import LocalPipelineError

#: The stack output that names the reminder function (stacks/reviewflow_stack.py).
FUNCTION_OUTPUT = "ReminderFunctionName"


def scheduled_event(now: datetime) -> dict[str, Any]:
    """The event an EventBridge schedule delivers, at ``now``."""
    return {
        "version": "0",
        "id": f"local-reminders-{int(now.timestamp())}",
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "time": iso_utc(now),
        "region": "us-east-1",
        "resources": [],
        "detail": {},
    }


def run_reminders(pipeline: Any, *, now: datetime | None = None) -> dict[str, Any]:
    """Invoke the deployed reminder function once; returns what it did (``ReminderRun.as_dict``)."""
    outputs = pipeline.resources.outputs
    if FUNCTION_OUTPUT not in outputs:
        raise LocalPipelineError(f"the deployed stack has no {FUNCTION_OUTPUT} output (an older template?)")
    answer = pipeline.client("lambda").invoke(
        FunctionName=outputs[FUNCTION_OUTPUT],
        Payload=json.dumps(scheduled_event(now or datetime.now(UTC))).encode(),
    )
    payload: dict[str, Any] = json.loads(answer["Payload"].read() or b"{}")
    if answer.get("FunctionError"):
        raise LocalPipelineError(
            f"the reminder run failed: {payload.get('errorType', 'error')}: "
            f"{payload.get('errorMessage', '')} (see the function log)"
        )
    return payload
