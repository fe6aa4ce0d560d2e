"""The ``reviewflow`` parser: one-line refusals with exit status 2, and help that states every
option's real default."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from reviewflow_local import cli, cli_serve, commands, evaluation

COMMANDS = ("run", "serve", "soak", "eval")


def _command_parser(name: str) -> argparse.ArgumentParser:
    args = cli.build_parser().parse_args([name])
    parser: argparse.ArgumentParser = args.command_parser
    return parser


def _options(name: str) -> list[argparse.Action]:
    return [a for a in _command_parser(name)._actions if not isinstance(a, argparse._HelpAction)]


@pytest.mark.parametrize("name", COMMANDS)
def test_every_option_says_what_it_does_and_its_default(name: str) -> None:
    for action in _options(name):
        assert action.help and "(default: " in action.help, action.dest


@pytest.mark.parametrize("name", COMMANDS)
def test_a_default_the_code_sets_is_printed_from_the_code(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "1000")  # one line per option: no wrapping inside a default
    text = _command_parser(name).format_help()
    for action in _options(name):
        if action.default in (None, False):
            continue  # described in words: its real default depends on the environment or the project
        assert action.help is not None and "%(default)" in action.help, action.dest
        shown = f"{action.default:g}" if isinstance(action.default, float) else str(action.default)
        assert f"(default: {shown})" in text, action.dest


@pytest.mark.parametrize(
    ("argv", "attribute", "value"),
    [
        (["serve"], "port", 8000),
        (["run"], "port", 0),
        (["run"], "timeout", 900.0),
        (["soak"], "reviews", 1000),
        (["soak"], "fault_rate", 0.1),
        (["soak"], "duplicates", 100),
        (["soak"], "timeout", 1800.0),
        (["soak"], "max_in_flight", 40),
        (["run"], "faults", None),
        (["run"], "seed", None),
    ],
)
def test_the_defaults_the_help_states(argv: list[str], attribute: str, value: object) -> None:
    assert getattr(cli.build_parser().parse_args(argv), attribute) == value


def test_each_command_runs_its_own_handler() -> None:
    parser = cli.build_parser()
    assert parser.parse_args(["run"]).handler is commands.run
    assert parser.parse_args(["serve"]).handler is cli_serve.serve
    assert parser.parse_args(["soak"]).handler is commands.soak
    assert parser.parse_args(["eval"]).handler is evaluation.evaluate


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (
            ["serve", "--port", "-1"],
            "reviewflow serve: argument --port: -1 is not a port number (0 to 65535)",
        ),
        (["run", "--timeout", "nan"], "reviewflow run: argument --timeout: 'nan' is not a positive number"),
        (
            ["run", "--timeout", "soon"],
            "reviewflow run: argument --timeout: 'soon' is not a number of seconds",
        ),
        (["soak", "--reviews", "0"], "reviewflow soak: argument --reviews: 0 is less than 1"),
        (["soak", "--duplicates", "-3"], "reviewflow soak: argument --duplicates: -3 is less than 0"),
        (
            ["soak", "--max-in-flight", "many"],
            "reviewflow soak: argument --max-in-flight: 'many' is not a whole",
        ),
        (["soak", "--seed", "x"], "reviewflow soak: argument --seed: 'x' is not a whole number"),
        (["run", "--faults", "all:throttle"], "reviewflow run: argument --faults: could not convert"),
        (["run", "a.jsonl", "b.jsonl"], "reviewflow run: unrecognized arguments: b.jsonl"),
        (
            [],
            "reviewflow: the following arguments are required: {run,serve,soak,eval,insights,model-standin}",
        ),
        (["eval", "--timeout", "-5"], "reviewflow eval: argument --timeout: '-5' is not a positive number"),
    ],
)
def test_a_refusal_is_one_line_and_exit_status_2(
    argv: list[str], expected: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_:
        cli.main(argv)
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith(expected), err
    command = "reviewflow " + argv[0] if argv else "reviewflow"
    assert err.rstrip().endswith(f"; see '{command} --help'"), err


def test_a_check_that_fails_returns_2_with_its_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "reviews.jsonl"
    assert cli.main(["run", str(missing), "--workdir", str(tmp_path / "work")]) == 2
    err = capsys.readouterr().err
    assert err == (
        f"reviewflow: {missing}: no such file; "
        "give the path of a JSON-lines file of NEW_REVIEW_POSTED details\n"
    )
    assert not (tmp_path / "work").exists()
