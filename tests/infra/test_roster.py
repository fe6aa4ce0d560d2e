"""The reviewer roster: validation at synth, and one filtered email subscription per reviewer."""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk.assertions import Template

from reviewflow.models.team import REVIEWER_ID_PATTERN, Reviewer
from stacks.config import REVIEWER_ID_PATTERN as STACKS_PATTERN
from stacks.config import ReviewflowConfig, RosterReviewer
from stacks.constructs.notifications import Notifications

BEDROCK = {"model_id": "us.amazon.nova-lite-v1:0"}
ANA = {"id": "ana", "email": "ana@example.com"}
BO = {"id": "bo-2", "email": "bo@example.com"}


def test_roster_entry_matches_the_runtime_reviewer() -> None:
    # The CDK app cannot import the runtime's model; the two must agree on what an id is.
    assert STACKS_PATTERN == REVIEWER_ID_PATTERN
    assert set(RosterReviewer.model_fields) == set(Reviewer.model_fields)
    assert Reviewer(**RosterReviewer(**ANA).model_dump()).id == "ana"


def test_roster_defaults_to_anonymous_and_two_draft_rounds() -> None:
    config = ReviewflowConfig(**BEDROCK)
    assert config.reviewers == []
    assert config.max_draft_rounds == 2


def test_roster_from_json_text_override() -> None:
    config = ReviewflowConfig(reviewers='[{"id": "ana", "email": "ana@example.com"}]', **BEDROCK)  # type: ignore[arg-type]
    assert config.reviewers == [RosterReviewer(id="ana", email="ana@example.com")]


@pytest.mark.parametrize(
    ("roster", "message"),
    [
        ([ANA, {"id": "ana", "email": "other@example.com"}], "reviewer id 'ana' appears more than once"),
        ([ANA, {"id": "cy", "email": "ANA@example.com"}], "appears more than once"),
        ([{"id": "ana", "email": "not-an-email"}], "is not an email address"),
        ([{"id": "Ana!", "email": "ana@example.com"}], "String should match pattern"),
    ],
)
def test_invalid_roster_is_refused(roster: list[dict[str, Any]], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        ReviewflowConfig(reviewers=roster, **BEDROCK)  # type: ignore[arg-type]


@pytest.mark.parametrize("rounds", [-1, 6])
def test_draft_rounds_out_of_range_are_refused(rounds: int) -> None:
    with pytest.raises(ValueError, match="max_draft_rounds"):
        ReviewflowConfig(max_draft_rounds=rounds, **BEDROCK)


def _subscriptions(**kwargs: Any) -> list[dict[str, Any]]:
    stack = cdk.Stack(cdk.App(), "Roster")
    Notifications(stack, "Notifications", alarm_email=None, **kwargs)
    found = Template.from_stack(stack).find_resources("AWS::SNS::Subscription")
    return sorted((r["Properties"] for r in found.values()), key=lambda p: p["Endpoint"])


def test_each_reviewer_gets_a_subscription_filtered_on_their_id() -> None:
    subs = _subscriptions(
        reviewer_email="team@example.com", reviewers=[RosterReviewer(**ANA), RosterReviewer(**BO)]
    )
    # The roster replaces the anonymous mailbox: no unfiltered subscription remains.
    assert [(s["Endpoint"], s["Protocol"], s["FilterPolicy"]) for s in subs] == [
        ("ana@example.com", "email", {"reviewer": ["ana"]}),
        ("bo@example.com", "email", {"reviewer": ["bo-2"]}),
    ]


def test_without_a_roster_the_anonymous_mailbox_is_unfiltered() -> None:
    (sub,) = _subscriptions(reviewer_email="team@example.com")
    assert sub["Endpoint"] == "team@example.com"
    assert "FilterPolicy" not in sub
