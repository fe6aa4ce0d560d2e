"""What ``reviewflow`` checks before it boots, word for word, and the run folder's lifecycle."""

from __future__ import annotations

import errno
from pathlib import Path

import pytest

from reviewflow_local.cli_checks import (
    CliError,
    check_output_file,
    check_workdir,
    new_run_folder,
    port_error,
    read_reviews,
    resolve_fault_plan,
)

GOOD = '{"review_id": "r-1", "product_id": "p-1", "review_text": "Fine kettle."}'


def _refusal(call: object, *args: object, **kwargs: object) -> str:
    assert callable(call)
    with pytest.raises(CliError) as refused:
        call(*args, **kwargs)
    message = str(refused.value)
    assert "\n" not in message
    return message


def test_reviews_are_read_skipping_blank_and_comment_lines(tmp_path: Path) -> None:
    path = tmp_path / "reviews.jsonl"
    path.write_text(f"# header\n{GOOD}\n\n   \n  # indented comment\n{GOOD}\n", encoding="utf-8")
    assert [review["review_id"] for review in read_reviews(path)] == ["r-1", "r-1"]


def test_a_utf8_byte_order_mark_or_crlf_lines_are_not_errors(tmp_path: Path) -> None:
    path = tmp_path / "reviews.jsonl"
    path.write_bytes(b"\xef\xbb\xbf" + f"{GOOD}\r\n{GOOD}\r\n".encode())
    assert len(read_reviews(path)) == 2


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (f"{GOOD}\n{{oops\n", "reviews.jsonl:2: not JSON (Expecting property name enclosed in double quotes"),
        ('"just text"\n', "reviews.jsonl:1: a string, not a JSON object"),
        ("42\n", "reviews.jsonl:1: a number, not a JSON object"),
        ("null\n", "reviews.jsonl:1: null, not a JSON object"),
        ("true\n", "reviews.jsonl:1: true/false, not a JSON object"),
        ("\n\n# nothing\n", "reviews.jsonl holds no reviews; put one NEW_REVIEW_POSTED detail"),
    ],
)
def test_a_bad_file_is_named_with_its_line(tmp_path: Path, content: str, expected: str) -> None:
    path = tmp_path / "reviews.jsonl"
    path.write_text(content, encoding="utf-8")
    message = _refusal(read_reviews, path)
    assert message.startswith(f"{tmp_path}/{expected}"), message


def test_invalid_utf8_names_the_line_and_the_byte(tmp_path: Path) -> None:
    path = tmp_path / "reviews.jsonl"
    path.write_bytes(f"{GOOD}\n{GOOD}\n".encode() + b'{"review_text": "\xff"}\n')
    assert _refusal(read_reviews, path) == f"{path}:3: not UTF-8 text (byte 0xff); save the file as UTF-8"
    path.write_bytes(b"\xef\xbb\xbf" + f"{GOOD}\n".encode() + b'{"review_text": "\xe9"}\n')
    assert _refusal(read_reviews, path) == f"{path}:2: not UTF-8 text (byte 0xe9); save the file as UTF-8"


def test_a_missing_file_or_a_folder_is_named(tmp_path: Path) -> None:
    hint = "give the path of a JSON-lines file of NEW_REVIEW_POSTED details"
    assert _refusal(read_reviews, tmp_path / "none.jsonl") == f"{tmp_path}/none.jsonl: no such file; {hint}"
    assert _refusal(read_reviews, tmp_path) == f"{tmp_path} is a directory; {hint}"


def test_an_output_path_must_be_a_file_somewhere_writable(tmp_path: Path) -> None:
    check_output_file(None)
    check_output_file(tmp_path / "new" / "deeper" / "outcomes.jsonl")  # folders are made later
    assert not (tmp_path / "new").exists()  # a check creates nothing
    assert (
        _refusal(check_output_file, tmp_path) == f"--out {tmp_path} is a directory; give the path of a file"
    )
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    assert _refusal(check_output_file, blocker / "out.jsonl", "--out") == (
        f"--out {blocker}/out.jsonl: {blocker} is a file, not a folder; choose another path"
    )
    assert _refusal(check_workdir, blocker / "work").startswith(
        f"--workdir {blocker}/work: {blocker} is a file"
    )


def test_a_busy_port_says_what_to_do() -> None:
    busy = port_error(8000, OSError(errno.EADDRINUSE, "Address already in use"))
    assert str(busy) == (
        "port 8000 on 127.0.0.1 is already in use; stop what listens there, "
        "or pass --port with another port (0 picks a free one)"
    )
    denied = port_error(80, OSError(errno.EACCES, "Permission denied"))
    assert str(denied).startswith("cannot listen on 127.0.0.1:80 (Permission denied); pass --port")


def test_the_fault_plan_comes_from_the_flag_then_the_default_then_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("REVIEWFLOW_FAULTS", "response:timeout=0.5")
    monkeypatch.setenv("REVIEWFLOW_FAULT_SEED", "7")
    assert resolve_fault_plan("toxicity:throttle=0.2", None).rates == {"toxicity": {"throttle": 0.2}}
    no_faults = resolve_fault_plan(None, None, default_spec="0")  # soak --fault-rate 0: env not read
    assert {rate for kinds in no_faults.rates.values() for rate in kinds.values()} == {0.0}
    assert resolve_fault_plan(None, None, default_spec="0.4").rates["sentiment"]["timeout"] == 0.1
    from_env = resolve_fault_plan(None, None)
    assert from_env.rates == {"response": {"timeout": 0.5}} and from_env.seed == 7
    assert resolve_fault_plan(None, 3).seed == 3


def test_a_bad_fault_plan_in_the_environment_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REVIEWFLOW_FAULTS", "sentiment:throttle=0.7;sentiment:timeout=0.7")
    assert _refusal(resolve_fault_plan, None, None) == (
        "$REVIEWFLOW_FAULTS: fault rates for sentiment add up to more than 1; fix or unset it"
    )
    monkeypatch.delenv("REVIEWFLOW_FAULTS")
    monkeypatch.setenv("REVIEWFLOW_FAULT_SEED", "seven")
    assert _refusal(resolve_fault_plan, None, None) == (
        "$REVIEWFLOW_FAULT_SEED is 'seven', not a whole number; set it to one or unset it"
    )


def test_a_run_folder_is_removed_when_the_pipeline_never_came_up(tmp_path: Path) -> None:
    for failure in (RuntimeError("boot failed"), KeyboardInterrupt()):
        with pytest.raises(type(failure)), new_run_folder(tmp_path, "serve") as folder:
            (folder.path / "lambda.log").write_text("")
            raise failure
        assert not folder.path.exists()
    assert list((tmp_path / "runs").iterdir()) == []


def test_a_kept_run_folder_stays_even_when_the_run_fails_later(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError), new_run_folder(tmp_path, "run") as folder:
        folder.keep()
        raise RuntimeError("failed after the boot")
    assert folder.path.is_dir() and folder.path.parent == tmp_path / "runs"


def test_runs_started_in_the_same_second_get_folders_of_their_own(tmp_path: Path) -> None:
    with new_run_folder(tmp_path, "run") as first, new_run_folder(tmp_path, "run") as second:
        first.keep()
        second.keep()
    assert first.path != second.path and first.path.is_dir() and second.path.is_dir()
    assert second.path.name.startswith(first.path.name.rsplit("-run", 1)[0])
