"""``reviewflow run --llm openai`` against a real HTTP model server: the scripted stand-in on 127.0.0.1.

The stand-in runs in this process (so the test reads exactly what it received); ``reviewflow run``
runs as a child process, as a user runs it. The script makes one sentiment answer malformed (the
repair loop must fix it), one reply break the reply policy (a person must see it) and one reply
hang (the adapter's timeout, then the workflow's Retry and Catch, must end the review).
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from reviewflow.contracts import EnvVar, LocalEnvVar, OutcomeType
from reviewflow.domain.prompts import load_prompt, review_fields
from reviewflow.models.events import ReviewPosted
from reviewflow_local.model_standin import DEFAULT_MODEL, FINGERPRINT, ModelStandIn, parse_script

#: The response prompt cdk.json deploys (what a run without --response-prompt uses).
CDK_CONTEXT = json.loads((Path(__file__).resolve().parents[2] / "cdk.json").read_text())["context"]
DEPLOYED_PROMPT = CDK_CONTEXT["reviewflow"]["response_prompt_version"]


REPO = Path(__file__).resolve().parents[2]
REPAIRED = "rev-1001"  # its first sentiment answer is prose, not JSON
PROMISING = "rev-1002"  # its reply promises a replacement and a voucher
HANGING = "rev-1003"  # its reply never comes
SCRIPT = [
    {"step": "sentiment", "contains": "handle stays cool", "reply": "Clearly a POSITIVE review!", "times": 1},
    {
        "step": "reply",
        "contains": "Battery lasts a whole week",
        "reply": "Thank you! We will send you a free replacement and a 20% discount voucher.",
    },
    {"step": "reply", "contains": "rolls up neatly", "hang": True},
]
#: The adapter's timeout in this test, so a held request ends in well under a second per attempt.
ADAPTER_TIMEOUT = "0.5"


@pytest.fixture
def standin() -> Iterator[ModelStandIn]:
    server = ModelStandIn(rules=parse_script(json.dumps(SCRIPT))).start()
    yield server
    server.stop()


def _reviewflow(
    *argv: str, env: dict[str, str] | None = None, timeout: float = 400
) -> subprocess.CompletedProcess[str]:
    environ = {
        **{k: v for k, v in os.environ.items() if not k.startswith("REVIEWFLOW_")},
        "PYTHONPATH": os.pathsep.join([str(REPO / "local"), str(REPO / "functions")]),
        **(env or {}),
    }
    return subprocess.run(
        [sys.executable, "-m", "reviewflow_local.cli", *argv],
        cwd=REPO,
        env=environ,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def _reviews(path: Path) -> dict[str, ReviewPosted]:
    valid: dict[str, ReviewPosted] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            try:
                review = ReviewPosted.model_validate(json.loads(line))
            except ValidationError:
                continue  # ends as invalid_review before any model call
            valid[review.review_id] = review
    return valid


def _retries_on_timeout(state: str) -> int:
    """MaxAttempts of ``state``'s Retry on ProviderTimeoutError, read from the ASL."""
    definition = json.loads((REPO / "statemachines" / "review_response.asl.json").read_text())

    def find(states: dict[str, Any]) -> dict[str, Any] | None:
        for name, body in states.items():
            if name == state:
                return body
            for branch in body.get("Branches", []):
                if found := find(branch["States"]):
                    return found
        return None

    body = find(definition["States"])
    assert body is not None
    return next(r["MaxAttempts"] for r in body["Retry"] if "ProviderTimeoutError" in r["ErrorEquals"])


