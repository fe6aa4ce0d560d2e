"""Turn whatever the rule delivered into a ReviewPosted, or into the reasons it is not one."""

from __future__ import annotations

import re
import time
from typing import Any

from pydantic import ValidationError

from reviewflow.models.events import (
    ID_PATTERN,
    FieldError,
    ReviewPosted,
    describe_errors,
    summarize_errors,
)
from reviewflow.models.steps import ValidationResult

_EVENT_ID = re.compile(r"^[A-Za-z0-9-]{1,64}$")
DAY_SECONDS = 86_400


def _identifier(value: Any) -> str | None:
    return value if isinstance(value, str) and ID_PATTERN.fullmatch(value) else None


def dedup_key(event: Any, execution_id: str) -> str:
    """The review id when it can be read, else the EventBridge event id, else the execution.

    A redelivered event carries the same event id, and a re-posted review the same review id,
    so either way the second delivery finds the first one's claim.
    """
    detail = event.get("detail") if isinstance(event, dict) else None
    review_id = _identifier(detail.get("review_id")) if isinstance(detail, dict) else None
    if review_id:
        return review_id
    event_id = event.get("id") if isinstance(event, dict) else None
    if isinstance(event_id, str) and _EVENT_ID.fullmatch(event_id):
        return f"event:{event_id}"
    return f"execution:{execution_id.rsplit(':', 1)[-1] or 'unknown'}"


def validate_review(
    event: Any, execution_id: str, *, ledger_ttl_days: int, now: float | None = None
) -> ValidationResult:
    expires = int((now if now is not None else time.time()) + ledger_ttl_days * DAY_SECONDS)
    key = dedup_key(event, execution_id)
    detail = event.get("detail") if isinstance(event, dict) else None
    product_id = _identifier(detail.get("product_id")) if isinstance(detail, dict) else None

    if not isinstance(detail, dict):
        kind = type(detail).__name__ if detail is not None else "missing"
        errors = [FieldError(field="detail", message=f"must be a JSON object (got {kind})", type="dict_type")]
        return ValidationResult(
            valid=False,
            review_id=key,
            product_id=None,
            errors=errors,
            message=summarize_errors(errors),
            ledger_expires_at=expires,
        )
    try:
        review = ReviewPosted.model_validate(detail)
    except ValidationError as exc:
        errors = describe_errors(exc)
        return ValidationResult(
            valid=False,
            review_id=key,
            product_id=product_id,
            errors=errors,
            message=summarize_errors(errors, exc.error_count()),
            ledger_expires_at=expires,
        )
    return ValidationResult(
        valid=True,
        review_id=review.review_id,
        product_id=review.product_id,
        review=review,
        ledger_expires_at=expires,
    )
