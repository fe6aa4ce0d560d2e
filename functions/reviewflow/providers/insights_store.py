"""Product feedback in the insights table, by product (key layout in ``models/insights.py``).

One review's feedback and its product's marker go in one ``TransactWriteItems``: the report job
lists products from the markers, so a feedback item without its marker would be invisible to it.
Both writes are idempotent for a re-run of the same review at the same ``extracted_at``.
"""

from __future__ import annotations

import json
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from reviewflow.errors import ProviderError
from reviewflow.models.insights import ProductFeedback
from reviewflow.providers.aws_errors import ErrorCodes, translate

PRODUCT_PREFIX = "product#"
PRODUCTS_PK = "products"
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
    check="the insights table and grants",
)


def feedback_key(feedback: ProductFeedback) -> dict[str, Any]:
    return {
        "pk": {"S": PRODUCT_PREFIX + feedback.product_id},
        "sk": {"S": f"{feedback.extracted_at}#{feedback.review_id}"},
    }


class DynamoInsightStore:
    """``InsightStore`` on DynamoDB."""

    def __init__(self, client: Any, table_name: str) -> None:
        self._client = client
        self._table = table_name

    def put(self, feedback: ProductFeedback, *, ttl_epoch: int) -> None:
        body = json.dumps(feedback.model_dump(mode="json"), ensure_ascii=False, separators=(",", ":"))
        item = {**feedback_key(feedback), "feedback": {"S": body}, "ttl": {"N": str(ttl_epoch)}}
        marker = {
            "pk": {"S": PRODUCTS_PK},
            "sk": {"S": feedback.product_id},
            "last_extracted_at": {"S": feedback.extracted_at},
        }
        try:
            self._client.transact_write_items(
                TransactItems=[
                    {"Put": {"TableName": self._table, "Item": item}},
                    {"Put": {"TableName": self._table, "Item": marker}},
                ]
            )
        except (ClientError, BotoCoreError) as exc:
            raise translate(exc, "DynamoDB TransactWriteItems", DYNAMODB_CODES, ProviderError) from exc
