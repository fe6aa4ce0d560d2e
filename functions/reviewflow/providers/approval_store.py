"""Approval items in the pipeline's DynamoDB table (``pk = "approval#<id>"``, TTL ``expires_at``).

Every state change is a conditional write, so a decision is recorded exactly once whatever the
number of clicks, retries or concurrent requests. The workflow's de-dup ledger shares the table
under ``review#`` keys; nothing here reads or writes those.
"""

from __future__ import annotations

import json
from dataclasses import replace
from decimal import Decimal
from typing import Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.exceptions import BotoCoreError, ClientError

from reviewflow.errors import ApprovalError, ReviewflowError
from reviewflow.models.approvals import ApprovalRecord, ApprovalSnapshot, ApprovalStatus, DecisionAudit
from reviewflow.models.events import Decision
from reviewflow.models.team import ReminderSent
from reviewflow.providers import aws_errors
from reviewflow.providers.aws_errors import translate

KEY_PREFIX = "approval#"
#: ``pending_pk`` of every pending approval with a deadline: the sparse ``PendingByDeadline`` index's
#: one partition (the reminder schedule's query). Every decision and close removes it.
PENDING_PK = f"{KEY_PREFIX}PENDING"
DYNAMODB_CODES = replace(aws_errors.DYNAMODB_CODES, check="the approvals table and grants")
# The audit is stored flat on the item (so a console or a query can read who decided).
_AUDIT_ATTRIBUTES = tuple(DecisionAudit.model_fields)
_serializer = TypeSerializer()
_deserializer = TypeDeserializer()


def _key(approval_id: str) -> dict[str, Any]:
    return {"pk": {"S": KEY_PREFIX + approval_id}}


def _wrap(exc: ClientError | BotoCoreError, action: str) -> ReviewflowError:
    return translate(exc, f"DynamoDB {action}", DYNAMODB_CODES, ApprovalError)


def _is_condition_failure(exc: ClientError) -> bool:
    return exc.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException"


def _marshal(values: dict[str, Any]) -> dict[str, Any]:
    """DynamoDB attribute values for the non-empty entries (``None`` means "not stored")."""
    return {name: _serializer.serialize(value) for name, value in values.items() if value is not None}


def snapshot_json(snapshot: ApprovalSnapshot) -> str:
    return json.dumps(snapshot.model_dump(mode="json", exclude_none=True), ensure_ascii=False)


def to_item(record: ApprovalRecord) -> dict[str, Any]:
    """The table item: scalar fields as attributes, the snapshot as one JSON string, audit flat."""
    fields = record.model_dump(mode="json", exclude={"snapshot", "task_token", "audit"})
    fields["expires_at"] = int(record.expires_at)
    fields["snapshot"] = snapshot_json(record.snapshot)
    # Index membership is the store's business: pending with a deadline, or not in the index at all.
    pending = record.status is ApprovalStatus.PENDING and record.deadline_at
    fields["pending_pk"] = PENDING_PK if pending else None
    fields["reminders"] = [reminder_value(sent) for sent in record.reminders]
    if record.task_token is not None:
        fields["task_token"] = record.task_token.get_secret_value()
    item = {**_key(record.approval_id), "kind": {"S": "approval"}, **_marshal(fields)}
    if record.audit is not None:
        item.update(_audit_values(record.audit))
    return item


def reminder_value(sent: ReminderSent) -> dict[str, Any]:
    """One reminder as a DynamoDB-ready value (the serializer takes Decimal, not float)."""
    value = sent.model_dump(mode="json")
    value["fraction"] = Decimal(str(sent.fraction))
    return value


def _audit_values(audit: DecisionAudit) -> dict[str, Any]:
    return _marshal(audit.model_dump(mode="json"))


def from_item(item: dict[str, Any]) -> ApprovalRecord:
    values = {name: _deserializer.deserialize(value) for name, value in item.items()}
    fields = {name: values[name] for name in ApprovalRecord.model_fields if name in values}
    fields["expires_at"] = int(values["expires_at"])
    fields["snapshot"] = ApprovalSnapshot.model_validate_json(values["snapshot"])
    if "decision" in values:
        fields["audit"] = DecisionAudit.model_validate(
            {"decided_at": "", **{name: values[name] for name in _AUDIT_ATTRIBUTES if name in values}}
        )
    return ApprovalRecord.model_validate(fields)


