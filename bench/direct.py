"""The auto path without orchestration: the workflow's Lambda handlers called in sequence.

Each handler gets exactly the payload the ASL's ``Parameters`` build for it (validate ->
score review -> sentiment -> response -> check the draft -> publish gate -> build outcome), so the difference
between this and the local pipeline is what the orchestration adds: EventBridge delivery, the
Step Functions interpreter, the DynamoDB claim, the outcome ``PutEvents`` and the plumbing that
runs a function (per-call environment, serialisation, error envelopes).
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field
from typing import Any

LOW_THRESHOLD = 0.4  # the template's default band; a bench review above it is not on the auto path


@dataclass
class FakeContext:
    """The attributes Powertools reads from a Lambda context."""

    function_name: str = "bench"
    memory_limit_in_mb: int = 256
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:123456789012:function:bench"
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    function_version: str = "$LATEST"

    def get_remaining_time_in_millis(self) -> int:
        return 30_000


class NotAutoPath(RuntimeError):
    """A bench review left the auto path (its input is wrong for this benchmark)."""


def _handlers() -> dict[str, Any]:
    from reviewflow.handlers import (
        build_outcome,
        check_reply,
        detect_sentiment,
        generate_response,
        score_toxicity,
        validate_review,
    )

    return {
        "validate_review": validate_review.handler,
        "score_toxicity": score_toxicity.handler,
        "detect_sentiment": detect_sentiment.handler,
        "generate_response": generate_response.handler,
        "check_reply": check_reply.handler,
        "build_outcome": build_outcome.handler,
    }


class DirectChain:
    """Calls the handlers like the workflow does; records each handler's time (seconds)."""

    def __init__(self) -> None:
        self.handlers = _handlers()
        self.durations: dict[str, list[float]] = {name: [] for name in self.handlers}
        self.durations["score_toxicity:REVIEW"] = []
        self.durations["check_reply:draft"] = []
        self.durations["check_reply:publish"] = []

    def _call(self, name: str, payload: dict[str, Any], key: str | None = None) -> dict[str, Any]:
        started = time.perf_counter()
        result: dict[str, Any] = self.handlers[name](payload, FakeContext(function_name=name))
        elapsed = time.perf_counter() - started
        self.durations[key or name].append(elapsed)
        if key:
            self.durations[name].append(elapsed)
        return result

    def run(self, event: dict[str, Any], execution_id: str) -> dict[str, Any]:
        validation = self._call("validate_review", {"event": event, "execution_id": execution_id})
        if not validation["valid"]:
            raise NotAutoPath(f"{validation['review_id']} is invalid: {validation.get('errors')}")
        review = validation["review"]
        state: dict[str, Any] = {"validation": validation}
        state["settings"] = {"low": LOW_THRESHOLD, "high": 0.6, "approval_timeout_seconds": 172800}
        state["review_toxicity"] = self._call(
            "score_toxicity",
            {"text": review["review_text"], "language": review["language"], "stage": "REVIEW"},
            "score_toxicity:REVIEW",
        )
        _require_safe(state["review_toxicity"], review["review_id"], "review")
        state["sentiment"] = self._call("detect_sentiment", {"review": review})
        state["response"] = self._call(
            "generate_response", {"review": review, "sentiment": state["sentiment"]}
        )
        bands = {"low": LOW_THRESHOLD, "high": 0.6}
        draft = {"review": review, "review_toxicity": state["review_toxicity"], "response": state["response"]}
        state["draft_check"] = self._call(
            "check_reply", {"mode": "draft", **draft, "bands": bands}, "check_reply:draft"
        )
        if state["draft_check"]["verdict"] != "publish":
            raise NotAutoPath(
                f"{review['review_id']}: the draft check said {state['draft_check']['verdict']}"
            )
        state["reply_check"] = self._call(
            "check_reply", {"mode": "publish", "state": state}, "check_reply:publish"
        )
        state["result"] = {"outcome": "created"}
        return self._call("build_outcome", {"execution_id": execution_id, "state": state})


def _require_safe(score: dict[str, Any], review_id: str, what: str) -> None:
    if not score.get("scorable") or score.get("score") is None or score["score"] >= LOW_THRESHOLD:
        raise NotAutoPath(f"{review_id}: the {what} scored {score.get('score')} (not below {LOW_THRESHOLD})")
