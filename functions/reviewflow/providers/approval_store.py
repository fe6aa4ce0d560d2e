"""Approval items in the pipeline's DynamoDB table (``pk = "approval#<id>"``, TTL ``expires_at``).

Every state change is a conditional write, so a decision is recorded exactly once whatever the
number of clicks, retries or concurrent requests. The workflow's de-dup ledger shares the table
under ``review#`` keys; nothing here reads or writes those.
"""

from __future__ import annotations

from typing import Any, Protocol

from botocore.exceptions import BotoCoreError, ClientError
from pydantic import SecretStr

from reviewflow.domain.approvals import (
    ApprovalRecord,
    ApprovalSnapshot,
    ApprovalStatus,
    DecisionAudit,
    snapshot_json,
)
from reviewflow.errors import (
    ApprovalError,
    ReviewflowError,
)
from reviewflow.models.events import Decision
from reviewflow.providers.aws_errors import ErrorCodes, translate

KEY_PREFIX = "approval#"
DYNAMODB_CODES = ErrorCodes(
    throttling=frozenset(
        {
            "ProvisionedThroughputExceededException",
            "ThrottlingException",
            "RequestLimitExceeded",
            "Throttling",
        }
    ),
    transient=frozenset({"InternalServerError", "ServiceUnavailable", "TransactionConflictException"}),
    misconfigured=frozenset({"ResourceNotFoundException", "AccessDeniedException"}),
    check="the approvals table and grants",
)
_AUDIT_ATTRIBUTES = (
    "decision",
    "reviewer",
    "comment",
    "decided_at",
    "source_ip",
    "user_agent",
    "response_edited",
    "edited_response_text",
)
_STRING_ATTRIBUTES = (
    "approval_id",
    "status",
    "stage",
    "review_id",
    "product_id",
    "execution_id",
    "created_at",
    "secret_sha256",
    "delivered_at",
    "closed_reason",
    "closed_at",
    "last_delivery_error",
)


class ApprovalStore(Protocol):
    def create(self, record: ApprovalRecord) -> None: ...

    def get(self, approval_id: str) -> ApprovalRecord | None: ...

    def record_decision(self, approval_id: str, audit: DecisionAudit, *, now_epoch: int) -> bool: ...

    def mark_delivered(self, approval_id: str, *, decision: Decision, delivered_at: str) -> None: ...

    def mark_not_waiting(self, approval_id: str, *, reason: str, closed_at: str) -> None: ...

    def release_decision(self, approval_id: str, *, decided_at: str, error: str) -> bool: ...

    def discard(self, approval_id: str) -> None: ...


def _key(approval_id: str) -> dict[str, Any]:
    return {"pk": {"S": KEY_PREFIX + approval_id}}


def _wrap(exc: ClientError | BotoCoreError, action: str) -> ReviewflowError:
    return translate(exc, f"DynamoDB {action}", DYNAMODB_CODES, ApprovalError)


def _is_condition_failure(exc: ClientError) -> bool:
    return exc.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException"


def to_item(record: ApprovalRecord) -> dict[str, Any]:
    item: dict[str, Any] = {**_key(record.approval_id), "kind": {"S": "approval"}}
    for name in _STRING_ATTRIBUTES:
        value = getattr(record, name)
        if value is not None:
            item[name] = {"S": str(value)}
    item["expires_at"] = {"N": str(int(record.expires_at))}
    item["snapshot"] = {"S": snapshot_json(record.snapshot)}
    if record.task_token is not None:
        item["task_token"] = {"S": record.task_token.get_secret_value()}
    if record.audit is not None:
        item.update(_audit_values(record.audit))
    return item


def _audit_values(audit: DecisionAudit) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for name in _AUDIT_ATTRIBUTES:
        value = getattr(audit, name)
        if isinstance(value, bool):
            values[name] = {"BOOL": value}
        elif value is not None:
            values[name] = {"S": str(value)}
    return values


def from_item(item: dict[str, Any]) -> ApprovalRecord:
    def text(name: str) -> str | None:
        attribute = item.get(name)
        return attribute["S"] if attribute and "S" in attribute else None

    fields: dict[str, Any] = {name: text(name) for name in _STRING_ATTRIBUTES}
    fields["expires_at"] = int(item["expires_at"]["N"])
    fields["snapshot"] = ApprovalSnapshot.model_validate_json(item["snapshot"]["S"])
    token = text("task_token")
    fields["task_token"] = SecretStr(token) if token else None
    if "decision" in item:
        fields["audit"] = DecisionAudit(
            decision=Decision(item["decision"]["S"]),
            reviewer=text("reviewer"),
            comment=text("comment"),
            decided_at=text("decided_at") or "",
            source_ip=text("source_ip"),
            user_agent=text("user_agent"),
            response_edited=bool(item.get("response_edited", {}).get("BOOL", False)),
            edited_response_text=text("edited_response_text"),
        )
    return ApprovalRecord.model_validate({k: v for k, v in fields.items() if v is not None})


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
        """PENDING -> APPROVED/REJECTED, only while pending and before the deadline."""
        values = _audit_values(audit)
        names = {f"#a{i}": name for i, name in enumerate(values)}
        assignments = [f"{alias} = :a{i}" for i, alias in enumerate(names)]
        return self._update(
            approval_id,
            "decide",
            UpdateExpression="SET #status = :decided, " + ", ".join(assignments),
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
                "SET #status = :expired, closed_reason = :reason, closed_at = :at REMOVE task_token"
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
            UpdateExpression="SET #status = :pending, last_delivery_error = :error REMOVE "
            + ", ".join(names),
            ConditionExpression="#status IN (:approved, :rejected) AND decided_at = :decided_at",
            ExpressionAttributeNames={"#status": "status", **names},
            ExpressionAttributeValues={
                ":pending": {"S": ApprovalStatus.PENDING.value},
                ":approved": {"S": ApprovalStatus.APPROVED.value},
                ":rejected": {"S": ApprovalStatus.REJECTED.value},
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
