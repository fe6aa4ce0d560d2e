"""Candidates run the review steps with their own model and prompt version: the template
responder's two versions, the registry's per-candidate getters and their override by candidate."""

from __future__ import annotations

from typing import Any

import pytest

from reviewflow.errors import ConfigurationError
from reviewflow.models.evaluation import Candidate
from reviewflow.models.events import ReviewPosted
from reviewflow.models.steps import GeneratedResponse, SentimentResult
from reviewflow.providers import registry
from reviewflow.providers.template_responder import PHRASINGS, TemplateResponder, responder_for, tone

TEMPLATE = "local/template-responder"


def candidate(name: str = "t", model_id: str = TEMPLATE, version: str = "v2", **extra: Any) -> Candidate:
    return Candidate(name=name, model_id=model_id, prompt_version=version, **extra)


def review(rating: int | None, review_id: str = "r-1") -> ReviewPosted:
    return ReviewPosted(review_id=review_id, product_id="p", review_text="Oh great, it broke.", rating=rating)


def sentiment(label: str) -> SentimentResult:
    return SentimentResult(sentiment=label, reason="r", model_id="m", prompt_version="none")  # type: ignore[arg-type]


def test_v1_answers_from_the_label_alone_and_v2_reads_the_stars() -> None:
    assert tone("POSITIVE", 1, "v1") == "POSITIVE"
    assert tone("MIXED", 5, "v1") == "MIXED"
    assert tone("POSITIVE", 1, "v2") == tone("POSITIVE", 1) == "LOW_RATING"
    for review_id in (f"r-{n}" for n in range(12)):
        v1 = TemplateResponder("v1").write(review(1, review_id), sentiment("POSITIVE"))
        v2 = TemplateResponder("v2").write(review(1, review_id), sentiment("POSITIVE"))
        assert v1.response_text.removeprefix("Hello, ") in {
            p.replace("$greeting ", "").replace("$product", "this product") for p in PHRASINGS["POSITIVE"]
        }
        assert "sorry" in v2.response_text and "glad" not in v2.response_text
        assert (v1.prompt_version, v2.prompt_version) == ("template/v1", "template/v2")


def test_the_default_version_is_v2() -> None:
    reply = TemplateResponder().write(review(1), sentiment("POSITIVE"))
    assert reply.prompt_version == "template/v2" and "sorry" in reply.response_text


def test_an_unknown_template_version_is_refused() -> None:
    with pytest.raises(ValueError, match="v3"):
        TemplateResponder("v3")
    with pytest.raises(ConfigurationError, match="v1, v2"):
        responder_for(candidate(version="v3"))


def test_offline_a_candidate_naming_another_model_is_refused_not_answered_from_templates(
    runtime_env: pytest.MonkeyPatch,
) -> None:
    runtime_env.setenv("REVIEWFLOW_LLM_PROVIDER", "local")
    with pytest.raises(ConfigurationError, match="only reply model"):
        registry.response_writer_for(candidate(model_id="amazon.nova-lite-v1:0", version="v1"))
    with pytest.raises(ConfigurationError, match="only sentiment model"):
        registry.sentiment_provider_for(candidate(sentiment_model_id="amazon.nova-micro-v1:0"))


def test_offline_each_candidate_gets_the_template_at_its_version_once(
    runtime_env: pytest.MonkeyPatch,
) -> None:
    runtime_env.setenv("REVIEWFLOW_LLM_PROVIDER", "local")
    v1, v2 = candidate("a", version="v1"), candidate("b", version="v2")
    writer = registry.response_writer_for(v1)
    assert isinstance(writer, TemplateResponder) and writer.prompt_version == "template/v1"
    assert registry.response_writer_for(v1) is writer
    assert registry.response_writer_for(v2).prompt_version == "template/v2"  # type: ignore[attr-defined]
    assert registry.sentiment_provider_for(v1).name == "local"


def test_on_bedrock_a_candidate_gets_its_model_and_prompt_versions(runtime_env: pytest.MonkeyPatch) -> None:
    runtime_env.setenv("REVIEWFLOW_LLM_PROVIDER", "bedrock")
    runtime_env.setenv("REVIEWFLOW_MODEL_ID", "us.amazon.nova-lite-v1:0")
    runtime_env.setenv("AWS_DEFAULT_REGION", "us-east-1")
    chosen = candidate("nova", model_id="amazon.nova-pro-v1:0", version="v1", sentiment_prompt_version="v1")
    writer: Any = registry.response_writer_for(chosen)
    assert (writer._chat_model.model_id, writer._prompt_version) == ("amazon.nova-pro-v1:0", "v1")
    sentiment_provider: Any = registry.sentiment_provider_for(chosen)
    # No sentiment model of its own: the deployment's.
    assert sentiment_provider._chat_model.model_id == "us.amazon.nova-lite-v1:0"
    # The template responder stays selectable as a baseline next to real models.
    assert isinstance(registry.response_writer_for(candidate("base", version="v1")), TemplateResponder)


class Failing:
    name = "failing"

    def write(self, review: ReviewPosted, sentiment: SentimentResult) -> GeneratedResponse:
        raise AssertionError("not called here")


def test_an_override_replaces_only_the_candidates_it_names(runtime_env: pytest.MonkeyPatch) -> None:
    runtime_env.setenv("REVIEWFLOW_LLM_PROVIDER", "local")
    built: list[str] = []

    def factory(chosen: Candidate) -> Failing:
        built.append(chosen.name)
        return Failing()

    with registry.override(response_writer_for={"flaky": factory}):
        assert isinstance(registry.response_writer_for(candidate("flaky")), Failing)
        assert isinstance(registry.response_writer_for(candidate("steady")), TemplateResponder)
        # What the settings select is still reachable underneath, for a wrapping factory.
        assert isinstance(registry.configured("response_writer_for", candidate("flaky")), TemplateResponder)
    assert built == ["flaky"]
    assert isinstance(registry.response_writer_for(candidate("flaky")), TemplateResponder)


def test_an_override_of_a_candidate_getter_must_map_names_to_factories() -> None:
    with pytest.raises(TypeError, match="candidate names"), registry.override(response_writer_for=Failing()):
        pass
    with pytest.raises(TypeError):
        registry.set_override("sentiment_provider_for", Failing())
