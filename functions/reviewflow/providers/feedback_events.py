"""``PRODUCT_FEEDBACK_EXTRACTED`` on the reviews bus (source ``OUTCOME_SOURCE``).

Not an outcome: the one-outcome-per-review rule counts ``OUTCOME_DETAIL_TYPES`` only. A partial
failure (``FailedEntryCount``) is an error like a refused call, so the step's Catch sees it.
"""

from __future__ import annotations

import json
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from reviewflow.contracts import OUTCOME_SOURCE, PRODUCT_FEEDBACK_EXTRACTED
from reviewflow.errors import ProviderError, ProviderThrottledError
from reviewflow.models.insights import ProductFeedback
from reviewflow.providers.aws_errors import ErrorCodes, translate

EVENTS_CODES = ErrorCodes(
    throttling=frozenset({"ThrottlingException", "LimitExceededException"}),
    transient=frozenset({"InternalException", "InternalFailure", "ServiceUnavailable"}),
    misconfigured=frozenset({"ResourceNotFoundException", "AccessDeniedException"}),
    check="the event bus name and the function's events:PutEvents grant",
)


class EventBridgeFeedbackPublisher:
    """``FeedbackPublisher`` on EventBridge."""

    def __init__(self, client: Any, bus_name: str) -> None:
        self._client = client
        self._bus = bus_name

    def publish(self, feedback: ProductFeedback) -> None:
        entry = {
            "EventBusName": self._bus,
            "Source": OUTCOME_SOURCE,
            "DetailType": PRODUCT_FEEDBACK_EXTRACTED,
            "Detail": json.dumps(feedback.model_dump(mode="json"), ensure_ascii=False),
            "Resources": [],
        }
        try:
            answer = self._client.put_events(Entries=[entry])
        except (ClientError, BotoCoreError) as exc:
            raise translate(exc, "EventBridge PutEvents", EVENTS_CODES, ProviderError) from exc
        if answer.get("FailedEntryCount", 0):
            code = str((answer.get("Entries") or [{}])[0].get("ErrorCode", "Unknown"))
            if code in EVENTS_CODES.throttling:
                raise ProviderThrottledError(f"EventBridge PutEvents throttled ({code})")
            raise ProviderError(f"EventBridge PutEvents refused the feedback event ({code})")
