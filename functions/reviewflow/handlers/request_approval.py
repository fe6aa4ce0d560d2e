"""HumanReview (``.waitForTaskToken``): store the pending approval and email its link.

Returns the ``ApprovalTicket`` (Step Functions ignores a token task's Lambda result; the ticket
is for logs and tests). The task resumes when a reviewer decides on the approval page.
"""

from __future__ import annotations

from typing import Any

from reviewflow.domain.approvals.requests import request_approval
from reviewflow.models.steps import ApprovalRequest, parse_step_input
from reviewflow.observability import lambda_entry
from reviewflow.presentation.emails import build_email
from reviewflow.providers import registry


@lambda_entry
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    request = parse_step_input(ApprovalRequest, event, subject="approval request")
    ticket = request_approval(
        request,
        store=registry.approval_store(),
        notifier=registry.notifier(),
        compose=build_email,
        base_url=registry.runtime_settings().approval_base_url,
        reviewer_ids=registry.runtime_settings().roster_ids,
    )
    return ticket.model_dump(mode="json")
