"""Pending approvals by deadline (the table's ``PendingByDeadline`` index) and the once-only
reminder write.

Every pending approval item carries ``pending_pk = "approval#PENDING"`` and ``deadline_at``; a
decision or close removes ``pending_pk``, which takes the item out of the sparse index. A step is
recorded by adding its key to the string set ``reminder_steps`` under the condition that the item
is still pending and the set does not hold the key yet: a decision, a concurrent run or a retried
run all make the write fail, so nothing is emailed twice or after a decision.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

from boto3.dynamodb.types import TypeSerializer
from botocore.exceptions import BotoCoreError, ClientError

from reviewflow.domain.clock import iso_utc
from reviewflow.models.approvals import ApprovalRecord
from reviewflow.models.team import ReminderSent
from reviewflow.providers.approval_store import (
    KEY_PREFIX,
    PENDING_PK,
    _is_condition_failure,
    _wrap,
    from_item,
    reminder_value,
)
from reviewflow.providers.dynamo_query import query_items

PENDING_INDEX = "PendingByDeadline"
STEPS_ATTRIBUTE = "reminder_steps"
_serializer = TypeSerializer()


class DynamoReminderStore:
    """``ReminderStore`` on the approvals table: a low-level DynamoDB client and the table name."""

    def __init__(self, client: Any, table_name: str) -> None:
        self._client = client
        self._table = table_name

    def pending_before_deadline(self, now: datetime) -> Iterator[ApprovalRecord]:
        request: dict[str, Any] = {
            "TableName": self._table,
            "IndexName": PENDING_INDEX,
            "KeyConditionExpression": "pending_pk = :pending AND deadline_at > :now",
            "ExpressionAttributeValues": {":pending": {"S": PENDING_PK}, ":now": {"S": iso_utc(now)}},
        }
        for item in query_items(self._client, request, wrap=lambda exc: _wrap(exc, "query")):
            yield from_item(item)

    def record_reminder(
        self,
        record: ApprovalRecord,
        step_key: str,
        sent: ReminderSent,
        new_links: dict[str, str],
        new_reviewer_ids: list[str],
    ) -> bool:
        names: dict[str, str] = {"#steps": STEPS_ATTRIBUTE}
        values: dict[str, Any] = {
            ":step": {"SS": [step_key]},
            ":entry": {"L": [_serializer.serialize(reminder_value(sent))]},
            ":empty": {"L": []},
        }
        sets = ["reminders = list_append(if_not_exists(reminders, :empty), :entry)"]
        if new_links and record.reviewer_links:
            for index, (digest, reviewer_id) in enumerate(sorted(new_links.items())):
                names[f"#h{index}"] = digest
                values[f":r{index}"] = {"S": reviewer_id}
                sets.append(f"reviewer_links.#h{index} = :r{index}")
        elif new_links:  # the item has no link map yet (no roster when it was created)
            values[":links"] = {"M": {digest: {"S": rid} for digest, rid in new_links.items()}}
            sets.append("reviewer_links = :links")
        if new_reviewer_ids:
            values[":ids"] = {"L": [{"S": rid} for rid in new_reviewer_ids]}
            sets.append("reviewer_ids = list_append(if_not_exists(reviewer_ids, :empty), :ids)")
        try:
            self._client.update_item(
                TableName=self._table,
                Key={"pk": {"S": KEY_PREFIX + record.approval_id}},
                UpdateExpression="SET " + ", ".join(sets) + " ADD #steps :step",
                ConditionExpression=(
                    "attribute_exists(pending_pk) AND "
                    "(attribute_not_exists(#steps) OR NOT contains(#steps, :stepkey))"
                ),
                ExpressionAttributeNames=names,
                ExpressionAttributeValues={**values, ":stepkey": {"S": step_key}},
            )
        except ClientError as exc:
            if _is_condition_failure(exc):
                return False
            raise _wrap(exc, "update") from exc
        except BotoCoreError as exc:
            raise _wrap(exc, "update") from exc
        return True
