"""What ``reviewflow serve`` prints: a pasteable AWS CLI command, and what ends when it stops."""

from __future__ import annotations

import json
import shlex
import sys
from pathlib import Path

import pytest

from reviewflow.contracts import DEFAULT_INPUT_SOURCE, INPUT_DETAIL_TYPE
from reviewflow_local.console import (
    EXAMPLE_REVIEW,
    aws_command,
    aws_put_events_example,
    serve_banner,
    stop_notice,
)

URL = "http://127.0.0.1:8123"


def _argv_and_env(line: str) -> tuple[list[str], dict[str, str]]:
    words = shlex.split(line)
    env = {}
    while "=" in words[0] and not words[0].startswith("-"):
        name, _, value = words.pop(0).partition("=")
        env[name] = value
    return words, env


def test_the_example_is_one_shell_line_with_credentials_region_and_the_stack_names() -> None:
    line = aws_put_events_example(url=URL, bus_name="bus-x", input_source="shop.x", aws=".venv/bin/aws")
    argv, env = _argv_and_env(line)
    assert env == {
        "AWS_ACCESS_KEY_ID": "local",
        "AWS_SECRET_ACCESS_KEY": "local",
        "AWS_DEFAULT_REGION": "us-east-1",
    }
    assert argv[:6] == [".venv/bin/aws", "--endpoint-url", URL, "events", "put-events", "--entries"]
    [entry] = json.loads(argv[6])
    assert entry == {
        "EventBusName": "bus-x",
        "Source": "shop.x",
        "DetailType": INPUT_DETAIL_TYPE,
        "Detail": json.dumps(EXAMPLE_REVIEW),
    }
    assert len(argv) == 7 and "\n" not in line


def test_quoting_survives_a_quote_in_the_review_and_a_space_in_the_path() -> None:
    detail = {"review_id": "r-9", "product_id": "p-1", "review_text": 'It\'s "fine"; $HOME `x`'}
    line = aws_put_events_example(
        url=URL, bus_name="b", input_source=DEFAULT_INPUT_SOURCE, aws="/opt/my tools/aws", detail=detail
    )
    argv, _ = _argv_and_env(line)
    assert argv[0] == "/opt/my tools/aws"
    assert json.loads(json.loads(argv[6])[0]["Detail"]) == detail


def test_the_aws_command_is_the_one_beside_this_python(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bin_dir = tmp_path / ".venv" / "bin"
    bin_dir.mkdir(parents=True)
    monkeypatch.setattr(sys, "executable", str(bin_dir / "python"))
    monkeypatch.chdir(tmp_path)
    assert aws_command() == "aws"  # none installed there: whatever the PATH has
    (bin_dir / "aws").write_text("#!/bin/sh\n")
    assert aws_command() == ".venv/bin/aws"
    monkeypatch.chdir(bin_dir)
    assert aws_command() == "./aws"
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    assert aws_command() == str(bin_dir / "aws")


def test_the_banner_prints_the_example_and_where_things_are() -> None:
    banner = serve_banner(
        url=URL,
        stage_url=f"{URL}/prod",
        bus_name="reviewflow-reviews",
        input_source=DEFAULT_INPUT_SOURCE,
        outcomes=Path("runs/x/outcomes.jsonl"),
        emails=Path("runs/x/outbox"),
        aws=".venv/bin/aws",
    )
    example = aws_put_events_example(
        url=URL, bus_name="reviewflow-reviews", input_source=DEFAULT_INPUT_SOURCE, aws=".venv/bin/aws"
    )
    assert f"\n  {example}\n" in banner
    assert "AWS CLI from this folder" in banner
    for shown in (f"{URL}/", f"{URL}/prod/approvals/<id>", "reviewflow-reviews", "runs/x/outcomes.jsonl"):
        assert shown in banner


@pytest.mark.parametrize(
    ("pending", "running", "expected"),
    [
        ([], 0, "reviewflow: stopping; no approval was pending and no review in progress"),
        (
            ["r-2"],
            1,
            "reviewflow: stopping with 1 approval pending (r-2); it ends with this process, because the "
            "local pipeline lives in memory (post that review again after the next start)",
        ),
        (
            ["r-3", "r-2"],
            5,
            "reviewflow: stopping with 2 approvals pending (r-2, r-3) and 3 more reviews in progress; "
            "they end with this process, because the local pipeline lives in memory (post those reviews "
            "again after the next start)",
        ),
        (
            [],
            2,
            "reviewflow: stopping with 2 reviews in progress; they end with this process, because the local "
            "pipeline lives in memory (post those reviews again after the next start)",
        ),
    ],
)
def test_stopping_says_what_ends_with_the_process(pending: list[str], running: int, expected: str) -> None:
    items = [{"review_id": review_id, "stage": "REVIEW"} for review_id in pending]
    assert stop_notice(items, running) == expected


def test_a_long_pending_list_is_cut_short() -> None:
    items = [{"review_id": f"r-{n:02d}"} for n in range(12)]
    notice = stop_notice(items, 12)
    assert "12 approvals pending (r-00, r-01, r-02, r-03, r-04, r-05, r-06, r-07, r-08, r-09, ...)" in notice
