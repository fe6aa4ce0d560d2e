"""A roster of known reviewers: one secret per reviewer, one message each, the link decides.

request_approval runs against moto (table, topic, an SQS subscriber that sees each message's
attributes); the approval API is invoked with REST events; SNS requests are checked with Stubber.
"""

from __future__ import annotations

import hashlib
import json
import re
from email.message import EmailMessage
from typing import Any

import boto3
import pytest
from approval_builders import BASE_URL, approval_request, approve_form, decision_sent, rest_event
from botocore.stub import Stubber

from reviewflow.errors import ConfigurationError, ProviderThrottledError

ROSTER = ("reviewer-1", "reviewer-2", "reviewer-3")
LINK = re.compile(re.escape(BASE_URL) + r"/approvals/(?P<id>[A-Za-z0-9_-]+)\?s=(?P<secret>[A-Za-z0-9_-]+)")


@pytest.fixture
def roster(env: Any, runtime_env: pytest.MonkeyPatch) -> Any:
    from reviewflow.config import get_settings

    runtime_env.setenv("REVIEWFLOW_REVIEWER_IDS", ",".join(ROSTER))
    get_settings.cache_clear()
    return env


def _published(env: Any) -> list[tuple[str | None, list[tuple[str, str]]]]:
    """(reviewer attribute, links in the body) of every message published so far."""
    found = []
    while messages := env.sqs.receive_message(QueueUrl=env.queue_url, MaxNumberOfMessages=10).get(
        "Messages", []
    ):
        for message in messages:
            envelope = json.loads(message["Body"])
            attribute = envelope.get("MessageAttributes", {}).get("reviewer", {}).get("Value")
            found.append((attribute, LINK.findall(envelope["Message"])))
            env.sqs.delete_message(QueueUrl=env.queue_url, ReceiptHandle=message["ReceiptHandle"])
    return found


def _request(lambda_context: Any, **kwargs: Any) -> dict[str, Any]:
    from reviewflow.handlers import request_approval

    return dict(request_approval.handler(approval_request(**kwargs), lambda_context))


def _links(env: Any, lambda_context: Any) -> tuple[str, dict[str, str]]:
    ticket = _request(lambda_context)
    published = _published(env)
    secrets = {}
    for reviewer_id, links in published:
        [(approval_id, secret)] = links
        assert approval_id == ticket["approval_id"]
        secrets[reviewer_id] = secret
    return ticket["approval_id"], secrets


def test_each_reviewer_gets_their_own_secret_in_their_own_message(roster: Any, lambda_context: Any) -> None:
    approval_id, secrets = _links(roster, lambda_context)
    assert sorted(secrets) == sorted(ROSTER)  # one message per reviewer, each with one link
    assert len(set(secrets.values())) == 3
    item = roster.item(approval_id)
    assert item is not None
    links = {sha: value["S"] for sha, value in item["reviewer_links"]["M"].items()}
    assert links == {hashlib.sha256(s.encode()).hexdigest(): r for r, s in secrets.items()}
    assert [v["S"] for v in item["reviewer_ids"]["L"]] == list(ROSTER)
    assert item["secret_sha256"]["S"] == ""  # no anonymous link exists
    assert not any(secret in json.dumps(item) for secret in secrets.values())


def test_without_a_roster_one_anonymous_message_without_attribute(env: Any, lambda_context: Any) -> None:
    ticket = _request(lambda_context)
    [(attribute, [(approval_id, secret)])] = _published(env)
    assert attribute is None and approval_id == ticket["approval_id"]
    item = env.item(approval_id)
    assert item is not None
    assert item["secret_sha256"]["S"] == hashlib.sha256(secret.encode()).hexdigest()
    assert item["reviewer_links"]["M"] == {}


def test_one_failed_reviewer_email_discards_the_approval(
    roster: Any, lambda_context: Any, invoke: Any
) -> None:
    from reviewflow.providers import registry
    from reviewflow.providers.notifier import SnsNotifier

    class FailsForTheSecond(SnsNotifier):
        def send(self, message: EmailMessage, reviewer: str | None = None) -> str:
            if reviewer == "reviewer-2":
                raise ProviderThrottledError("SNS publish throttled")
            return super().send(message, reviewer=reviewer)

    failing = FailsForTheSecond(roster.sns, roster.topic_arn)
    with registry.override(notifier=failing), pytest.raises(ProviderThrottledError):
        _request(lambda_context)
    [(reviewer_id, [(approval_id, secret)])] = _published(roster)
    assert reviewer_id == "reviewer-1"  # already sent: its link is dead
    assert roster.all_items() == []
    assert invoke(rest_event("GET", approval_id, secret=secret))["statusCode"] == 404


