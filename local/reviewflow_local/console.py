"""What ``reviewflow`` shows a person: outcome labels, the progress line and the summary table."""

from __future__ import annotations

import json
import shlex
import shutil
import sys
import time
from collections import Counter
from pathlib import Path
from typing import IO, Any

from reviewflow.contracts import INPUT_DETAIL_TYPE, OutcomeType
from reviewflow_local.deployment import REGION

SHORT_OUTCOME: dict[str, str] = {
    OutcomeType.RESPONSE_CREATED: "created",
    OutcomeType.HARMFUL_CONTENT: "harmful",
    OutcomeType.GENERATION_FAILED: "failed",
}
#: Widest each summary column may get (the reply column takes what the terminal has left).
_COLUMN_CAPS = (28, 8, 9, 34, 10_000)


def short_outcome(event: dict[str, Any]) -> str:
    """``created``, ``harmful`` or ``failed`` (an unknown detail-type is shown as it is)."""
    detail_type = str(event.get("detail-type"))
    return SHORT_OUTCOME.get(detail_type, detail_type)


def outcome_label(event: dict[str, Any]) -> str:
    """The short outcome with its reason: ``failed (response_toxic)``."""
    reason = (event.get("detail") or {}).get("reason")
    return f"{short_outcome(event)} ({reason})" if reason else short_outcome(event)


def outcome_counts(events: list[dict[str, Any]]) -> str:
    """``2 created, 1 failed``."""
    counts = Counter(short_outcome(event) for event in events)
    return ", ".join(f"{n} {kind}" for kind, n in sorted(counts.items()))


class Progress:
    """One updating line on a terminal, plain lines otherwise; always on stderr."""

    def __init__(self, total: int, stream: IO[str] = sys.stderr) -> None:
        self.total = total
        self.stream = stream
        self.tty = stream.isatty()
        self.started = time.monotonic()
        self._last = ""

    def show(self, done: int, waiting: int) -> None:
        elapsed = time.monotonic() - self.started
        note = f" · {waiting} awaiting a person" if waiting else ""
        if self.tty:
            width = 30
            filled = int(width * done / max(self.total, 1))
            bar = "#" * filled + "." * (width - filled)
            line = f"\r[{bar}] {done}/{self.total} outcomes{note} · {elapsed:.1f}s"
            self.stream.write(line.ljust(len(self._last)))
            self.stream.flush()
            self._last = line
        else:
            line = f"{done}/{self.total} outcomes{note}"
            if line != self._last:
                self.stream.write(f"[{elapsed:6.1f}s] {line}\n")
                self.stream.flush()
                self._last = line

    def close(self) -> None:
        if self.tty:
            self.stream.write("\n")


def summary_table(events: list[dict[str, Any]], width: int | None = None) -> str:
    width = width or shutil.get_terminal_size((120, 20)).columns
    rows = [("review", "toxicity", "sentiment", "outcome", "reply")]
    rows += [_summary_row(event) for event in sorted(events, key=lambda e: str(e["detail"].get("review_id")))]
    widths = [min(max(len(r[i]) for r in rows), cap) for i, cap in enumerate(_COLUMN_CAPS)]
    widths[4] = max(10, width - sum(widths[:4]) - 8)
    lines = []
    for index, row in enumerate(rows):
        lines.append("  ".join(_fit(cell, widths[i]) for i, cell in enumerate(row)).rstrip())
        if index == 0:
            lines.append("  ".join("-" * w for w in widths))
    lines.append("* a person decided at least once")
    return "\n".join(lines)


def _summary_row(event: dict[str, Any]) -> tuple[str, str, str, str, str]:
    detail = event["detail"]
    score = (detail.get("review_toxicity") or {}).get("score")
    toxicity = "n/a" if score is None else f"{score:.2f}"
    sentiment = (detail.get("sentiment") or {}).get("sentiment", "-")
    outcome = outcome_label(event)
    if detail.get("human_decisions") or detail.get("decided_by") == "reviewer":
        outcome += " *"
    reply = " ".join(str(detail.get("response_text") or "").split()) or "-"
    return (str(detail.get("review_id")), toxicity, sentiment, outcome, reply)


def _fit(text: str, width: int) -> str:
    return (text if len(text) <= width else text[: width - 1] + "…").ljust(width)


def run_totals(events: list[dict[str, Any]], expected: int, elapsed: float, since_start: float) -> str:
    """The closing line of ``reviewflow run``."""
    return (
        f"\n{len(events)}/{expected} reviews reached an outcome ({outcome_counts(events)}) in "
        f"{elapsed:.1f} s ({elapsed / max(expected, 1):.2f} s per review; "
        f"{since_start:.1f} s including start-up)."
    )


