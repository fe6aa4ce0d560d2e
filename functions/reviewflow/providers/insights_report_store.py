"""Where the insights report goes: the reports bucket (S3) and the product team's topic (SNS).

The Markdown and the JSON are written under the period's own folder (``report_keys``), so a
re-run overwrites that period's report and nothing else. The topic gets the plain-text summary
with the Markdown's location; SNS email subscriptions deliver plain text only.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from reviewflow.errors import ProviderError
from reviewflow.providers.aws_errors import translate
from reviewflow.providers.evaluation_store import S3_CODES
from reviewflow.providers.notifier import SNS_CODES, clean_subject

REPORT_S3_CODES = replace(S3_CODES, check="the reports bucket and the function's grant on reports/")
REPORT_SNS_CODES = replace(SNS_CODES, check="the product team topic, its key and the function's grants")


class S3ReportWriter:
    """``ReportWriter`` on the reports bucket."""

    def __init__(self, client: Any, bucket: str) -> None:
        self._s3 = client
        self.bucket = bucket

    def put(self, key: str, body: str, *, content_type: str) -> str:
        try:
            self._s3.put_object(
                Bucket=self.bucket, Key=key, Body=body.encode("utf-8"), ContentType=content_type
            )
        except (ClientError, BotoCoreError) as exc:
            raise translate(exc, "S3 PutObject (insights report)", REPORT_S3_CODES, ProviderError) from exc
        return f"s3://{self.bucket}/{key}"


class SnsReportPublisher:
    """``ReportPublisher`` on the product team's topic."""

    def __init__(self, client: Any, topic_arn: str) -> None:
        self._sns = client
        self._topic_arn = topic_arn

    def publish(self, subject: str, body: str) -> str:
        try:
            answer = self._sns.publish(
                TopicArn=self._topic_arn,
                Subject=clean_subject(subject, fallback="reviewflow insights report"),
                Message=body,
            )
        except (ClientError, BotoCoreError) as exc:
            raise translate(exc, "SNS publish (insights report)", REPORT_SNS_CODES, ProviderError) from exc
        return str(answer.get("MessageId", ""))
