"""Workflow tier: the synthesized template, deployed into moto, with the real ASL and handlers.

Each test module gets its own local pipeline (moto is process-global, and one module needs a
template synthesized with a short approval timeout). Synthesis is cached under
``.reviewflow/cdk.out``, so only the first run pays for it.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from reviewflow_local import reviewer
from reviewflow_local.outbox import read_message
from reviewflow_local.pipeline import LocalPipeline
from reviewflow_local.synth import find_project_root, synthesize


@pytest.fixture(scope="session")
def project_root() -> Path:
    return find_project_root(Path(__file__).parent)


def start_stack(root: Path, workdir: Path, overrides: dict[str, Any] | None = None) -> LocalPipeline:
    warnings.simplefilter("ignore")
    assembly = synthesize(root, overrides=overrides)
    return LocalPipeline(assembly, workdir=workdir, log_stream=(workdir / "lambda.log").open("a")).start()


def wait_until(condition: Callable[[], Any], timeout: float, what: str, poll: float = 0.05) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(poll)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")


def approval_link(stack: LocalPipeline, review_id: str, stage: str, timeout: float = 30.0) -> str:
    """The link in the email sent for ``review_id``'s pending ``stage`` approval."""

    def find() -> str | None:
        pending = [
            a for a in stack.pending_approvals() if a["review_id"] == review_id and a["stage"] == stage
        ]
        if not pending:
            return None
        for message in stack.outbox.messages():
            if message.approval_id == pending[0]["approval_id"] and message.approval_links:
                return message.approval_links[0]
        return None

    return str(wait_until(find, timeout, f"the {stage} approval email of {review_id}"))


def decide_over_http(stack: LocalPipeline, review_id: str, stage: str, decision: str) -> reviewer.PageResult:
    link = approval_link(stack, review_id, stage)
    assert link.startswith(f"{stack.front.stage_url}/approvals/"), link
    shown, decided = reviewer.decide(link, decision, reviewer="Workflow Test", comment=f"{decision} by test")
    assert shown.status == 200
    return decided


def entered_states(history: list[dict[str, Any]]) -> list[str]:
    return [e["stateEnteredEventDetails"]["name"] for e in history if "stateEnteredEventDetails" in e]


def outbox_message_for(stack: LocalPipeline, approval_id: str) -> Any:
    return next(read_message(m.path) for m in stack.outbox.messages() if m.approval_id == approval_id)


@pytest.fixture(scope="module")
def stack_factory(
    project_root: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Callable[..., LocalPipeline]]:
    started: list[LocalPipeline] = []

    def make(overrides: dict[str, Any] | None = None) -> LocalPipeline:
        stack = start_stack(project_root, tmp_path_factory.mktemp("stack"), overrides)
        started.append(stack)
        return stack

    yield make
    for stack in started:
        stack.stop()
