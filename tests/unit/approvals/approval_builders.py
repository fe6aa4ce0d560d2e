"""Builders shared by the human-review tests: constants, the approvals table as the stack makes it
(in moto), ``ApprovalRequest`` payloads, API Gateway REST (v1) proxy events as the ``prod`` stage
delivers them."""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import urlencode

TABLE = "reviewflow-test-table"
BASE_URL = "https://abc123.execute-api.us-east-1.amazonaws.com/prod"
HOST = "abc123.execute-api.us-east-1.amazonaws.com"
TASK_TOKEN = "AQCEAAAAKgAAAA-task-token-VERY-SECRET-0123456789abcdef"
LINK = re.compile(r"(?P<base>https?://\S+)/approvals/(?P<id>[A-Za-z0-9_-]+)\?s=(?P<secret>[A-Za-z0-9_-]+)")


# ----------------------------------------------------------------------------- payload builders


def create_approvals_table(client: Any, name: str = TABLE) -> None:
    """The approvals table as the stack defines it: key ``pk``, sparse index ``PendingByDeadline``."""
    client.create_table(
        TableName=name,
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "pending_pk", "AttributeType": "S"},
            {"AttributeName": "deadline_at", "AttributeType": "S"},
        ],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        GlobalSecondaryIndexes=[
            {
                "IndexName": "PendingByDeadline",
                "KeySchema": [
                    {"AttributeName": "pending_pk", "KeyType": "HASH"},
                    {"AttributeName": "deadline_at", "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": "ALL"},
            }
        ],
        BillingMode="PAY_PER_REQUEST",
    )


def toxicity(score: float | None = 0.5, **labels: float) -> dict[str, Any]:
    return {
        "score": score,
        "labels": labels or {"PROFANITY": score or 0.0, "INSULT": 0.1},
        "scorable": score is not None,
        "provider": "comprehend",
        "segments": 1,
        "calls": 1,
    }


def approval_request(
    stage: str = "REVIEW",
    *,
    review_text: str = "The blender broke after two days. Really annoyed.",
    token: str = TASK_TOKEN,
    timeout_seconds: int = 3600,
    response_text: str = "We're sorry the blender broke. Please contact our support team.",
    response_score: float = 0.45,
    policy_violations: list[dict[str, Any]] | None = None,
    round: int = 0,
    max_rounds: int = 0,
    draft_rounds: list[dict[str, Any]] | dict[str, Any] | None = None,
) -> dict[str, Any]:
    request: dict[str, Any] = {
        "task_token": token,
        "stage": stage,
        "execution_id": "arn:aws:states:us-east-1:123456789012:execution:review-response:exec-1",
        "timeout_seconds": timeout_seconds,
        "review": {
            "review_id": "rev-42",
            "product_id": "blender-9000",
            "review_text": review_text,
            "rating": 2,
            "product_name": "Blender 9000",
            "reviewer_name": "Dana <b>R.</b>",
        },
        "review_toxicity": toxicity(0.52),
    }
    if stage == "RESPONSE":
        request["sentiment"] = {
            "sentiment": "NEGATIVE",
            "reason": "product broke",
            "model_id": "test-model",
            "prompt_version": "sentiment-v1",
        }
        request["response"] = {
            "response_text": response_text,
            "model_id": "test-model",
            "prompt_version": "response-v1",
        }
        request["response_toxicity"] = toxicity(response_score)
        request["policy_violations"] = policy_violations or []
        request["bands"] = {"low": 0.4, "high": 0.6}
        request["policy_version"] = "reply/v1"
        request["round"] = round
        request["max_rounds"] = max_rounds
        request["draft_rounds"] = draft_rounds
    return request


def rest_event(
    method: str,
    approval_id: str,
    *,
    secret: str | None = None,
    form: dict[str, str] | None = None,
    body: str | None = None,
    headers: dict[str, str] | None = None,
    source_ip: str = "198.51.100.7",
) -> dict[str, Any]:
    """An API Gateway REST (v1) proxy event as the stage ``prod`` delivers it."""
    all_headers = {"Host": HOST, "User-Agent": "Mozilla/5.0 (test)"}
    if form is not None:
        body = urlencode(form)
    if body is not None:
        all_headers["Content-Type"] = "application/x-www-form-urlencoded"
    all_headers.update(headers or {})
    query = {"s": secret} if secret is not None else None
    return {
        "resource": "/approvals/{approval_id}",
        "path": f"/approvals/{approval_id}",
        "httpMethod": method,
        "headers": all_headers,
        "multiValueHeaders": {k: [v] for k, v in all_headers.items()},
        "queryStringParameters": query,
        "multiValueQueryStringParameters": {k: [v] for k, v in query.items()} if query else None,
        "pathParameters": {"approval_id": approval_id},
        "stageVariables": None,
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "abc123",
            "resourceId": "res1",
            "resourcePath": "/approvals/{approval_id}",
            "httpMethod": method,
            "path": f"/prod/approvals/{approval_id}",
            "stage": "prod",
            "requestId": "req-1",
            "protocol": "HTTP/1.1",
            "identity": {"sourceIp": source_ip, "userAgent": all_headers.get("User-Agent")},
        },
        "body": body,
        "isBase64Encoded": False,
    }


def lower_headers(response: dict[str, Any]) -> dict[str, str]:
    merged: dict[str, Any] = dict(response.get("headers") or {})
    for name, values in (response.get("multiValueHeaders") or {}).items():
        merged.setdefault(name, values[0] if isinstance(values, list) else values)
    return {k.lower(): v for k, v in merged.items()}


def approve_form(secret: str, **extra: str) -> dict[str, str]:
    return {"secret": secret, "decision": "APPROVED", "reviewer": "Sam", "comment": "fine by me", **extra}


def decision_sent(env: Any) -> dict[str, Any]:
    """The one decision the fake workflow received."""
    [(token, output)] = env.workflow.calls
    assert token == TASK_TOKEN
    return dict(json.loads(output))