def test_run_through_a_model_server_renders_the_prompts_repairs_json_and_gates_replies(
    standin: ModelStandIn, project_root: Path, tmp_path: Path
) -> None:
    samples = project_root / "samples" / "reviews.jsonl"
    out = tmp_path / "outcomes.jsonl"
    result = _reviewflow(
        "run", str(samples), "--decide", "reject", "--out", str(out), "--workdir", str(tmp_path / "work"),
        "--timeout", "240", "--llm", "openai", "--llm-base-url", standin.base_url, "--model", DEFAULT_MODEL,
        env={EnvVar.OPENAI_TIMEOUT_SECONDS: ADAPTER_TIMEOUT},
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    assert (
        f"models: sentiment and replies: OpenAI-compatible server at {standin.base_url}, "
        f"model {DEFAULT_MODEL}; toxicity: offline classifier"
    ) in result.stderr
    assert f"Answered by: toxicity local x20; sentiment {DEFAULT_MODEL} (sentiment/v1)" in result.stdout
    assert f"replies {DEFAULT_MODEL} (response/{DEPLOYED_PROMPT})" in result.stdout

    reviews = _reviews(samples)
    outcomes = {e["detail"]["review_id"]: e for e in map(json.loads, out.read_text().splitlines())}
    assert len(outcomes) == 22

    # Every call carried the rendered prompt files, for a review that was posted.
    sentiment_calls, reply_calls = standin.calls("sentiment"), standin.calls("reply")
    expected_sentiment = {
        load_prompt("sentiment", "v1").render(**review_fields(review)).user: rid
        for rid, review in reviews.items()
    }
    for call in sentiment_calls:
        rendered = load_prompt("sentiment", "v1").render(
            **review_fields(reviews[expected_sentiment[call.prompt]])
        )
        assert call.system == rendered.system and call.model == DEFAULT_MODEL
    with_sentiment = {rid for rid, e in outcomes.items() if e["detail"].get("sentiment")}
    # Sentiment runs speculatively beside the review's toxicity scoring: every outcome with a
    # sentiment had its call, and a review that was not cleared paid one whose result was discarded.
    called = {expected_sentiment[c.prompt] for c in sentiment_calls}
    assert with_sentiment <= called
    discarded = called - with_sentiment
    assert discarded, "no review was stopped before its reply"
    assert all(outcomes[rid]["detail-type"] != OutcomeType.RESPONSE_CREATED for rid in discarded)
    expected_reply = {
        load_prompt("response", DEPLOYED_PROMPT)
        .render(**review_fields(reviews[rid]), sentiment=outcomes[rid]["detail"]["sentiment"]["sentiment"])
        .user: rid
        for rid in with_sentiment
    }
    system = (
        load_prompt("response", DEPLOYED_PROMPT)
        .render(**review_fields(reviews[REPAIRED]), sentiment="POSITIVE")
        .system
    )
    assert {call.system for call in reply_calls} == {system}
    assert {expected_reply[call.prompt] for call in reply_calls} == with_sentiment

    # Every outcome that got that far names the model and the prompt versions.
    for rid in with_sentiment:
        detail = outcomes[rid]["detail"]
        assert (detail["sentiment"]["model_id"], detail["sentiment"]["prompt_version"]) == (
            DEFAULT_MODEL,
            "sentiment/v1",
        )
        if rid != HANGING:
            assert (detail["model_id"], detail["prompt_version"]) == (
                DEFAULT_MODEL,
                f"response/{DEPLOYED_PROMPT}",
            ), rid

    # The malformed answer was sent back with a correction, and the second answer used.
    repaired = [c for c in sentiment_calls if expected_sentiment[c.prompt] == REPAIRED]
    assert len(repaired) == 2
    assert repaired[1].messages[-2] == {"role": "assistant", "content": "Clearly a POSITIVE review!"}
    assert repaired[1].messages[-1]["content"].startswith("Your previous answer could not be used")
    assert outcomes[REPAIRED]["detail-type"] == OutcomeType.RESPONSE_CREATED
    assert outcomes[REPAIRED]["detail"]["sentiment"]["sentiment"] == "POSITIVE"

    # The reply that broke the policy went to a person (who rejected it, as --decide said).
    promising = outcomes[PROMISING]
    assert promising["detail-type"] == OutcomeType.GENERATION_FAILED
    assert promising["detail"]["reason"] == "response_rejected"
    assert "promise_of_money_or_goods" in promising["detail"]["reply_check"]["violations"]
    assert [(d["stage"], d["decision"]) for d in promising["detail"]["human_decisions"]] == [
        ("RESPONSE", "REJECTED")
    ]

    # The reply that never came: the adapter timed out, the workflow retried, then caught it.
    hanging = outcomes[HANGING]["detail"]
    assert (hanging["reason"], hanging["error_type"], hanging["failed_step"]) == (
        "provider_error",
        "ProviderTimeoutError",
        "GenerateResponse",
    )
    held = [c for c in reply_calls if expected_reply[c.prompt] == HANGING]
    assert len(held) == 1 + _retries_on_timeout("GenerateResponse")


def test_the_v2_response_prompt_is_chosen_by_the_environment_and_named_in_the_outcomes(
    standin: ModelStandIn, project_root: Path, tmp_path: Path
) -> None:
    reviews = tmp_path / "reviews.jsonl"
    lines = (project_root / "samples" / "reviews.jsonl").read_text().splitlines()
    reviews.write_text("\n".join([lines[0], lines[3]]) + "\n")  # a 5-star and a 1-star review
    out = tmp_path / "outcomes.jsonl"
    result = _reviewflow(
        "run", str(reviews), "--decide", "approve", "--out", str(out), "--workdir", str(tmp_path / "work"),
        env={
            LocalEnvVar.LLM: "openai",
            LocalEnvVar.LLM_BASE_URL: standin.base_url,
            LocalEnvVar.MODEL: DEFAULT_MODEL,
            LocalEnvVar.RESPONSE_PROMPT: "v2",
        },
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    assert "response prompt v2" in result.stderr
    assert f"replies {DEFAULT_MODEL} (response/v2) x2" in result.stdout
    details = [json.loads(line)["detail"] for line in out.read_text().splitlines()]
    assert {(d["model_id"], d["prompt_version"]) for d in details} == {(DEFAULT_MODEL, "response/v2")}
    v2 = load_prompt("response", "v2").system.template
    assert {call.system for call in standin.calls("reply")} == {v2}


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.mark.parametrize("problem", ["unreachable", "unknown model"])
def test_a_model_server_problem_is_one_line_and_exit_2_before_the_stack_boots(
    problem: str, standin: ModelStandIn, tmp_path: Path
) -> None:
    if problem == "unreachable":
        url, model = f"http://127.0.0.1:{_free_port()}/v1", DEFAULT_MODEL
        message = f"reviewflow: cannot reach the model server at {url} (connection refused); start it"
    else:
        url, model = standin.base_url, "llama3.2"
        message = f"reviewflow: the model server at {url} has no model 'llama3.2' (it lists: {DEFAULT_MODEL})"
    work = tmp_path / "work"
    result = _reviewflow(
        "run", "--workdir", str(work), "--llm", "openai", "--llm-base-url", url, "--model", model, timeout=120
    )
    assert result.returncode == 2
    assert result.stderr.startswith(message)
    assert result.stderr.count("\n") == 1
    assert "synthesizing" not in result.stderr + result.stdout
    assert not any((work / "runs").iterdir())
    assert standin.calls() == []  # nothing reached chat completions


def test_model_standin_command_serves_until_sigterm(tmp_path: Path) -> None:
    environ = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO / "local"), str(REPO / "functions")])}
    process = subprocess.Popen(
        [sys.executable, "-m", "reviewflow_local.cli", "model-standin", "--port", "0", "--model", "tiny"],
        cwd=REPO,
        env=environ,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        first = process.stdout.readline()
        assert first.startswith("reviewflow: model stand-in at http://127.0.0.1:")
        url = first.split(" at ", 1)[1].split(" serving", 1)[0]
        with urllib.request.urlopen(f"{url}/models", timeout=10) as answer:
            listed = json.loads(answer.read())
        assert listed["data"][0]["id"] == "tiny" and listed["data"][0]["owned_by"] == FINGERPRINT
        assert "not a language model" in process.stdout.readline()
    finally:
        process.send_signal(signal.SIGTERM)
        _, err = process.communicate(timeout=30)
    assert process.returncode == 0
    assert "stand-in stopped after 0 chat completion(s)" in err
