"""Which models answer in the local runtime: ``--llm``, ``--model`` and the rest, as synth context.

The choice has one way into the pipeline: it becomes ``reviewflow:<field>`` context for the
synthesized template, exactly as ``cdk.json`` or ``cdk deploy -c reviewflow:<field>=...`` would
give it (``ModelChoice.context``), so the functions read it from their own environment in the
template, and the synth cache key covers it. Each option has an environment variable
(``contracts.LocalEnvVar``); an option given on the command line wins over its variable, and with
neither the local runtime's offline providers answer.

- ``--llm local`` (default): VADER sentiment and the labelled template responder; no model call.
- ``--llm openai --llm-base-url URL --model NAME``: any OpenAI-compatible chat-completions server
  (Ollama, llama.cpp's server, vLLM, ``reviewflow model-standin``) answers sentiment and replies
  with the prompt files, the JSON repair loop and the publish gate all running.
- ``--llm bedrock [--model ID]`` and ``--toxicity comprehend``: the real AWS services answer with
  the user's credentials (``real_aws``); the model id defaults to ``cdk.json``'s.
"""

from __future__ import annotations

import argparse
import os
import re
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from reviewflow.contracts import LocalEnvVar
from reviewflow_local.cli_checks import CliError

LLM_PROVIDERS = ("local", "openai", "bedrock")
TOXICITY_PROVIDERS = ("local", "comprehend")
#: What each provider is called where a person reads it (banner, summary, warnings).
LLM_LABELS = {
    "local": "offline (VADER sentiment, template responder)",
    "openai": "OpenAI-compatible server",
    "bedrock": "Amazon Bedrock (real AWS)",
}
TOXICITY_LABELS = {"local": "offline classifier", "comprehend": "Amazon Comprehend (real AWS)"}
# Loose on purpose: the synthesized configuration (stacks/config.py) is the authority on model
# ids; this only keeps a typo such as a space or a quote from reaching the synth as a value.
_MODEL_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:/@+-]{0,2047}$")
_PROMPT_VERSION = re.compile(r"^[A-Za-z0-9_-]{1,32}$")


@dataclass(frozen=True)
class ModelChoice:
    """The providers a run synthesizes its stack with (validated; see ``resolve_model_choice``)."""

    llm: str = "local"
    base_url: str | None = None
    model: str | None = None
    sentiment_model: str | None = None
    toxicity: str = "local"
    response_prompt: str | None = None

    def context(self) -> dict[str, Any]:
        """The ``reviewflow:<field>`` overrides for ``synth.build_context`` (fields of stacks/config.py).

        Fields left out keep ``cdk.json``'s value or the local runtime's default, as a ``-c``
        override would: ``--llm bedrock`` without ``--model`` uses ``cdk.json``'s ``model_id``.
        """
        context: dict[str, Any] = {"llm_provider": self.llm, "toxicity_provider": self.toxicity}
        optional = {
            "model_id": self.model,
            "sentiment_model_id": self.sentiment_model,
            "openai_base_url": self.base_url,
            "response_prompt_version": self.response_prompt,
        }
        context.update({field: value for field, value in optional.items() if value})
        return context

    @property
    def real_aws_services(self) -> tuple[str, ...]:
        """The AWS services this choice sends model calls to (empty: nothing leaves the machine
        but, with ``--llm openai``, the calls to the model server)."""
        services: list[str] = []
        if self.llm == "bedrock":
            services.append("bedrock-runtime")
        if self.toxicity == "comprehend":
            services.append("comprehend")
        return tuple(services)

    def describe(self) -> str:
        """One line for the banner: who answers sentiment, replies and toxicity."""
        if self.llm == "local":
            llm = LLM_LABELS["local"]
        else:
            where = f" at {self.base_url}" if self.base_url else ""
            model = self.model or "cdk.json's model_id"
            sentiment = f", sentiment model {self.sentiment_model}" if self.sentiment_model else ""
            llm = f"{LLM_LABELS[self.llm]}{where}, model {model}{sentiment}"
        prompt = f"; response prompt {self.response_prompt}" if self.response_prompt else ""
        return f"sentiment and replies: {llm}{prompt}; toxicity: {TOXICITY_LABELS[self.toxicity]}"


