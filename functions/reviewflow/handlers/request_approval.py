"""HumanReview (``.waitForTaskToken``): store the pending approval and email its link.

Returns the ``ApprovalTicket`` (Step Functions ignores a token task's Lambda result; the ticket
is for logs and tests). The task resumes when a reviewer decides on the approval page.
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from reviewflow.config import get_settings
from reviewflow.domain import approvals
from reviewflow.errors import InvalidInputError
from reviewflow.models.events import describe_errors, summarize_errors
from reviewflow.models.steps import ApprovalRequest
from reviewflow.observability import lambda_entry
from reviewflow.providers import registry


@lambda_entry
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    try:
        request = ApprovalRequest.model_validate(event)
    except ValidationError as exc:
        # Described without input values: the event carries the task token.
        raise InvalidInputError(summarize_errors(describe_errors(exc), exc.error_count())) from None
    ticket = approvals.request_approval(
        request,
        store=registry.approval_store(),
        notifier=registry.notifier(),
        base_url=get_settings().approval_base_url,
    )
    return ticket.model_dump(mode="json")
