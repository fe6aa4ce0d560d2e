"""DynamoDB: item operations that survive concurrent callers."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from reviewflow_local.moto_patches._support import require

#: The item operations of moto's DynamoDB backend that the stack's callers use.
DYNAMODB_ITEM_OPERATIONS = ("put_item", "get_item", "update_item", "delete_item", "query", "scan")
_dynamodb_lock = threading.RLock()


def patch_dynamodb_thread_safety() -> None:
    """moto lacks: thread-safe DynamoDB tables.

    A table's items live in plain dicts. The workflow's executions run on their own threads and
    write items (review claims, approvals) while the inbox page or a waiting ``reviewflow run``
    scans the table, and a scan that iterates while a put inserts fails with ``RuntimeError:
    dictionary changed size during iteration`` (seen in a 1,000-review soak). DynamoDB itself
    serves concurrent callers; the patch serialises the backend's item operations behind one lock.
    """
    from moto.dynamodb.models import DynamoDBBackend

    for name in DYNAMODB_ITEM_OPERATIONS:
        original = require(DynamoDBBackend, name)

        def locked(self: Any, *args: Any, __original: Callable[..., Any] = original, **kwargs: Any) -> Any:
            with _dynamodb_lock:
                return __original(self, *args, **kwargs)

        locked.__wrapped__ = original  # type: ignore[attr-defined]
        locked.__name__ = name
        setattr(DynamoDBBackend, name, locked)