def providers_answered(events: list[dict[str, Any]]) -> str:
    """Who answered, read from the outcomes: ``Answered by: toxicity local x20; sentiment ...``."""
    toxicity: Counter[str] = Counter()
    sentiment: Counter[str] = Counter()
    replies: Counter[str] = Counter()
    for event in events:
        detail = event.get("detail") or {}
        if provider := (detail.get("review_toxicity") or {}).get("provider"):
            toxicity[str(provider)] += 1
        if summary := detail.get("sentiment"):
            sentiment[f"{summary.get('model_id')} ({summary.get('prompt_version')})"] += 1
        if detail.get("model_id"):
            replies[f"{detail['model_id']} ({detail.get('prompt_version')})"] += 1
    parts = [
        f"{step} " + ", ".join(f"{who} x{n}" for who, n in sorted(counter.items()))
        for step, counter in (("toxicity", toxicity), ("sentiment", sentiment), ("replies", replies))
        if counter
    ]
    return "Answered by: " + ("; ".join(parts) if parts else "no provider (no review got that far)")


#: The review ``serve``'s example posts: rude enough that the offline classifier holds it for a person.
EXAMPLE_REVIEW = {"review_id": "r-1", "product_id": "p-1", "review_text": "This toaster sucks."}
#: Any credentials do: the local endpoint checks none, and the CLI only needs some to sign with.
EXAMPLE_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "local", "AWS_SECRET_ACCESS_KEY": "local"}


def aws_command() -> str:
    """How to call the ``aws`` installed next to this Python (``.venv/bin/aws`` from the checkout),
    or plain ``aws`` from the PATH when there is none."""
    beside = Path(sys.executable).parent / "aws"
    if not beside.is_file():
        return "aws"
    try:
        relative = beside.relative_to(Path.cwd())
    except ValueError:
        return str(beside)
    return str(relative) if len(relative.parts) > 1 else f"./{relative}"


def aws_put_events_example(
    *, url: str, bus_name: str, input_source: str, aws: str = "aws", detail: dict[str, Any] | None = None
) -> str:
    """A shell command that posts one review to the local bus with the AWS CLI, credentials and
    region included, quoted so that it can be pasted as it is."""
    entry = {
        "EventBusName": bus_name,
        "Source": input_source,
        "DetailType": INPUT_DETAIL_TYPE,
        "Detail": json.dumps(detail or EXAMPLE_REVIEW),
    }
    variables = {**EXAMPLE_CREDENTIALS, "AWS_DEFAULT_REGION": REGION}
    command = [aws, "--endpoint-url", url, "events", "put-events", "--entries", json.dumps([entry])]
    return " ".join(f"{name}={value}" for name, value in variables.items()) + " " + shlex.join(command)


def serve_banner(
    *, url: str, stage_url: str, bus_name: str, input_source: str, outcomes: Path, emails: Path, aws: str
) -> str:
    """What ``reviewflow serve`` prints once it listens, with a ready-to-paste AWS CLI call."""
    rows = [
        ("inbox (pending approvals, emails)", f"{url}/"),
        ("approval pages", f"{stage_url}/approvals/<id>"),
        (f"AWS endpoint (region {REGION})", url),
        ("event bus", bus_name),
        ("input source, detail type", f"{input_source}, {INPUT_DETAIL_TYPE}"),
        ("outcome events (JSON lines)", str(outcomes)),
        ("emails (.eml)", str(emails)),
    ]
    width = max(len(label) for label, _ in rows) + 2
    table = "\n".join(f"  {label + ':':<{width}}{value}" for label, value in rows)
    where = " from this folder" if not Path(aws).is_absolute() and aws != "aws" else ""
    example = aws_put_events_example(url=url, bus_name=bus_name, input_source=input_source, aws=aws)
    return f"""
reviewflow local pipeline is running (Ctrl-C stops it; all but outcomes and emails is in memory)
{table}

Post a review with the AWS CLI{where} (any credentials do; nothing leaves the machine):
  {example}
That review waits for a person: open the inbox and follow the email's link. Give each review a
new review_id: a repeated one is a duplicate delivery and gets no second outcome.
"""


def stop_notice(pending: list[dict[str, Any]], running: int) -> str:
    """The line ``serve`` prints when it stops: what ends with the process."""
    others = max(running - len(pending), 0)
    if not pending and not others:
        return "reviewflow: stopping; no approval was pending and no review in progress"
    parts = []
    if pending:
        ids = sorted({str(item.get("review_id")) for item in pending})
        shown = ", ".join(ids[:10]) + (", ..." if len(ids) > 10 else "")
        parts.append(f"{_plural(len(pending), 'approval')} pending ({shown})")
    if others:
        parts.append(f"{_plural(others, 'more review' if pending else 'review')} in progress")
    one = len(pending) + others == 1
    return (
        f"reviewflow: stopping with {' and '.join(parts)}; {'it ends' if one else 'they end'} with this "
        "process, because the local pipeline lives in memory "
        f"(post {'that review' if one else 'those reviews'} again after the next start)"
    )


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"