class DynamoApprovalStore:
    """The one real adapter: a low-level DynamoDB client and the table name."""

    def __init__(self, client: Any, table_name: str) -> None:
        self._client = client
        self._table = table_name

    def create(self, record: ApprovalRecord) -> None:
        try:
            self._client.put_item(
                TableName=self._table,
                Item=to_item(record),
                ConditionExpression="attribute_not_exists(pk)",
            )
        except ClientError as exc:
            if _is_condition_failure(exc):
                raise ApprovalError("approval id already exists") from exc
            raise _wrap(exc, "put") from exc
        except BotoCoreError as exc:
            raise _wrap(exc, "put") from exc

    def get(self, approval_id: str) -> ApprovalRecord | None:
        try:
            answer = self._client.get_item(TableName=self._table, Key=_key(approval_id), ConsistentRead=True)
        except (ClientError, BotoCoreError) as exc:
            raise _wrap(exc, "get") from exc
        item = answer.get("Item")
        return from_item(item) if item else None

    def _update(self, approval_id: str, action: str, **request: Any) -> bool:
        """Run a conditional update; ``False`` when the condition did not hold."""
        try:
            self._client.update_item(TableName=self._table, Key=_key(approval_id), **request)
        except ClientError as exc:
            if _is_condition_failure(exc):
                return False
            raise _wrap(exc, action) from exc
        except BotoCoreError as exc:
            raise _wrap(exc, action) from exc
        return True

    def record_decision(self, approval_id: str, audit: DecisionAudit, *, now_epoch: int) -> bool:
        """PENDING -> APPROVED/REJECTED/NEW_DRAFT_REQUESTED, only while pending and before the deadline."""
        values = _audit_values(audit)
        names = {f"#a{i}": name for i, name in enumerate(values)}
        assignments = [f"{alias} = :a{i}" for i, alias in enumerate(names)]
        return self._update(
            approval_id,
            "decide",
            # Leaving the pending index: no reminder is sent for a decided approval.
            UpdateExpression="SET #status = :decided, " + ", ".join(assignments) + " REMOVE pending_pk",
            ConditionExpression="attribute_exists(pk) AND #status = :pending AND expires_at > :now",
            ExpressionAttributeNames={"#status": "status", **names},
            ExpressionAttributeValues={
                ":decided": {"S": audit.decision.value},
                ":pending": {"S": ApprovalStatus.PENDING.value},
                ":now": {"N": str(now_epoch)},
                **{f":a{i}": value for i, value in enumerate(values.values())},
            },
        )

    def mark_delivered(self, approval_id: str, *, decision: Decision, delivered_at: str) -> None:
        """The workflow has the decision: the task token is of no further use, so it goes."""
        self._update(
            approval_id,
            "mark delivered",
            UpdateExpression="SET delivered_at = :at REMOVE task_token",
            ConditionExpression="#status = :decided",
            ExpressionAttributeNames={"#status": "status"},
            ExpressionAttributeValues={":at": {"S": delivered_at}, ":decided": {"S": decision.value}},
        )

    def mark_not_waiting(self, approval_id: str, *, reason: str, closed_at: str) -> None:
        """The execution ended before the decision reached it (timed out, stopped)."""
        self._update(
            approval_id,
            "close",
            UpdateExpression=(
                "SET #status = :expired, closed_reason = :reason, closed_at = :at "
                "REMOVE task_token, pending_pk"
            ),
            ConditionExpression="attribute_exists(pk)",
            ExpressionAttributeNames={"#status": "status"},
            ExpressionAttributeValues={
                ":expired": {"S": ApprovalStatus.EXPIRED.value},
                ":reason": {"S": reason[:64]},
                ":at": {"S": closed_at},
            },
        )

    def release_decision(self, approval_id: str, *, decided_at: str, error: str) -> bool:
        """Undo our own decision (matched by its timestamp) so the reviewer can submit again."""
        # Attribute names go through aliases: some (``comment``) are DynamoDB reserved words.
        names = {f"#a{i}": name for i, name in enumerate(_AUDIT_ATTRIBUTES)}
        return self._update(
            approval_id,
            "release",
            # Pending again, so back in the reminder index (an item without a deadline stays out of it).
            UpdateExpression="SET #status = :pending, pending_pk = :pending_pk, last_delivery_error = :error "
            + "REMOVE "
            + ", ".join(names),
            ConditionExpression="#status IN (:approved, :rejected, :new_draft) AND decided_at = :decided_at",
            ExpressionAttributeNames={"#status": "status", **names},
            ExpressionAttributeValues={
                ":pending": {"S": ApprovalStatus.PENDING.value},
                ":pending_pk": {"S": PENDING_PK},
                ":approved": {"S": ApprovalStatus.APPROVED.value},
                ":rejected": {"S": ApprovalStatus.REJECTED.value},
                ":new_draft": {"S": ApprovalStatus.NEW_DRAFT_REQUESTED.value},
                ":decided_at": {"S": decided_at},
                ":error": {"S": error[:64]},
            },
        )

    def discard(self, approval_id: str) -> None:
        """Delete an approval whose email never went out (no one holds its link)."""
        try:
            self._client.delete_item(
                TableName=self._table,
                Key=_key(approval_id),
                ConditionExpression="#status = :pending",
                ExpressionAttributeNames={"#status": "status"},
                ExpressionAttributeValues={":pending": {"S": ApprovalStatus.PENDING.value}},
            )
        except ClientError as exc:
            if not _is_condition_failure(exc):
                raise _wrap(exc, "delete") from exc
        except BotoCoreError as exc:
            raise _wrap(exc, "delete") from exc