def test_sns_message_carries_the_reviewer_attribute() -> None:
    from reviewflow.providers.notifier import SnsNotifier

    message = EmailMessage()
    message["Subject"] = "Review needed"
    message.set_content("your link\n")
    sns = boto3.client("sns", region_name="us-east-1")
    arn = "arn:aws:sns:us-east-1:123456789012:reviewers"
    with Stubber(sns) as stub:
        stub.add_response(
            "publish",
            {"MessageId": "m-2"},
            {
                "TopicArn": arn,
                "Subject": "Review needed",
                "Message": "your link\n",
                "MessageAttributes": {"reviewer": {"DataType": "String", "StringValue": "reviewer-2"}},
            },
        )
        assert SnsNotifier(sns, arn).send(message, reviewer="reviewer-2") == "m-2"
        stub.assert_no_pending_responses()


def test_a_reviewer_link_is_greeted_and_decides_verified(
    roster: Any, lambda_context: Any, invoke: Any
) -> None:
    approval_id, secrets = _links(roster, lambda_context)
    shown = invoke(rest_event("GET", approval_id, secret=secrets["reviewer-2"]))
    assert shown["statusCode"] == 200
    assert "as <strong>reviewer-2</strong>" in shown["body"]
    assert 'name="reviewer"' not in shown["body"]
    assert secrets["reviewer-1"] not in shown["body"] and secrets["reviewer-3"] not in shown["body"]

    # A typed name of someone else is ignored: the link says who decides.
    form = approve_form(secrets["reviewer-2"], reviewer="reviewer-1")
    decided = invoke(rest_event("POST", approval_id, form=form))
    assert decided["statusCode"] == 200
    sent = decision_sent(roster)
    assert (sent["reviewer_id"], sent["reviewer_verified"], sent["reviewer"]) == (
        "reviewer-2",
        True,
        "reviewer-2",
    )
    item = roster.item(approval_id)
    assert item is not None
    assert item["reviewer_id"]["S"] == "reviewer-2" and item["reviewer_verified"]["BOOL"] is True

    late = invoke(rest_event("GET", approval_id, secret=secrets["reviewer-3"]))
    assert late["statusCode"] == 200
    assert "Already decided by reviewer-2 at " in late["body"]
    late_post = invoke(rest_event("POST", approval_id, form=approve_form(secrets["reviewer-3"])))
    assert late_post["statusCode"] == 409
    assert "Already decided by reviewer-2 at " in late_post["body"]


def test_anonymous_decision_keeps_the_typed_name_unverified(env: Any, pending: Any, invoke: Any) -> None:
    approval_id, secret = pending()
    assert invoke(rest_event("POST", approval_id, form=approve_form(secret)))["statusCode"] == 200
    sent = decision_sent(env)
    assert (sent["reviewer"], sent["reviewer_id"], sent["reviewer_verified"]) == ("Sam", None, False)
    late = invoke(rest_event("GET", approval_id, secret=secret))
    assert "Already decided by" not in late["body"] and "by Sam" in late["body"]


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_reviewer_link_opens_no_other_approval(
    roster: Any, lambda_context: Any, invoke: Any, method: str
) -> None:
    first_id, first = _links(roster, lambda_context)
    second_id, _ = _links(roster, lambda_context)
    if method == "GET":
        answer = invoke(rest_event("GET", second_id, secret=first["reviewer-1"]))
    else:
        answer = invoke(rest_event("POST", second_id, form=approve_form(first["reviewer-1"])))
    assert answer["statusCode"] == 403
    assert roster.workflow.calls == []
    for approval_id in (first_id, second_id):
        item = roster.item(approval_id)
        assert item is not None and item["status"]["S"] == "PENDING"


def test_empty_secret_never_matches_the_empty_anonymous_hash(
    roster: Any, lambda_context: Any, invoke: Any
) -> None:
    approval_id, _ = _links(roster, lambda_context)
    for secret in ("", "x"):
        assert invoke(rest_event("GET", approval_id, secret=secret))["statusCode"] == 403
    assert invoke(rest_event("POST", approval_id, form=approve_form("")))["statusCode"] == 403


def test_reviewer_of_checks_every_entry() -> None:
    from reviewflow.domain.approvals.links import hash_secret, reviewer_of

    links = {hash_secret("s1"): "ana", hash_secret("s2"): "bo"}
    assert reviewer_of("s2", links) == "bo"
    assert reviewer_of("s1", links) == "ana"
    assert reviewer_of("s3", links) is None
    assert reviewer_of(None, links) is None
    assert reviewer_of("", {hash_secret(""): "ana"}) is None


@pytest.mark.parametrize(
    ("value", "expected"),
    [("", ()), ("ana", ("ana",)), ("ana,bo-2,ana", ("ana", "bo-2"))],
)
def test_roster_ids_setting(value: str, expected: tuple[str, ...]) -> None:
    from reviewflow.config import RuntimeSettings

    assert RuntimeSettings.from_environ({"REVIEWFLOW_REVIEWER_IDS": value}).roster_ids == expected


@pytest.mark.parametrize("value", ["Ana", "ana,,bo", "ana, bo", "ana;bo", "-ana"])
def test_malformed_roster_ids_are_refused(value: str) -> None:
    from reviewflow.config import RuntimeSettings

    with pytest.raises(ConfigurationError, match="REVIEWFLOW_REVIEWER_IDS"):
        RuntimeSettings.from_environ({"REVIEWFLOW_REVIEWER_IDS": value})
