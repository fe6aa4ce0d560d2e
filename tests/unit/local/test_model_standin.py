"""The model stand-in's answers, script and honesty, through Werkzeug's test client (no socket used).

The real-HTTP path (the adapter calling it over 127.0.0.1 from a whole ``reviewflow run``) is in
tests/workflow/test_cli_models.py.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from werkzeug.test import Client

from reviewflow.domain.prompts import load_prompt, review_fields
from reviewflow.domain.sentiment import parse_answer
from reviewflow.models.events import ReviewPosted
from reviewflow_local.model_standin import (
    DEFAULT_MODEL,
    FINGERPRINT,
    STAND_IN_HEADER,
    ModelStandIn,
    ScriptError,
    builtin_answer,
    classify,
    parse_script,
)

REVIEW = ReviewPosted(
    review_id="r-1",
    product_id="p-1",
    product_name="Aurora Kettle",
    reviewer_name="Maria",
    rating=1,
    review_text="The lid cracked after a week.",
)


@pytest.fixture
def standin() -> Iterator[ModelStandIn]:
    server = ModelStandIn(rules=parse_script('[{"step": "reply", "contains": "lid", "reply": "Scripted."}]'))
    yield server
    server.stop()


def _chat(standin: ModelStandIn, system: str, user: str, model: str = DEFAULT_MODEL) -> Any:
    body = {
        "model": model,
        "messages": [{"role": "system", "content": system}, {"role": "user", "content": user}],
    }
    return Client(standin._app).post("/v1/chat/completions", json=body)


def test_every_answer_says_it_comes_from_a_stand_in(standin: ModelStandIn) -> None:
    prompt = load_prompt("sentiment", "v1").render(**review_fields(REVIEW))
    answer = _chat(standin, prompt.system, prompt.user)
    assert answer.status_code == 200
    assert answer.headers[STAND_IN_HEADER].startswith("scripted answers")
    document = answer.get_json()
    assert document["system_fingerprint"] == FINGERPRINT
    assert document["model"] == DEFAULT_MODEL
    listed = Client(standin._app).get("/v1/models").get_json()
    assert listed["data"] == [{"id": DEFAULT_MODEL, "object": "model", "created": 0, "owned_by": FINGERPRINT}]


def test_the_builtin_sentiment_is_valid_json_read_from_the_stars() -> None:
    for rating, label in ((1, "NEGATIVE"), (3, "MIXED"), (5, "POSITIVE"), (None, "NEUTRAL")):
        review = REVIEW.model_copy(update={"rating": rating})
        user = load_prompt("sentiment", "v1").render(**review_fields(review)).user
        answer = parse_answer(builtin_answer("sentiment", user))
        assert answer.sentiment == label
        assert answer.reason.startswith("Stand-in answer:")


@pytest.mark.parametrize("version", ["v1", "v2"])
def test_the_builtin_reply_uses_the_prompt_fields_and_apologises_for_low_stars(version: str) -> None:
    user = load_prompt("response", version).render(**review_fields(REVIEW), sentiment="POSITIVE").user
    reply = builtin_answer("reply", user)
    assert reply.startswith("Hi Maria, we are sorry to hear that Aurora Kettle")
    happy = REVIEW.model_copy(update={"rating": 5, "reviewer_name": None, "product_name": None})
    user = load_prompt("response", version).render(**review_fields(happy), sentiment="POSITIVE").user
    assert builtin_answer("reply", user).startswith("Hello, thank you for your kind review of the product.")


def test_calls_are_classified_by_their_system_prompt() -> None:
    fields = review_fields(REVIEW)
    assert classify(load_prompt("sentiment", "v1").render(**fields).system) == "sentiment"
    for version in ("v1", "v2"):
        assert (
            classify(load_prompt("response", version).render(**fields, sentiment="NEGATIVE").system)
            == "reply"
        )
    assert classify(load_prompt("judge", "v1").system.template) == "judge"
    assert classify(load_prompt("insights", "v1").render(**fields).system) == "insights"


def test_the_builtin_insights_answer_names_no_aspect_and_parses() -> None:
    from reviewflow.domain.insights import parse_insights

    user = load_prompt("insights", "v1").render(**review_fields(REVIEW)).user
    assert json.loads(builtin_answer("insights", user)) == {"insights": []}
    assert parse_insights(builtin_answer("insights", user), REVIEW.review_text).insights == []


def test_a_rule_answers_first_and_every_request_is_recorded(standin: ModelStandIn) -> None:
    prompt = load_prompt("response", "v1").render(**review_fields(REVIEW), sentiment="NEGATIVE")
    answer = _chat(standin, prompt.system, prompt.user)
    assert answer.get_json()["choices"][0]["message"]["content"] == "Scripted."
    [recorded] = standin.calls("reply")
    assert recorded.system == prompt.system and recorded.prompt == prompt.user
    assert recorded.authorization is False


def test_times_limits_a_rule_and_status_answers_an_http_error() -> None:
    rules = parse_script(
        '{"step": "sentiment", "reply": "not json", "times": 1}\n{"step": "reply", "status": 503}\n'
    )
    server = ModelStandIn(rules=rules)
    try:
        prompt = load_prompt("sentiment", "v1").render(**review_fields(REVIEW))
        first = _chat(server, prompt.system, prompt.user).get_json()["choices"][0]["message"]["content"]
        second = _chat(server, prompt.system, prompt.user).get_json()["choices"][0]["message"]["content"]
        assert first == "not json"
        assert json.loads(second)["sentiment"] == "NEGATIVE"
        assert _chat(server, "You write short public replies", "x").status_code == 503
    finally:
        server.stop()


def test_an_unknown_model_is_a_404_and_a_judge_call_is_never_graded(standin: ModelStandIn) -> None:
    assert _chat(standin, "s", "u", model="gpt-4").status_code == 404
    judge = _chat(standin, load_prompt("judge", "v1").system.template, "grade this")
    assert judge.status_code == 501
    assert "does not grade" in judge.get_json()["error"]["message"]


@pytest.mark.parametrize(
    ("script", "message"),
    [
        ("[1]", "rule 1: a rule is a JSON object"),
        ('[{"step": "reply", "answer": "x"}]', "unknown key(s) answer"),
        ('[{"step": "vision", "reply": "x"}]', "step 'vision' is not one of"),
        ('[{"reply": "x", "times": 0}]', "times must be a whole number of at least 1"),
        ('[{"reply": "x", "status": 99}]', "status must be an HTTP status"),
        ('[{"step": "reply"}]', "needs a reply (or hang)"),
        ("[{", "not JSON"),
    ],
)
def test_a_bad_script_is_refused_naming_the_rule(script: str, message: str) -> None:
    with pytest.raises(ScriptError, match=message.replace("(", r"\(").replace(")", r"\)")):
        parse_script(script)