def add_model_options(command: argparse.ArgumentParser) -> None:
    """``--llm``, ``--llm-base-url``, ``--model``, ``--sentiment-model``, ``--toxicity``,
    ``--response-prompt`` (their defaults are resolved later, so the environment can supply them)."""
    group = command.add_argument_group(
        "models",
        "Who answers the model calls; each option's environment variable is read when it is not given.",
    )
    group.add_argument(
        "--llm",
        choices=LLM_PROVIDERS,
        help="sentiment and reply provider: local (offline VADER and template responder), openai "
        "(an OpenAI-compatible server, e.g. a local Ollama or llama.cpp server; needs --llm-base-url "
        "and --model) or bedrock (real Amazon Bedrock with your AWS credentials; costs money) "
        f"(default: ${LocalEnvVar.LLM}, or local)",
    )
    group.add_argument(
        "--llm-base-url",
        metavar="URL",
        help="base URL of the OpenAI-compatible API, the part before /chat/completions, e.g. "
        f"http://127.0.0.1:11434/v1 for Ollama (default: ${LocalEnvVar.LLM_BASE_URL})",
    )
    group.add_argument(
        "--model",
        metavar="NAME",
        help="model that writes the replies (and the sentiment, unless --sentiment-model): a name the "
        f"server lists, or a Bedrock model or inference profile id (default: ${LocalEnvVar.MODEL}; "
        "with --llm bedrock, cdk.json's model_id)",
    )
    group.add_argument(
        "--sentiment-model",
        metavar="NAME",
        help=f"model for the sentiment step (default: ${LocalEnvVar.SENTIMENT_MODEL}, or --model)",
    )
    group.add_argument(
        "--toxicity",
        choices=TOXICITY_PROVIDERS,
        help="toxicity scorer: local (the shipped offline classifier) or comprehend (real Amazon "
        f"Comprehend with your AWS credentials; costs money) (default: ${LocalEnvVar.TOXICITY}, or local)",
    )
    group.add_argument(
        "--response-prompt",
        metavar="VERSION",
        help="response prompt version, prompts/response/VERSION.{system,user}.txt, used with --llm "
        f"openai or bedrock (default: ${LocalEnvVar.RESPONSE_PROMPT}, or the runtime's v1)",
    )


#: Option attribute -> its environment variable, in the order they are checked.
_OPTIONS = {
    "llm": LocalEnvVar.LLM,
    "toxicity": LocalEnvVar.TOXICITY,
    "llm_base_url": LocalEnvVar.LLM_BASE_URL,
    "model": LocalEnvVar.MODEL,
    "sentiment_model": LocalEnvVar.SENTIMENT_MODEL,
    "response_prompt": LocalEnvVar.RESPONSE_PROMPT,
}


@dataclass(frozen=True)
class _Given:
    """One option's value and where it came from (``--model`` or ``$REVIEWFLOW_MODEL``)."""

    value: str | None
    source: str


def resolve_model_choice(args: argparse.Namespace, environ: Mapping[str, str] | None = None) -> ModelChoice:
    """The options, else their environment variables, checked together; ``CliError`` when not usable."""
    env = os.environ if environ is None else environ
    given: dict[str, _Given] = {}
    for attribute, variable in _OPTIONS.items():
        value = getattr(args, attribute, None)
        flag = "--" + attribute.replace("_", "-")
        given[attribute] = (
            _Given(value, flag) if value is not None else _Given(env.get(variable) or None, f"${variable}")
        )
    llm = given["llm"].value or "local"
    toxicity = given["toxicity"].value or "local"
    _check_values(given, llm, toxicity)
    base_url = given["llm_base_url"]
    if llm == "local":
        _refuse_model_options(given)
    elif llm == "openai":
        _check_openai(given)
    elif base_url.value is not None:
        raise CliError(f"{base_url.source} is only used with --llm openai (the {llm} provider needs no URL)")
    return ModelChoice(
        llm=llm,
        base_url=base_url.value.rstrip("/") if llm == "openai" and base_url.value else None,
        model=given["model"].value,
        sentiment_model=given["sentiment_model"].value,
        toxicity=toxicity,
        response_prompt=given["response_prompt"].value,
    )


def _check_values(given: Mapping[str, _Given], llm: str, toxicity: str) -> None:
    if llm not in LLM_PROVIDERS:
        raise CliError(f"{given['llm'].source} is {llm!r}; use one of {', '.join(LLM_PROVIDERS)}")
    if toxicity not in TOXICITY_PROVIDERS:
        raise CliError(
            f"{given['toxicity'].source} is {toxicity!r}; use one of {', '.join(TOXICITY_PROVIDERS)}"
        )
    for name in ("model", "sentiment_model"):
        value, source = given[name].value, given[name].source
        if value is not None and not _MODEL_NAME.match(value):
            raise CliError(f"{source} {value!r} is not a model name (letters, digits and . _ : / @ + -)")
    prompt = given["response_prompt"]
    if prompt.value is not None and not _PROMPT_VERSION.match(prompt.value):
        raise CliError(f"{prompt.source} {prompt.value!r} is not a prompt version (letters, digits, _ or -)")


def _refuse_model_options(given: Mapping[str, _Given]) -> None:
    """``--llm local`` calls no model: a model option beside it is a mistake worth naming."""
    for name in ("llm_base_url", "model", "sentiment_model", "response_prompt"):
        if given[name].value is not None:
            raise CliError(
                f"{given[name].source} is set but the LLM provider is local, which calls no model; "
                "pass --llm openai or --llm bedrock, or drop it"
            )


def _check_openai(given: Mapping[str, _Given]) -> None:
    base_url = given["llm_base_url"]
    if base_url.value is None:
        raise CliError("--llm openai needs --llm-base-url, e.g. http://127.0.0.1:11434/v1 for a local Ollama")
    check_base_url(base_url.value, base_url.source)
    if given["model"].value is None:
        raise CliError("--llm openai needs --model, a model the server lists at GET <base url>/models")


def check_base_url(url: str, source: str = "--llm-base-url") -> None:
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise CliError(f"{source} {url!r} is not an http:// or https:// URL, e.g. http://127.0.0.1:11434/v1")
    if parts.username or parts.password:
        raise CliError(
            f"{source} carries credentials; the URL goes into the template, so give no secret in it"
        )
    if parts.query or parts.fragment:
        raise CliError(f"{source} {url!r} has a query or fragment; give the API's base URL only")
