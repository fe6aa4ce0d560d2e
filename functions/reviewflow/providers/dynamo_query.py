"""Every item of a DynamoDB Query, page after page, through botocore's own paginator.

The table adapters (reminders, the reviewer queue, the insights report) all read with Query and
never Scan; this is their one loop. The paginator follows ``LastEvaluatedKey`` itself, so a page
boundary can never drop or repeat an item, and an error on any page reaches the caller as the
adapter's typed error (``wrap``), raised where the items are read.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from reviewflow.errors import ReviewflowError


def query_items(
    client: Any,
    request: dict[str, Any],
    *,
    wrap: Callable[[ClientError | BotoCoreError], ReviewflowError],
) -> Iterator[dict[str, Any]]:
    """The items of ``client.query(**request)`` over all its pages, in the order DynamoDB returns them."""
    pages = client.get_paginator("query").paginate(**request)
    try:
        for page in pages:
            yield from page.get("Items", [])
    except (ClientError, BotoCoreError) as exc:
        raise wrap(exc) from exc
