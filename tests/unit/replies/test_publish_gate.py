"""The publish gate: the draft check, the check of the text about to be published, and the page's
pre-check of an approved edit. A fake provider scores texts from a table, so each case says
exactly which score the gate saw."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest

from reviewflow.domain.publish_gate import band_of, check_draft, check_for_publish
from reviewflow.domain.reply_policy import load_policy
from reviewflow.models.events import ToxicityScore
from reviewflow.models.replies import Bands
from reviewflow.models.steps import ReplyCheckRequest

POLICY = load_policy("v1")
BANDS = Bands(low=0.4, high=0.6)
DRAFT = "Thank you for your review. Our support team is happy to help with the lid."
CLEAN_EDIT = "Thanks for the review! Our support team will gladly look at the lid with you."
TOXIC_EDIT = "You are a pathetic idiot and your review is worthless garbage."


@dataclass
class TableToxicity:
    name: str = "table"
    scores: dict[str, float | None] = field(default_factory=dict)
    seen: list[str] = field(default_factory=list)

    def score(self, text: str, language: str) -> ToxicityScore:
        self.seen.append(text)
        value = self.scores.get(text, 0.05)
        if value is None:
            return ToxicityScore(score=None, scorable=False, provider=self.name, note="unsupported")
        return ToxicityScore(score=value, labels={"INSULT": value}, provider=self.name)


def tox(score: float) -> dict[str, Any]:
    return {"score": score, "labels": {"INSULT": score}, "scorable": True, "provider": "table"}


def request(
    mode: str = "draft", *, text: str = DRAFT, review_score: float = 0.1, **extra: Any
) -> ReplyCheckRequest:
    return ReplyCheckRequest.model_validate(
        {
            "mode": mode,
            "review": {"review_id": "r-1", "product_id": "p-1", "review_text": "The lid is loose. Meh."},
            "review_toxicity": tox(review_score),
            "response": {"response_text": text, "model_id": "m", "prompt_version": "response/v1"},
            "bands": BANDS.model_dump(),
            **extra,
        }
    )


def approved(edited: str | None = None, reason: str | None = None) -> dict[str, Any]:
    return {
        "approval_id": "ap-1",
        "stage": "RESPONSE",
        "decision": "APPROVED",
        "decided_at": "2026-12-02T10:00:00Z",
        "response_edited": edited is not None,
        "edited_response_text": edited,
        "policy_override_reason": reason,
    }


def draft_checked(provider: TableToxicity, text: str = DRAFT) -> dict[str, Any]:
    return check_draft(request(text=text), provider=provider, policy=POLICY).model_dump(mode="json")


@pytest.mark.parametrize(
    ("score", "band"),
    [
        (0.0, "safe"),
        (0.39, "safe"),
        (0.4, "uncertain"),
        (0.6, "uncertain"),
        (0.61, "harmful"),
        (None, "unscorable"),
    ],
)
def test_bands_are_inclusive_at_both_ends(score: float | None, band: str) -> None:
    value = ToxicityScore(score=score, scorable=score is not None, provider="t")
    assert band_of(value, BANDS) == band


@pytest.mark.parametrize(
    ("score", "text", "verdict"),
    [
        (0.05, DRAFT, "publish"),
        (0.5, DRAFT, "ask_person"),
        (None, DRAFT, "ask_person"),
        (0.9, DRAFT, "refuse"),
        (0.05, "We will refund you the full price, sorry for the trouble!", "ask_person"),
        (0.05, "\u200b", "ask_person"),
    ],
    ids=["clean", "uncertain", "unscorable", "harmful", "promise", "zero-width-only"],
)
def test_the_draft_check(score: float | None, text: str, verdict: str) -> None:
    provider = TableToxicity(scores={text: score})
    result = check_draft(request(text=text), provider=provider, policy=POLICY)
    assert result.verdict == verdict
    assert result.text == text and provider.seen == [text]
    if verdict == "refuse":
        assert result.reason == "response_toxic"


def test_an_unchanged_clean_draft_passes_the_gate_without_a_second_provider_call() -> None:
    provider = TableToxicity()
    gate = request("publish", draft_check=draft_checked(provider))
    result = check_for_publish(gate, provider=provider, policy=POLICY)
    assert result.verdict == "publish" and result.text == DRAFT and not result.rescored
    assert provider.seen == [DRAFT]  # the draft check's call only


def test_an_edited_reply_is_scored_anew_and_published_with_its_own_score() -> None:
    provider = TableToxicity(scores={DRAFT: 0.5, CLEAN_EDIT: 0.02})
    gate = request("publish", draft_check=draft_checked(provider), decision=approved(CLEAN_EDIT))
    result = check_for_publish(gate, provider=provider, policy=POLICY)
    assert result.verdict == "publish" and result.text == CLEAN_EDIT and result.rescored
    assert result.toxicity.score == 0.02
    assert provider.seen == [DRAFT, CLEAN_EDIT]


def test_a_toxic_edit_is_never_published_whoever_approved_it() -> None:
    provider = TableToxicity(scores={DRAFT: 0.5, TOXIC_EDIT: 1.0})
    gate = request(
        "publish", draft_check=draft_checked(provider), decision=approved(TOXIC_EDIT, reason="trust me")
    )
    result = check_for_publish(gate, provider=provider, policy=POLICY)
    assert result.verdict == "refuse" and result.reason == "response_toxic"


def test_an_uncertain_edit_may_be_published_by_a_person_and_says_so() -> None:
    provider = TableToxicity(scores={DRAFT: 0.5, CLEAN_EDIT: 0.45})
    gate = request("publish", draft_check=draft_checked(provider), decision=approved(CLEAN_EDIT))
    result = check_for_publish(gate, provider=provider, policy=POLICY)
    assert result.verdict == "publish" and result.overridden == ["toxicity_uncertain"]


def test_a_rule_needs_a_persons_written_reason_to_be_published_over() -> None:
    promise = "We are sorry about the lid; a replacement is already on its way to you."
    provider = TableToxicity()
    without = request("publish", draft_check=draft_checked(provider), decision=approved(promise))
    refused = check_for_publish(without, provider=provider, policy=POLICY)
    assert refused.verdict == "refuse" and refused.reason == "response_policy_violation"
    reason = "The customer support lead already agreed to the replacement by phone."
    with_reason = request("publish", draft_check=draft_checked(provider), decision=approved(promise, reason))
    published = check_for_publish(with_reason, provider=provider, policy=POLICY)
    assert published.verdict == "publish" and published.overridden == ["promise_of_money_or_goods"]


@pytest.mark.parametrize(
    "edit", ["\u200b", "Thank you for the review \u202eof the kettle, our team is here."]
)
def test_no_reason_publishes_over_a_rule_no_one_may_override(edit: str) -> None:
    provider = TableToxicity()
    gate = request("publish", draft_check=draft_checked(provider), decision=approved(edit, reason="because"))
    result = check_for_publish(gate, provider=provider, policy=POLICY)
    assert result.verdict == "refuse" and result.reason == "response_policy_violation"


def test_a_draft_that_needed_a_person_is_refused_without_one() -> None:
    provider = TableToxicity(scores={DRAFT: 0.5})
    gate = request("publish", draft_check=draft_checked(provider))  # no decision: a forged path
    result = check_for_publish(gate, provider=provider, policy=POLICY)
    assert result.verdict == "refuse" and result.reason == "response_unreviewed"


def test_a_rejection_or_a_review_stage_approval_does_not_publish_its_edit() -> None:
    provider = TableToxicity(scores={DRAFT: 0.5})
    for decision in (
        approved(TOXIC_EDIT) | {"decision": "REJECTED"},
        approved(TOXIC_EDIT) | {"stage": "REVIEW"},
    ):
        gate = request("publish", draft_check=draft_checked(provider), decision=decision)
        result = check_for_publish(gate, provider=provider, policy=POLICY)
        assert result.text == DRAFT and result.verdict == "refuse"  # the draft needed a person


def test_publish_mode_needs_the_draft_check() -> None:
    with pytest.raises(ValueError, match="draft check"):
        request("publish")
