"""What ``reviewflow`` checks about the chosen models before it synthesizes or boots anything.

Each check fails with a one-line ``CliError`` (exit status 2), so a model server that is down, a
model it does not have, or a prompt version with no files is reported before the stack boots,
not as a ``provider_error`` on every review. What only shows once reviews flow (a slow answer, a
server that stops half-way) is the workflow's business: the adapter raises its retryable
``ProviderTimeoutError`` and the state machine's Retry and Catch take over.
"""

from __future__ import annotations

import json
import os
import socket
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

from reviewflow.contracts import EnvVar
from reviewflow.providers.openai_compatible import urllib_transport
from reviewflow_local.cli_checks import CliError
from reviewflow_local.model_choice import ModelChoice

#: How long the pre-boot check waits for ``GET /models``: a local server answers in milliseconds.
CHECK_TIMEOUT_SECONDS = 5.0
PROMPT_PARTS = ("system", "user")

#: (url, headers, timeout) -> (HTTP status, body); raises OSError / TimeoutError without an answer.
Fetch = Callable[[str, dict[str, str], float], tuple[int, bytes]]


def _urllib_fetch(url: str, headers: dict[str, str], timeout: float) -> tuple[int, bytes]:
    # The adapter's own transport, so the check reads the server exactly as the handlers will.
    request = urllib.request.Request(url, headers=headers, method="GET")  # noqa: S310 - scheme checked
    return urllib_transport(request, timeout)


def check_models(choice: ModelChoice, root: Path, *, fetch: Fetch | None = None) -> list[str]:
    """Every pre-boot check the choice needs; returns the models the server lists (openai only)."""
    check_prompt_files(choice, root)
    if choice.llm != "openai" or choice.base_url is None:
        return []
    wanted = [name for name in (choice.model, choice.sentiment_model) if name]
    return check_model_server(choice.base_url, wanted, fetch=fetch)


def check_prompt_files(choice: ModelChoice, root: Path) -> None:
    """The response prompt version names files that exist (the synth would refuse it less clearly)."""
    if choice.response_prompt is None:
        return
    folder = root / "functions" / "prompts" / "response"
    missing = [
        part for part in PROMPT_PARTS if not (folder / f"{choice.response_prompt}.{part}.txt").is_file()
    ]
    if missing:
        have = sorted({path.name.split(".")[0] for path in folder.glob("*.system.txt")})
        raise CliError(
            f"--response-prompt {choice.response_prompt}: prompts/response/{choice.response_prompt}."
            f"{missing[0]}.txt does not exist; the versions are {', '.join(have) or 'none'}"
        )


def check_model_server(base_url: str, models: list[str], *, fetch: Fetch | None = None) -> list[str]:
    """``GET <base_url>/models`` answers and lists every model in ``models``; returns what it lists."""
    url = f"{base_url.rstrip('/')}/models"
    headers = {"Accept": "application/json"}
    if api_key := os.environ.get(EnvVar.OPENAI_API_KEY):
        headers["Authorization"] = f"Bearer {api_key}"
    hint = "start it (e.g. 'ollama serve', or 'reviewflow model-standin') or fix --llm-base-url"
    try:
        status, body = (fetch or _urllib_fetch)(url, headers, CHECK_TIMEOUT_SECONDS)
    except TimeoutError:
        raise CliError(
            f"the model server at {base_url} did not answer GET /models within "
            f"{CHECK_TIMEOUT_SECONDS:g} s; {hint}"
        ) from None
    except OSError as exc:
        raise CliError(f"cannot reach the model server at {base_url} ({_reason(exc)}); {hint}") from None
    if status in (401, 403):
        raise CliError(
            f"the model server at {base_url} refused GET /models (HTTP {status}); "
            f"if it needs an API key, set ${EnvVar.OPENAI_API_KEY}"
        )
    if status == 404:
        raise CliError(
            f"{url} does not exist (HTTP 404); --llm-base-url is the part of the URL before "
            "/chat/completions, e.g. http://127.0.0.1:11434/v1"
        )
    if status != 200:
        raise CliError(f"the model server at {base_url} answered GET /models with HTTP {status}; {hint}")
    listed = _listed_models(body, base_url)
    for model in models:
        if not _served(model, listed):
            shown = ", ".join(listed[:10]) + (" ..." if len(listed) > 10 else "") if listed else "none"
            raise CliError(
                f"the model server at {base_url} has no model {model!r} (it lists: {shown}); "
                f"pull it (e.g. 'ollama pull {model}') or pass --model with one it lists"
            )
    return listed


def _listed_models(body: bytes, base_url: str) -> list[str]:
    try:
        document: Any = json.loads(body)
        return [str(item["id"]) for item in document["data"]]
    except (ValueError, KeyError, TypeError):
        raise CliError(
            f"the server at {base_url} answered GET /models with something other than an "
            "OpenAI-compatible model list; is --llm-base-url the API's base URL?"
        ) from None


def _served(model: str, listed: list[str]) -> bool:
    # Ollama lists "name:latest" and answers to "name" alike.
    return model in listed or (":" not in model and f"{model}:latest" in listed)


def _reason(exc: OSError) -> str:
    reason = getattr(exc, "reason", None)  # URLError wraps the socket error
    inner = reason if isinstance(reason, OSError) else exc
    if isinstance(inner, ConnectionRefusedError):
        return "connection refused"
    if isinstance(inner, socket.gaierror):
        return "unknown host"
    if isinstance(inner, TimeoutError):
        return f"no answer within {CHECK_TIMEOUT_SECONDS:g} s"
    return getattr(inner, "strerror", None) or type(inner).__name__
