"""CheckDraftReply / PublishGate: check a reply text with the toxicity provider and the reply policy.

``mode: draft`` checks the generated draft (harmful → refused, uncertain or against a rule → a
person); ``mode: publish`` is the gate every published reply passes, run on the exact text to be
published (the draft, or the edit a person approved). See ``domain/publish_gate.py``.
"""

from __future__ import annotations

from typing import Any

from reviewflow.domain.publish_gate import check_draft, check_for_publish
from reviewflow.models.steps import PublishGateRequest, ReplyCheckRequest, parse_step_input
from reviewflow.observability import add_metric, get_logger, lambda_entry
from reviewflow.providers import registry


@lambda_entry
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    if isinstance(event, dict) and event.get("mode") == "publish":
        request = parse_step_input(PublishGateRequest, event, subject="publish gate request").check_request()
    else:
        request = parse_step_input(ReplyCheckRequest, event, subject="reply check request")
    check = check_draft if request.mode == "draft" else check_for_publish
    result = check(request, provider=registry.reply_toxicity_provider(), policy=registry.reply_policy())
    get_logger().info(
        "reply checked",
        extra={
            "mode": request.mode,
            "verdict": result.verdict,
            "reason": result.reason,
            "band": result.band,
            "score": result.toxicity.score,
            "violations": [violation.rule for violation in result.violations],
            "overridden": result.overridden,
            "rescored": result.rescored,
            "policy_version": result.policy_version,
        },
    )
    add_metric(f"ReplyCheck.{request.mode}.{result.verdict}")
    return result.model_dump(mode="json")
