"""The model options of ``reviewflow run|serve|soak|eval``: parsed, resolved against the environment,
refused in one line, turned into synth context (and the cache key), and checked before boot."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest

from reviewflow.contracts import EnvVar, LocalEnvVar
from reviewflow_local import cli, evaluation
from reviewflow_local.cli_checks import CliError
from reviewflow_local.console import providers_answered
from reviewflow_local.model_checks import check_model_server, check_models, check_prompt_files
from reviewflow_local.model_choice import ModelChoice, resolve_model_choice
from reviewflow_local.synth import build_context, cache_key, find_project_root

ROOT = find_project_root(Path(__file__).parent)
COMMANDS = ("run", "serve", "soak", "eval")
OPENAI = ["--llm", "openai", "--llm-base-url", "http://127.0.0.1:11434/v1", "--model", "qwen2.5:0.5b"]


def _args(*argv: str, command: str = "run") -> argparse.Namespace:
    return cli.build_parser().parse_args([command, *argv])


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_takes_the_model_options(command: str) -> None:
    args = _args(*OPENAI, "--sentiment-model", "llama3.2", "--toxicity", "comprehend", command=command)
    choice = resolve_model_choice(args, environ={})
    assert choice == ModelChoice(
        llm="openai",
        base_url="http://127.0.0.1:11434/v1",
        model="qwen2.5:0.5b",
        sentiment_model="llama3.2",
        toxicity="comprehend",
    )


def test_without_options_or_environment_the_offline_providers_answer() -> None:
    choice = resolve_model_choice(_args(), environ={})
    assert choice == ModelChoice()
    assert choice.context() == {"llm_provider": "local", "toxicity_provider": "local"}
    assert choice.real_aws_services == ()


def test_the_environment_supplies_what_the_command_line_does_not() -> None:
    environ = {
        LocalEnvVar.LLM: "openai",
        LocalEnvVar.LLM_BASE_URL: "http://127.0.0.1:8080/v1/",
        LocalEnvVar.MODEL: "from-env",
        LocalEnvVar.RESPONSE_PROMPT: "v2",
    }
    choice = resolve_model_choice(_args("--model", "from-flag"), environ=environ)
    assert choice.model == "from-flag"  # the command line wins
    assert choice.base_url == "http://127.0.0.1:8080/v1"  # trailing slash dropped
    assert choice.response_prompt == "v2"


def test_the_choice_is_synth_context_as_cdk_json_overrides_carry_it() -> None:
    choice = resolve_model_choice(_args(*OPENAI, "--response-prompt", "v2"), environ={})
    assert choice.context() == {
        "llm_provider": "openai",
        "toxicity_provider": "local",
        "model_id": "qwen2.5:0.5b",
        "openai_base_url": "http://127.0.0.1:11434/v1",
        "response_prompt_version": "v2",
    }
    context = build_context(ROOT, choice.context())
    assert context["reviewflow:llm_provider"] == "openai"
    assert context["reviewflow:openai_base_url"] == "http://127.0.0.1:11434/v1"
    assert context["reviewflow:response_prompt_version"] == "v2"
    # cdk.json's own block stays as it is: the overrides are the -c reviewflow:<field> kind.
    assert context["reviewflow"] == json.loads((ROOT / "cdk.json").read_text())["context"]["reviewflow"]


def test_bedrock_without_a_model_keeps_cdk_json_model_id() -> None:
    choice = resolve_model_choice(_args("--llm", "bedrock"), environ={})
    assert "model_id" not in choice.context()
    assert choice.real_aws_services == ("bedrock-runtime",)
    assert "cdk.json's model_id" in choice.describe()


def test_every_model_choice_has_its_own_cached_template() -> None:
    keys = {
        cache_key(ROOT, build_context(ROOT, choice.context()))
        for choice in (
            ModelChoice(),
            ModelChoice(llm="openai", base_url="http://127.0.0.1:1/v1", model="a"),
            ModelChoice(llm="openai", base_url="http://127.0.0.1:1/v1", model="b"),
            ModelChoice(llm="openai", base_url="http://127.0.0.1:1/v1", model="a", response_prompt="v2"),
            ModelChoice(toxicity="comprehend"),
        )
    }
    assert len(keys) == 5


@pytest.mark.parametrize(
    ("argv", "environ", "message"),
    [
        (["--llm", "openai", "--model", "m"], {}, "--llm openai needs --llm-base-url"),
        (["--llm", "openai", "--llm-base-url", "http://h/v1"], {}, "--llm openai needs --model"),
        (
            ["--llm", "openai", "--llm-base-url", "ftp://h/v1", "--model", "m"],
            {},
            "is not an http:// or https://",
        ),
        (["--llm", "openai", "--llm-base-url", "http://u:p@h/v1", "--model", "m"], {}, "carries credentials"),
        (["--llm", "openai", "--llm-base-url", "http://h/v1?x=1", "--model", "m"], {}, "query or fragment"),
        (["--model", "m"], {}, "--model is set but the LLM provider is local"),
        ([], {LocalEnvVar.MODEL: "m"}, "$REVIEWFLOW_MODEL is set but the LLM provider is local"),
        (["--llm", "bedrock", "--llm-base-url", "http://h/v1"], {}, "is only used with --llm openai"),
        (["--llm", "bedrock", "--model", "two words"], {}, "'two words' is not a model name"),
        (["--llm", "bedrock", "--response-prompt", "../v1"], {}, "is not a prompt version"),
        ([], {LocalEnvVar.LLM: "gpt"}, "$REVIEWFLOW_LLM is 'gpt'; use one of local, openai, bedrock"),
        ([], {LocalEnvVar.TOXICITY: "perspective"}, "$REVIEWFLOW_TOXICITY is 'perspective'"),
    ],
)
def test_an_unusable_choice_is_refused_in_one_line(
    argv: list[str], environ: dict[str, str], message: str
) -> None:
    with pytest.raises(CliError) as raised:
        resolve_model_choice(_args(*argv), environ=environ)
    assert message in str(raised.value)
    assert "\n" not in str(raised.value)


@pytest.mark.parametrize("command", COMMANDS)
def test_a_bad_provider_name_is_an_argparse_refusal_with_exit_status_2(
    command: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as raised:
        cli.main([command, "--llm", "gpt-4"])
    assert raised.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "argument --llm: invalid choice: 'gpt-4'" in err


def test_a_refused_choice_exits_2_before_anything_boots(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status = cli.main(["run", "--workdir", str(tmp_path), "--llm", "openai", "--model", "m"])
    assert status == 2
    assert capsys.readouterr().err == (
        "reviewflow: --llm openai needs --llm-base-url, e.g. http://127.0.0.1:11434/v1 for a local Ollama\n"
    )
    assert not list((tmp_path / "runs").iterdir())  # the run folder was removed again


@pytest.mark.parametrize("command", COMMANDS)
def test_the_help_names_each_option_and_its_environment_variable(command: str) -> None:
    parser = _args(command=command).command_parser
    helps = {
        action.option_strings[0]: action.help or "" for action in parser._actions if action.option_strings
    }
    for option, variable in (
        ("--llm", LocalEnvVar.LLM),
        ("--llm-base-url", LocalEnvVar.LLM_BASE_URL),
        ("--model", LocalEnvVar.MODEL),
        ("--sentiment-model", LocalEnvVar.SENTIMENT_MODEL),
        ("--toxicity", LocalEnvVar.TOXICITY),
        ("--response-prompt", LocalEnvVar.RESPONSE_PROMPT),
    ):
        assert f"(default: ${variable}" in helps[option], option
    assert "costs money" in helps["--llm"] and "costs money" in helps["--toxicity"]
    assert "models" in parser.format_help()  # the option group's title


# ------------------------------------------------------------------------- pre-boot checks


def _fetch(status: int, body: object) -> object:
    def fetch(url: str, headers: dict[str, str], timeout: float) -> tuple[int, bytes]:
        assert url == "http://127.0.0.1:11434/v1/models"
        return status, json.dumps(body).encode()

    return fetch


def _raising(exc: BaseException) -> object:
    def fetch(url: str, headers: dict[str, str], timeout: float) -> tuple[int, bytes]:
        raise exc

    return fetch


MODELS = {"object": "list", "data": [{"id": "qwen2.5:0.5b"}, {"id": "llama3.2:latest"}]}
BASE = "http://127.0.0.1:11434/v1"


def test_a_model_the_server_lists_passes() -> None:
    assert check_model_server(BASE, ["qwen2.5:0.5b"], fetch=_fetch(200, MODELS)) == [
        "qwen2.5:0.5b",
        "llama3.2:latest",
    ]
    check_model_server(BASE, ["llama3.2"], fetch=_fetch(200, MODELS))  # Ollama's implicit :latest


@pytest.mark.parametrize(
    ("fetch", "message"),
    [
        (
            _raising(ConnectionRefusedError(111, "Connection refused")),
            "cannot reach the model server at http://127.0.0.1:11434/v1 (connection refused); start it",
        ),
        (_raising(TimeoutError()), "did not answer GET /models within 5 s"),
        (_fetch(404, {}), "http://127.0.0.1:11434/v1/models does not exist (HTTP 404)"),
        (
            _fetch(401, {}),
            f"refused GET /models (HTTP 401); if it needs an API key, set ${EnvVar.OPENAI_API_KEY}",
        ),
        (_fetch(500, {}), "answered GET /models with HTTP 500"),
        (_fetch(200, ["not", "a", "list"]), "something other than an OpenAI-compatible model list"),
        (_fetch(200, MODELS), "has no model 'mistral' (it lists: qwen2.5:0.5b, llama3.2:latest); pull it"),
    ],
)
def test_a_server_problem_is_one_line_before_the_stack_boots(fetch: object, message: str) -> None:
    with pytest.raises(CliError) as raised:
        check_model_server(BASE, ["mistral"], fetch=fetch)  # type: ignore[arg-type]
    assert message in str(raised.value)
    assert "\n" not in str(raised.value)


def test_the_checks_ask_for_the_reply_and_the_sentiment_model() -> None:
    seen: list[str] = []

    def fetch(url: str, headers: dict[str, str], timeout: float) -> tuple[int, bytes]:
        seen.append(url)
        return 200, json.dumps(MODELS).encode()

    choice = ModelChoice(llm="openai", base_url=BASE, model="qwen2.5:0.5b", sentiment_model="phi3")
    with pytest.raises(CliError, match="no model 'phi3'"):
        check_models(choice, ROOT, fetch=fetch)
    assert seen == [f"{BASE}/models"]
    assert check_models(ModelChoice(), ROOT, fetch=_raising(AssertionError("no call offline"))) == []  # type: ignore[arg-type]


def test_a_response_prompt_version_needs_its_files() -> None:
    check_prompt_files(ModelChoice(llm="bedrock", response_prompt="v2"), ROOT)
    with pytest.raises(CliError) as raised:
        check_prompt_files(ModelChoice(llm="bedrock", response_prompt="v9"), ROOT)
    assert str(raised.value) == (
        "--response-prompt v9: prompts/response/v9.system.txt does not exist; "
        "the versions are guided-v1, short-v1, v1, v2"
    )


# ----------------------------------------------------------------------------- reporting


def _event(
    toxicity: str, sentiment: tuple[str, str] | None, reply: tuple[str, str] | None
) -> dict[str, object]:
    detail: dict[str, object] = {"review_id": "r", "review_toxicity": {"provider": toxicity}}
    if sentiment:
        detail["sentiment"] = {"model_id": sentiment[0], "prompt_version": sentiment[1]}
    if reply:
        detail["model_id"], detail["prompt_version"] = reply
    return {"detail": detail}


def test_the_summary_says_which_providers_answered() -> None:
    events = [
        _event("local", ("m", "sentiment/v1"), ("m", "response/v2")),
        _event("local", ("m", "sentiment/v1"), ("m", "response/v2")),
        _event("local", None, None),
    ]
    assert providers_answered(events) == (
        "Answered by: toxicity local x3; sentiment m (sentiment/v1) x2; replies m (response/v2) x2"
    )
    assert providers_answered([]) == "Answered by: no provider (no review got that far)"


# ------------------------------------------------------------------------------ evaluation


def test_eval_with_a_model_compares_the_template_with_the_model_at_both_prompt_versions() -> None:
    choice = ModelChoice(llm="openai", base_url=BASE, model="Qwen2.5:0.5B")
    assert evaluation.default_candidates(choice) == (
        "template-v2=local/template-responder@v2",
        "qwen2.5-0.5b-v1=Qwen2.5:0.5B@v1",
        "qwen2.5-0.5b-v2=Qwen2.5:0.5B@v2",
    )
    assert evaluation.default_candidates(ModelChoice()) == evaluation.DEFAULT_CANDIDATES


def test_eval_offline_still_refuses_a_model_it_cannot_reach(tmp_path: Path) -> None:
    args = _args("--candidate", "x=us.amazon.nova-lite-v1:0@v1", command="eval")
    with pytest.raises(CliError, match="with --llm local the only model is local/template-responder"):
        evaluation.plan_from(args, ROOT)
