"""Product feedback in the insights table, by product (key layout in ``models/insights.py``).

One review's feedback and its product's marker go in one ``TransactWriteItems``: the report job
lists products from the markers, so a feedback item without its marker would be invisible to it.
Both writes are idempotent for a re-run of the same review at the same ``extracted_at``.

``DynamoInsightReader`` is the report job's side: the markers (one Query), then each product's
feedback over a key range (one paginated Query per product); it never scans.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError
from pydantic import ValidationError

from reviewflow.errors import ProviderError
from reviewflow.models.insights import ProductFeedback
from reviewflow.providers import aws_errors
from reviewflow.providers.aws_errors import translate
from reviewflow.providers.dynamo_query import query_items

PRODUCT_PREFIX = "product#"
PRODUCTS_PK = "products"
DYNAMODB_CODES = replace(aws_errors.DYNAMODB_CODES, check="the insights table and grants")


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


class DynamoInsightReader:
    """``InsightReader`` on DynamoDB: Query only, on the two key families the extractor writes."""

    def __init__(self, client: Any, table_name: str) -> None:
        self._client = client
        self._table = table_name

    def products(self, *, active_since: str) -> list[str]:
        """Product ids whose marker says feedback was extracted at or after ``active_since``."""
        ids = []
        for item in self._query("pk = :pk", {":pk": {"S": PRODUCTS_PK}}, projection="sk, last_extracted_at"):
            last = item.get("last_extracted_at", {}).get("S", "")
            if last >= active_since:
                ids.append(item["sk"]["S"])
        return sorted(ids)

    def feedback(self, product_id: str, *, start: str, end: str) -> tuple[list[ProductFeedback], int]:
        """The product's feedback with sort keys from ``start`` to ``end`` (both ISO 8601 UTC).

        The key range is a superset of ``[start, end)``: the caller filters on the parsed time, so
        a key written in another ISO form still lands in the right period. An item that no longer
        parses (written by an older schema, edited by hand) is counted and skipped, not fatal.
        """
        records: list[ProductFeedback] = []
        unreadable = 0
        values = {":pk": {"S": PRODUCT_PREFIX + product_id}, ":from": {"S": start}, ":to": {"S": end}}
        for item in self._query("pk = :pk AND sk BETWEEN :from AND :to", values, projection="feedback"):
            try:
                records.append(ProductFeedback.model_validate_json(item["feedback"]["S"]))
            except (KeyError, ValidationError):
                unreadable += 1
        return records, unreadable

    def _query(self, condition: str, values: dict[str, Any], *, projection: str) -> Iterator[dict[str, Any]]:
        params: dict[str, Any] = {
            "TableName": self._table,
            "KeyConditionExpression": condition,
            "ExpressionAttributeValues": values,
            "ProjectionExpression": projection,
        }
        yield from query_items(
            self._client,
            params,
            wrap=lambda exc: translate(exc, "DynamoDB Query", DYNAMODB_CODES, ProviderError),
        )
