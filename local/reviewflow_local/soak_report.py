"""The soak's count: architecture.md §1's conservation law checked on the outcome events of a run.

Every distinct review id posted must end in exactly one outcome, none may appear that was never
posted, every failure must say why, and each generated path may end only where the flow lets it
(any path may also fail with ``provider_error`` when injected faults exhaust the retries).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from reviewflow.contracts import OutcomeType
from reviewflow_local.console import outcome_label


@dataclass
class SoakReport:
    reviews: int
    duplicates: int
    fault_plan: str
    expected: int = 0
    outcomes: int = 0
    by_outcome: Counter[str] = field(default_factory=Counter)
    by_kind: dict[str, Counter[str]] = field(default_factory=dict)
    lost: list[str] = field(default_factory=list)
    duplicated: list[str] = field(default_factory=list)
    unexpected: list[str] = field(default_factory=list)
    without_reason: list[str] = field(default_factory=list)
    wrong_outcome: list[str] = field(default_factory=list)
    executions: Counter[str] = field(default_factory=Counter)
    redeliveries_started: int = 0
    approvals_decided: Counter[str] = field(default_factory=Counter)
    approval_errors: list[str] = field(default_factory=list)
    faults_injected: Counter[str] = field(default_factory=Counter)
    wall_seconds: float = 0.0
    timed_out: bool = False

    @property
    def violations(self) -> list[str]:
        found = []
        for name, items in (
            ("lost (no outcome)", self.lost),
            ("duplicated (more than one outcome)", self.duplicated),
            ("outcome for a review never posted", self.unexpected),
            ("failure without a reason", self.without_reason),
            ("outcome impossible for its path", self.wrong_outcome),
            ("approval link did not decide", self.approval_errors),
        ):
            if items:
                found.append(f"{name}: {len(items)} (e.g. {', '.join(items[:5])})")
        if self.redeliveries_started:
            found.append(f"redelivered events started {self.redeliveries_started} new execution(s)")
        if self.executions.get("FAILED") or self.executions.get("RUNNING"):
            found.append(f"executions not ended cleanly: {dict(self.executions)}")
        if self.timed_out:
            found.append("the run timed out before every review had an outcome")
        return found

    @property
    def ok(self) -> bool:
        return not self.violations

    def as_dict(self) -> dict[str, Any]:
        return {
            "reviews": self.reviews,
            "duplicates": self.duplicates,
            "fault_plan": self.fault_plan,
            "expected": self.expected,
            "outcome_events": self.outcomes,
            "by_outcome": dict(self.by_outcome),
            "by_path": {kind: dict(counts) for kind, counts in self.by_kind.items()},
            "lost": len(self.lost),
            "duplicated": len(self.duplicated),
            "executions": dict(self.executions),
            "approvals_decided": dict(self.approvals_decided),
            "faults_injected": dict(self.faults_injected),
            "wall_seconds": round(self.wall_seconds, 1),
            "violations": self.violations,
        }

    def table(self) -> str:
        lines = [
            f"soak: {self.reviews} reviews + {self.duplicates} duplicate deliveries",
            f"faults: {self.fault_plan}",
            "",
            f"{'outcome (reason)':<44}{'count':>7}",
            "-" * 51,
        ]
        for key, count in sorted(self.by_outcome.items()):
            lines.append(f"{key:<44}{count:>7}")
        lines.append("-" * 51)
        lines.append(f"{'distinct reviews expected':<44}{self.expected:>7}")
        lines.append(f"{'outcome events':<44}{self.outcomes:>7}")
        lines.append(f"{'lost':<44}{len(self.lost):>7}")
        lines.append(f"{'duplicated':<44}{len(self.duplicated):>7}")
        lines.append(f"{'failures without a reason':<44}{len(self.without_reason):>7}")
        lines.append("")
        lines.append(
            "by path: "
            + "; ".join(
                f"{kind} " + ", ".join(f"{k}={n}" for k, n in sorted(c.items()))
                for kind, c in sorted(self.by_kind.items())
            )
        )
        lines.append(
            "executions: "
            + ", ".join(f"{k}={n}" for k, n in sorted(self.executions.items()))
            + f"; approvals decided: {dict(self.approvals_decided)}"
        )
        if self.faults_injected:
            lines.append(
                "faults injected: " + ", ".join(f"{k}={n}" for k, n in sorted(self.faults_injected.items()))
            )
        lines.append(f"wall time: {self.wall_seconds:.1f} s")
        lines.append("result: " + ("OK" if self.ok else "VIOLATED\n  " + "\n  ".join(self.violations)))
        return "\n".join(lines)


# Which outcomes each path may end in. Any path may fail with provider_error when faults exhaust
# the retries; the others follow from the flow in architecture.md §1 and the reviewer's decisions.
_ALLOWED: dict[str, set[str]] = {
    "safe": {"created"},
    "harmful": {"harmful"},
    "uncertain_review": {"created", "harmful", "failed (response_rejected)", "failed (response_toxic)"},
    "uncertain_reply": {"created", "failed (response_rejected)"},
    "toxic_reply": {"failed (response_toxic)"},
    "non_english": {"created", "harmful", "failed (response_rejected)", "failed (response_toxic)"},
    "invalid": {"failed (invalid_review)"},
}


def check_conservation(report: SoakReport, expected: dict[str, str], events: list[dict[str, Any]]) -> None:
    """Fill the report's counts and violations from the outcome events."""
    per_key: dict[str, list[dict[str, Any]]] = {}
    for event in events:
        per_key.setdefault(str(event["detail"].get("review_id")), []).append(event)
    report.outcomes = len(events)
    for key, kind in sorted(expected.items()):
        found = per_key.get(key, [])
        if not found:
            report.lost.append(key)
            continue
        if len(found) > 1:
            report.duplicated.append(key)
        label = outcome_label(found[0])
        report.by_outcome[label] += 1
        report.by_kind.setdefault(kind, Counter())[label] += 1
        if label not in _ALLOWED[kind] | {"failed (provider_error)"}:
            report.wrong_outcome.append(f"{key}={label}")
    report.unexpected = sorted(set(per_key) - expected.keys())
    for event in events:
        detail = event["detail"]
        if event["detail-type"] == OutcomeType.GENERATION_FAILED and not (
            detail.get("reason") and detail.get("message")
        ):
            report.without_reason.append(str(detail.get("review_id")))
