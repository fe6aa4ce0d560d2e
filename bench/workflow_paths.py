"""The paths a review can take through the workflow, walked on the ASL itself.

A path is which branch each Choice state takes and which Task fails; walking it follows
``Next``, ``Default``, ``Retry`` and ``Catch`` exactly as written in
``statemachines/review_response.asl.json``, so the states entered and the task attempts billed
follow the definition when it changes.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from reviewflow.errors import ProviderThrottledError

#: A walk longer than this is a loop in the chosen path, not a workflow.
MAX_STATES = 200


@dataclass
class PathWalk:
    states: list[str] = field(default_factory=list)  # every state entered, branches included
    attempts: Counter[str] = field(default_factory=Counter)  # task state -> attempts (incl. failed)
    failed_attempts: Counter[str] = field(default_factory=Counter)
    top: list[str] = field(default_factory=list)  # the states entered outside any Parallel branch
    branches: dict[str, list[list[str]]] = field(default_factory=dict)  # Parallel -> each branch's states
    specs: dict[str, dict[str, Any]] = field(default_factory=dict)  # every state's definition, by name

    @property
    def transitions(self) -> int:
        """States entered plus retries: each retry is billed as one more transition."""
        retries = sum(self.attempts.values()) - sum(1 for s in self.attempts)
        return len(self.states) + retries


def _matches(error: str, names: list[str]) -> bool:
    return error in names or "States.ALL" in names


def walk(asl: dict[str, Any], choices: dict[str, str], failures: dict[str, str] | None = None) -> PathWalk:
    """Follow the definition from ``StartAt``: ``choices`` picks each Choice's branch, ``failures``
    names the error a Task raises on every attempt (its Retry runs out, then its Catch is taken)."""
    result = PathWalk()
    result.top = _walk_into(asl, choices, failures or {}, result)
    unknown = set(choices) - set(result.states)
    if unknown:
        raise ValueError(f"choices for states the path never reached: {sorted(unknown)}")
    return result


def _walk_into(
    machine: dict[str, Any], choices: dict[str, str], failures: dict[str, str], result: PathWalk
) -> list[str]:
    """Walk one machine or Parallel branch into ``result``; the states it entered, in order."""
    states = machine["States"]
    entered: list[str] = []
    name: str | None = machine["StartAt"]
    while name is not None:
        if len(result.states) > MAX_STATES:
            raise ValueError("the walk does not end (a loop in the chosen path?)")
        spec = states[name]
        result.states.append(name)
        result.specs[name] = spec
        entered.append(name)
        if spec["Type"] == "Parallel":
            # State names are unique across a whole machine, branches included.
            result.branches[name] = [
                _walk_into(branch, choices, failures, result) for branch in spec["Branches"]
            ]
        name = _next_state(name, spec, choices, failures.get(name), result)
    return entered


def _next_state(
    name: str, spec: dict[str, Any], choices: dict[str, str], error: str | None, result: PathWalk
) -> str | None:
    kind = spec["Type"]
    following: str | None = spec.get("Next")
    if kind == "Task":
        following = _after_task(name, spec, error, result)
    elif kind == "Choice":
        following = _after_choice(name, spec, choices)
    elif kind in ("Succeed", "Fail"):
        following = None
    return None if spec.get("End") else following


def _after_task(name: str, spec: dict[str, Any], error: str | None, result: PathWalk) -> str | None:
    """Count the task's attempts; a failing task runs out its matching Retry, then takes its Catch."""
    if error is None:
        result.attempts[name] += 1
        following: str | None = spec.get("Next")
        return following
    retry = next((r for r in spec.get("Retry", []) if _matches(error, r["ErrorEquals"])), None)
    tries = 1 + (retry.get("MaxAttempts", 3) if retry else 0)
    result.attempts[name] += tries
    result.failed_attempts[name] += tries
    catch = next((c for c in spec.get("Catch", []) if _matches(error, c["ErrorEquals"])), None)
    if catch is None:
        raise ValueError(f"{name} has no Catch for {error}: the execution would fail")
    caught: str = catch["Next"]
    return caught


def _after_choice(name: str, spec: dict[str, Any], choices: dict[str, str]) -> str:
    if name not in choices:
        raise ValueError(f"the path does not say which branch {name} takes")
    following = choices[name]
    allowed: set[str] = {c["Next"] for c in spec["Choices"]}
    if "Default" in spec:
        allowed.add(spec["Default"])
    if following not in allowed:
        raise ValueError(f"{name} cannot go to {following}; its branches are {sorted(allowed)}")
    return following


#: The paths the issue names: which branch each Choice takes, which task fails.
_SCREENED = {"IsReviewValid": "ScreenReview"}
_SAFE = {
    **_SCREENED,
    "ReviewToxicityBand": "SentimentReady",
    "SentimentReady": "AdoptSentiment",
    "DraftVerdict": "PublishGate",
    "GateVerdict": "ReplyDone",
}
PATHS: dict[str, tuple[str, dict[str, str], dict[str, str]]] = {
    "safe": ("safe review, auto reply", _SAFE, {}),
    "harmful": (
        "harmful review",
        {**_SCREENED, "ReviewToxicityBand": "ReviewIsHarmful"},
        {},
    ),
    "human_review": (
        "uncertain review, approved",
        {**_SAFE, "ReviewToxicityBand": "HumanReviewOfReview", "ReviewDecision": "SentimentReady"},
        {},
    ),
    "human_reply": (
        "uncertain reply, approved",
        {**_SAFE, "DraftVerdict": "HumanReviewOfResponse", "ResponseDecision": "PublishGate"},
        {},
    ),
    "failed": (
        "Bedrock throttles GenerateResponse past its retries",
        {k: v for k, v in _SAFE.items() if k not in ("DraftVerdict", "GateVerdict")},
        {"GenerateResponse": ProviderThrottledError.__name__},
    ),
    "invalid": ("invalid review (not in the mix)", {"IsReviewValid": "ReviewInvalid"}, {}),
}

#: The same paths through the original sample's design (``bench/original_design.asl.json``).
_ORIGINAL_SAFE = {"ReviewToxicityBand": "DetectSentiment", "ResponseToxicityBand": "PublishCreated"}
ORIGINAL_PATHS: dict[str, tuple[str, dict[str, str], dict[str, str]]] = {
    "safe": ("safe review, auto reply", _ORIGINAL_SAFE, {}),
    "harmful": ("harmful review", {"ReviewToxicityBand": "PublishHarmful"}, {}),
    "human_review": (
        "uncertain review, approved",
        {**_ORIGINAL_SAFE, "ReviewToxicityBand": "HumanReviewOfReview", "ReviewDecision": "DetectSentiment"},
        {},
    ),
    "human_reply": (
        "uncertain reply, approved",
        {
            **_ORIGINAL_SAFE,
            "ResponseToxicityBand": "HumanReviewOfResponse",
            "ResponseDecision": "PublishCreated",
        },
        {},
    ),
    "failed": (
        "Bedrock throttles GenerateResponse past its retries",
        {"ReviewToxicityBand": "DetectSentiment"},
        {"GenerateResponse": ProviderThrottledError.__name__},
    ),
}
