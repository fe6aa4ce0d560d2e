"""``reviewflow model-standin``: the scripted OpenAI-compatible stand-in as a server until Ctrl-C.

For trying ``--llm openai`` without a model server: run this in one terminal, then
``reviewflow run --llm openai --llm-base-url <url it prints> --model reviewflow-standin`` in
another. The answers are scripted (``model_standin``), never generated, and say so.
"""

from __future__ import annotations

import argparse
import errno
import shlex
import sys
from pathlib import Path
from typing import Any

from reviewflow_local.cli_checks import CliError, check_port_free, port_error
from reviewflow_local.model_standin import DEFAULT_MODEL, ModelStandIn, ScriptError, load_script

SUMMARY = "serve a scripted stand-in for an OpenAI-compatible model server (not a model) until Ctrl-C"
DESCRIPTION = (
    "Serve GET /v1/models and POST /v1/chat/completions on 127.0.0.1 with scripted answers: sentiment "
    "read from the star rating, short courteous replies, or what --script says. It is not a language "
    "model (every answer says so in system_fingerprint and a header); it lets you try --llm openai, the "
    "prompt files, the JSON repair loop and the publish gate without downloading a model."
)
DEFAULT_PORT = 8088


def add_parser(sub: Any, *, port: Any) -> argparse.ArgumentParser:
    """The ``model-standin`` subcommand; ``port`` is the CLI's port value type."""
    command: argparse.ArgumentParser = sub.add_parser("model-standin", help=SUMMARY, description=DESCRIPTION)
    command.add_argument(
        "--port",
        type=port,
        default=DEFAULT_PORT,
        help="port on 127.0.0.1; 0 picks a free one (default: %(default)s)",
    )
    command.add_argument(
        "--model",
        action="append",
        metavar="NAME",
        help=f"a model name to serve; repeat for more (default: {DEFAULT_MODEL})",
    )
    command.add_argument(
        "--script",
        type=Path,
        help="rules answering matching calls first, a JSON array or JSON lines, see "
        "reviewflow_local/model_standin.py (default: the built-in answers only)",
    )
    command.set_defaults(handler=serve_standin, command_parser=command)
    return command


def serve_standin(args: argparse.Namespace) -> int:
    from reviewflow_local.cli_serve import wait_for_stop_signal

    try:
        rules = load_script(args.script) if args.script else []
    except ScriptError as exc:
        raise CliError(f"--script: {exc}") from None
    check_port_free(args.port)
    models = args.model or [DEFAULT_MODEL]
    try:
        standin = ModelStandIn(models=models, rules=rules, port=args.port)
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            raise port_error(args.port, exc) from None
        raise
    standin.start()
    try:
        print(
            f"reviewflow: model stand-in at {standin.base_url} serving {', '.join(models)}\n"
            "  Scripted answers, not a language model (system_fingerprint reviewflow-model-standin).\n"
            "  Try it:\n"
            f"    reviewflow run --llm openai --llm-base-url {standin.base_url} "
            f"--model {shlex.quote(models[0])}\n"
            "  Ctrl-C stops it.",
            flush=True,
        )
        wait_for_stop_signal()
    finally:
        standin.stop()
    print(f"\nreviewflow: stand-in stopped after {len(standin.requests)} chat completion(s)", file=sys.stderr)
    return 0
