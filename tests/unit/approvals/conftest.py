"""Fixtures for the human-review tests: moto DynamoDB + SNS, a recording Step Functions fake,
builders for ``ApprovalRequest`` payloads and API Gateway REST proxy events, and a log capture
that sees the Powertools logger's rendered JSON lines. Builders live in approval_builders.py."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import boto3
import pytest
from approval_builders import BASE_URL, LINK, TABLE, approval_request, create_approvals_table
from moto import mock_aws


@dataclass
class FakeWorkflow:
    """Records ``send_task_success`` calls; raises the queued errors first."""

    calls: list[tuple[str, str]] = field(default_factory=list)
    errors: list[Exception] = field(default_factory=list)

    def send_task_success(self, task_token: str, output_json: str) -> None:
        if self.errors:
            raise self.errors.pop(0)
        self.calls.append((task_token, output_json))


@dataclass
class FakeToxicity:
    """A toxicity provider that scores texts from a table (default 0.1) and records what it saw."""

    name: str = "fake"
    scores: dict[str, float] = field(default_factory=dict)
    default: float = 0.1
    seen: list[str] = field(default_factory=list)

    def score(self, text: str, language: str) -> Any:
        from reviewflow.models.events import ToxicityScore

        self.seen.append(text)
        value = self.scores.get(text, self.default)
        return ToxicityScore(
            score=value, labels={"INSULT": value, "PROFANITY": value / 2}, provider=self.name
        )


@dataclass
class Mail:
    subject: str
    body: str

    @property
    def link(self) -> re.Match[str]:
        match = LINK.search(self.body)
        assert match, f"no approval link in: {self.body!r}"
        return match


@dataclass
class Env:
    dynamodb: Any
    sns: Any
    sqs: Any
    topic_arn: str
    queue_url: str
    workflow: FakeWorkflow
    toxicity: FakeToxicity

    def item(self, approval_id: str) -> dict[str, Any] | None:
        answer = self.dynamodb.get_item(
            TableName=TABLE, Key={"pk": {"S": f"approval#{approval_id}"}}, ConsistentRead=True
        )
        return answer.get("Item")

    def all_items(self) -> list[dict[str, Any]]:
        return self.dynamodb.scan(TableName=TABLE)["Items"]

    def mails(self) -> list[Mail]:
        """Every notification published to the topic so far (drained from the SQS subscriber)."""
        found: list[Mail] = []
        while True:
            answer = self.sqs.receive_message(QueueUrl=self.queue_url, MaxNumberOfMessages=10)
            messages = answer.get("Messages", [])
            if not messages:
                return found
            for message in messages:
                envelope = json.loads(message["Body"])
                found.append(Mail(subject=envelope.get("Subject", ""), body=envelope["Message"]))
                self.sqs.delete_message(QueueUrl=self.queue_url, ReceiptHandle=message["ReceiptHandle"])

    def set_item_attribute(self, approval_id: str, name: str, value: dict[str, Any]) -> None:
        self.dynamodb.update_item(
            TableName=TABLE,
            Key={"pk": {"S": f"approval#{approval_id}"}},
            UpdateExpression="SET #n = :v",
            ExpressionAttributeNames={"#n": name},
            ExpressionAttributeValues={":v": value},
        )


@pytest.fixture
def env(runtime_env: pytest.MonkeyPatch) -> Iterator[Env]:
    from reviewflow.providers import registry
    from reviewflow.providers.approval_store import DynamoApprovalStore
    from reviewflow.providers.notifier import SnsNotifier

    with mock_aws():
        dynamodb = boto3.client("dynamodb", region_name="us-east-1")
        create_approvals_table(dynamodb)
        dynamodb.update_time_to_live(
            TableName=TABLE, TimeToLiveSpecification={"Enabled": True, "AttributeName": "expires_at"}
        )
        sns = boto3.client("sns", region_name="us-east-1")
        sqs = boto3.client("sqs", region_name="us-east-1")
        topic_arn = sns.create_topic(Name="reviewers")["TopicArn"]
        queue_url = sqs.create_queue(QueueName="reviewer-inbox")["QueueUrl"]
        queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"][
            "QueueArn"
        ]
        sns.subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=queue_arn)

        runtime_env.setenv("REVIEWFLOW_APPROVALS_TABLE", TABLE)
        runtime_env.setenv("REVIEWFLOW_NOTIFICATION_TOPIC_ARN", topic_arn)
        runtime_env.setenv("REVIEWFLOW_APPROVAL_BASE_URL", BASE_URL)
        workflow = FakeWorkflow()
        toxicity = FakeToxicity()
        registry.reset()
        with registry.override(
            approval_store=DynamoApprovalStore(dynamodb, TABLE),
            notifier=SnsNotifier(sns, topic_arn),
            workflow_client=workflow,
            toxicity_provider=toxicity,
        ):
            yield Env(dynamodb, sns, sqs, topic_arn, queue_url, workflow, toxicity)
        registry.reset()


@pytest.fixture
def captured_logs() -> Iterator[list[str]]:
    """Every line the reviewflow logger renders (as JSON), at DEBUG, plus other loggers' records."""
    from reviewflow.observability import get_logger

    logger = get_logger()
    lines: list[str] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            lines.append(self.format(record))

    ours = Collect()
    ours.setFormatter(logger.registered_formatter)
    others = Collect()
    others.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))
    target = logging.getLogger("reviewflow")
    previous_level = target.level
    target.addHandler(ours)
    target.setLevel(logging.DEBUG)
    root = logging.getLogger()
    root_level = root.level
    root.addHandler(others)
    root.setLevel(logging.INFO)  # botocore DEBUG dumps request bodies by design; not our logs
    try:
        yield lines
    finally:
        target.removeHandler(ours)
        target.setLevel(previous_level)
        root.removeHandler(others)
        root.setLevel(root_level)


@pytest.fixture
def invoke(lambda_context: Any) -> Callable[..., dict[str, Any]]:
    from reviewflow.handlers import approval_api

    def call(event: dict[str, Any]) -> dict[str, Any]:
        return approval_api.handler(event, lambda_context)

    return call


@pytest.fixture
def pending(env, lambda_context):
    """Create a pending approval through request_approval; returns (approval_id, secret)."""
    from reviewflow.handlers import request_approval

    def make(stage: str = "REVIEW", **kwargs):
        ticket = request_approval.handler(approval_request(stage, **kwargs), lambda_context)
        [mail] = env.mails()
        assert mail.link["id"] == ticket["approval_id"]
        return ticket["approval_id"], mail.link["secret"]

    return make
