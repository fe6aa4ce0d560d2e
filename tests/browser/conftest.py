"""Browser tier: the approval pages of a running local stack, in Debian's Chromium.

Chromium comes from the distribution (``apt-get install chromium``), never from Playwright's
download: Playwright's Python package drives ``/usr/bin/chromium`` through ``executable_path``.
Without that binary (or without the ``playwright`` package) every test here is skipped with the
reason; the HTTP attack tests in ``test_attacks.py`` need no browser and always run.

Each module gets its own local stack (moto is process-global), started the way the workflow
tier starts it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from reviewflow_local.outbox import read_message
from reviewflow_local.pipeline import LocalPipeline
from tests.workflow.conftest import approval_link, start_stack, wait_until

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = Path(__file__).parent / "artifacts"
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}
DEADLINE = 45.0


@dataclass(frozen=True)
class PendingApproval:
    review_id: str
    stage: str
    approval_id: str
    link: str  # as emailed: <stage url>/approvals/<id>?s=<secret>
    eml: Path

    @property
    def url(self) -> str:
        return self.link.split("?", 1)[0]

    @property
    def secret(self) -> str:
        return parse_qs(urlsplit(self.link).query)["s"][0]


@pytest.fixture(scope="module")
def stack(project_root: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalPipeline]:
    local = start_stack(project_root, tmp_path_factory.mktemp("browser-stack"))
    yield local
    local.stop()


@pytest.fixture(scope="session")
def project_root() -> Path:
    from reviewflow_local.synth import find_project_root

    return find_project_root(Path(__file__).parent)


def pending_approval(stack: LocalPipeline, review_id: str, stage: str) -> PendingApproval:
    """Wait for the email of ``review_id``'s ``stage`` approval and read its link from the .eml."""
    link = approval_link(stack, review_id, stage, timeout=DEADLINE)
    approval_id = urlsplit(link).path.rsplit("/", 1)[-1]
    eml = next(m.path for m in stack.outbox.messages() if m.approval_id == approval_id)
    assert link in read_message(eml).text  # the link really is in the message's text part
    return PendingApproval(review_id, stage, approval_id, link, eml)


def approval_item(stack: LocalPipeline, approval_id: str) -> dict[str, Any]:
    """The raw table item (tests only: it includes the task token)."""
    item = stack.client("dynamodb").get_item(
        TableName=stack.resources.table_name,
        Key={"pk": {"S": f"approval#{approval_id}"}},
        ConsistentRead=True,
    )["Item"]
    return dict(item)


def outcome_of(stack: LocalPipeline, review_id: str) -> dict[str, Any]:
    return stack.outcome_for(review_id, timeout=DEADLINE)


@pytest.fixture(scope="session")
def chromium() -> Iterator[Any]:
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is absent: install Debian's chromium package (apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.skip("the playwright Python package is not installed (pip install playwright)")
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def new_page(chromium: Any) -> Iterator[Callable[..., Any]]:
    """Fresh browser contexts (no shared cookies or cache), closed after the test."""
    contexts: list[Any] = []

    def make(viewport: dict[str, int] = DESKTOP, **options: Any) -> Any:
        context = chromium.new_context(viewport=viewport, **options)
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(20_000)
        return page

    yield make
    for context in contexts:
        context.close()


__all__ = ["DEADLINE", "PendingApproval", "approval_item", "outcome_of", "pending_approval", "wait_until"]
