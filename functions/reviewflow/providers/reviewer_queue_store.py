"""A reviewer's queue from the approvals table's ``PendingByDeadline`` index (Query, never Scan).

The index holds pending approvals only (``pending_pk = "approval#PENDING"``, sorted by
``deadline_at``; a decision or close removes ``pending_pk``). The query keeps deadlines after now
and filters on the reviewer id in ``reviewer_ids``; its projection leaves out the task token and
the link hashes, so neither reaches the page's function on this path.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

from reviewflow.domain.clock import iso_utc
from reviewflow.models.approvals import ApprovalRecord
from reviewflow.providers.approval_store import PENDING_PK, _wrap, from_item
from reviewflow.providers.dynamo_query import query_items
from reviewflow.providers.reminder_store import PENDING_INDEX

#: What a queue entry is built from: the record's required fields and what the page shows. Never
#: ``task_token``, ``reviewer_links`` or ``secret_sha256`` (aliased: ``status`` is a reserved word).
QUEUE_ATTRIBUTES = (
    "approval_id",
    "status",
    "stage",
    "review_id",
    "product_id",
    "execution_id",
    "created_at",
    "expires_at",
    "deadline_at",
    "snapshot",
    "reviewer_ids",
    "reminders",
)


class DynamoReviewerQueue:
    """``ReviewerQueueReader`` on the approvals table: a low-level DynamoDB client and the table name."""

    def __init__(self, client: Any, table_name: str) -> None:
        self._client = client
        self._table = table_name

    def pending_for(self, reviewer_id: str, now: datetime) -> Iterator[ApprovalRecord]:
        names = {f"#q{index}": name for index, name in enumerate(QUEUE_ATTRIBUTES)}
        request: dict[str, Any] = {
            "TableName": self._table,
            "IndexName": PENDING_INDEX,
            "KeyConditionExpression": "pending_pk = :pending AND deadline_at > :now",
            "FilterExpression": f"contains({_alias(names, 'reviewer_ids')}, :reviewer)",
            "ProjectionExpression": ", ".join(names),
            "ExpressionAttributeNames": names,
            "ExpressionAttributeValues": {
                ":pending": {"S": PENDING_PK},
                ":now": {"S": iso_utc(now)},
                ":reviewer": {"S": reviewer_id},
            },
        }
        for item in query_items(self._client, request, wrap=lambda exc: _wrap(exc, "query")):
            # ``secret_sha256`` is required by the record but deliberately not read: none is needed.
            yield from_item({**item, "secret_sha256": {"S": ""}})


def _alias(names: dict[str, str], attribute: str) -> str:
    return next(alias for alias, name in names.items() if name == attribute)
