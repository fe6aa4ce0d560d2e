"""The insights report: aggregation (counts, ranking, evidence, change), its period and request,
its renderings (escaping), the table reader, the bucket and topic adapters (Stubber), the job."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from reviewflow.domain.insights_report import (
    build_insights_report,
    read_insights_report,
    report_end,
    report_keys,
    report_periods,
    report_request,
    split_by_period,
)
from reviewflow.errors import ConfigurationError, InvalidInputError, ProviderError, ProviderThrottledError
from reviewflow.handlers import insights_report as job
from reviewflow.models.insights import LOCAL_EXTRACTOR_ID, Insight, ProductFeedback
from reviewflow.models.insights_report import MAX_EVIDENCE, InsightsReport, ReportPeriod
from reviewflow.presentation.insights_report import email_subject, email_summary, escape_markdown, to_markdown
from reviewflow.providers import registry
from reviewflow.providers.insights_report_store import S3ReportWriter, SnsReportPublisher
from reviewflow.providers.insights_store import DynamoInsightReader

END = datetime(2026, 12, 7, 6, 0, tzinfo=UTC)
PERIOD, PREVIOUS = report_periods(END, timedelta(days=7))
NOW = "2026-12-03T10:00:00Z"  # inside PERIOD
BEFORE = "2026-11-27T10:00:00Z"  # inside PREVIOUS


def insight(
    aspect: str, polarity: str = "negative", severity: int = 3, evidence: str = "", **kw: Any
) -> Insight:
    return Insight(
        aspect=aspect,
        polarity=polarity,  # type: ignore[arg-type]
        severity=severity,
        suggestion=kw.get("suggestion", f"fix the {aspect}" if polarity == "negative" else ""),
        evidence=evidence or f"the {aspect} is {'bad' if polarity == 'negative' else 'good'}",
    )


def feedback(
    review_id: str, *insights: Insight, at: str = NOW, product: str = "kettle", **kw: Any
) -> ProductFeedback:
    return ProductFeedback(
        review_id=review_id,
        product_id=product,
        product_name=kw.get("name"),
        rating=kw.get("rating"),
        extracted_at=at,
        extractor=kw.get("extractor", LOCAL_EXTRACTOR_ID),
        insights=list(insights),
    )


def build(current: list[ProductFeedback], previous: list[ProductFeedback] | None = None) -> InsightsReport:
    return build_insights_report(current, previous or [], period=PERIOD, previous_period=PREVIOUS)


# --- aggregation -------------------------------------------------------------------------------


def test_issues_rank_by_reviews_then_severity_and_count_an_aspect_once_per_review() -> None:
    report = build(
        [
            # r1 complains about the lid twice: one review, at its worst severity.
            feedback("r1", insight("lid", severity=2), insight("Lid ", severity=4, evidence="lid cracked")),
            feedback("r2", insight("lid", severity=3), insight("cord", severity=5)),
            feedback("r3", insight("cord", severity=1), insight("price", severity=2)),
            feedback("r4", insight("price", severity=2)),
        ]
    )
    (product,) = report.products
    assert [(i.aspect, i.count) for i in product.issues] == [("lid", 2), ("cord", 2), ("price", 2)]
    lid, cord, price = product.issues
    assert (lid.mean_severity, lid.max_severity) == (3.5, 4)
    assert (cord.mean_severity, cord.max_severity) == (3.0, 5)  # ties on count: mean severity decides
    assert price.mean_severity == 2.0
    assert lid.evidence[0] == "lid cracked"  # the most severe phrase first
    assert product.issue_mentions == 6 and product.reviews == 4


def test_a_review_extracted_twice_counts_once_as_its_latest_extraction() -> None:
    report = build(
        [
            feedback("r1", insight("lid", severity=2), at="2026-12-01T10:00:00Z"),
            feedback("r1", insight("cord", severity=4), at="2026-12-02T10:00:00Z"),
        ]
    )
    (product,) = report.products
    assert product.reviews == 1
    assert [i.aspect for i in product.issues] == ["cord"]


def test_change_against_the_previous_period_new_and_resolved_issues() -> None:
    report = build(
        [feedback("r1", insight("lid")), feedback("r2", insight("lid")), feedback("r3", insight("cord"))],
        [feedback("p1", insight("lid"), at=BEFORE), feedback("p2", insight("smell"), at=BEFORE)],
    )
    (product,) = report.products
    lid = next(i for i in product.issues if i.aspect == "lid")
    cord = next(i for i in product.issues if i.aspect == "cord")
    assert (lid.previous_count, lid.delta, lid.new) == (1, 1, False)
    assert (cord.previous_count, cord.delta, cord.new) == (0, 1, True)
    assert product.change.new_issues == ["cord"] and product.change.resolved_issues == ["smell"]
    assert (product.change.previous_reviews, product.change.reviews_delta) == (2, 1)
    assert (product.change.previous_issue_mentions, product.change.issue_mentions_delta) == (2, 1)


def test_a_product_that_went_quiet_is_still_listed_with_what_it_no_longer_raises() -> None:
    report = build(
        [feedback("r1", insight("lid"), product="mug")],
        [feedback("p1", insight("cord"), at=BEFORE, product="kettle", name="Kettle 200")],
    )
    assert [p.product_id for p in report.products] == ["mug", "kettle"]
    quiet = report.products[1]
    assert (quiet.reviews, quiet.issues, quiet.product_name) == (0, [], "Kettle 200")
    assert quiet.change.resolved_issues == ["cord"]
    assert report.totals.products == 1 and report.totals.previous_reviews == 1


def test_evidence_is_distinct_capped_and_praise_is_counted_apart() -> None:
    same = "The lid cracked."
    report = build(
        [
            feedback("r1", insight("lid", evidence=same)),
            feedback("r2", insight("lid", evidence="the  lid   CRACKED.")),
            feedback("r3", insight("lid", evidence=same.upper())),
            *[feedback(f"r{n}", insight("lid", evidence=f"phrase {n}")) for n in range(4, 9)],
            feedback("r9", insight("taste", "positive", 1, "tastes great")),
            feedback("r10", insight("noise", "neutral", 1, "it hums")),
        ]
    )
    (product,) = report.products
    lid = product.issues[0]
    # Same severity and time: by review id; r2 and r3 repeat r1 (case and spacing folded).
    assert lid.evidence == [same, "phrase 4", "phrase 5"] and len(lid.evidence) == MAX_EVIDENCE
    assert [(p.aspect, p.count, p.evidence) for p in product.praise] == [("taste", 1, ["tastes great"])]
    assert (product.praise_mentions, product.neutral_mentions) == (1, 1)


def test_records_split_into_half_open_periods_and_outside_ones_are_left_out() -> None:
    at_end = feedback("edge", at=PERIOD.end)
    at_start = feedback("start", at=PERIOD.start)
    older = feedback("old", at="2026-11-01T00:00:00Z")
    fractional = feedback("frac", at="2026-12-03T10:00:00.250+00:00")
    now, before = split_by_period([at_end, at_start, older, fractional], PERIOD, PREVIOUS)
    assert [r.review_id for r in now] == ["start", "frac"]
    assert before == []  # PERIOD.start is the previous period's end: it belongs to PERIOD only


def test_the_report_is_deterministic_and_names_its_extractors() -> None:
    records = [feedback(f"r{n}", insight("lid", severity=1 + n % 5)) for n in range(6)]
    records.append(feedback("m", insight("cord"), extractor="us.amazon.nova-micro-v1:0"))
    first, second = build(records), build(list(reversed(records)))
    assert first == second
    assert first.extractors == [LOCAL_EXTRACTOR_ID, "us.amazon.nova-micro-v1:0"]


# --- the period and the request ----------------------------------------------------------------


def test_a_scheduled_event_ends_its_period_on_the_hour_and_a_direct_one_where_it_says() -> None:
    scheduled = report_request(
        {
            "source": "aws.events",
            "detail-type": "Scheduled Event",
            "time": "2026-12-07T06:00:41Z",
            "detail": {},
        }
    )
    assert report_end(scheduled, now=END + timedelta(hours=5)) == END
    direct = report_request({"period_end": "2026-12-03T12:51:35Z", "period_days": 1})
    assert report_end(direct, now=END) == datetime(2026, 12, 3, 12, 51, 35, tzinfo=UTC)
    assert direct.period_days == 1
    assert report_end(report_request({}), now=datetime(2026, 12, 7, 6, 59, tzinfo=UTC)) == END
    period, previous = report_periods(END, timedelta(days=7))
    assert (period.start, period.end, previous.start) == (
        "2026-11-30T06:00:00Z",
        "2026-12-07T06:00:00Z",
        "2026-11-23T06:00:00Z",
    )
    assert report_keys(period) == (
        "reports/20261207T060000Z/insights.md",
        "reports/20261207T060000Z/insights.json",
    )


@pytest.mark.parametrize(
    "event", [[], {"period_end": "last monday"}, {"time": 5}, {"period_days": 0}, {"period_days": 93}]
)
def test_a_bad_request_is_refused_without_echoing_it(event: Any) -> None:
    with pytest.raises(InvalidInputError) as refused:
        report_request(event)
    assert "last monday" not in str(refused.value)


# --- rendering ---------------------------------------------------------------------------------


def test_customer_phrases_cannot_add_markup_to_the_markdown() -> None:
    hostile = (
        "Great <script>alert(1)</script> [click](http://evil.example) **bold** `code` # | ~x~\n## Heading"
    )
    report = build([feedback("r1", insight("lid", evidence=hostile), name="Kettle *200*")])
    markdown = to_markdown(report)
    assert "<script>" not in markdown and "&lt;script&gt;" in markdown
    assert "[click]" not in markdown and "\\[click\\]" in markdown
    assert "**bold**" not in markdown and "\\*\\*bold\\*\\*" in markdown
    assert "\n## Heading" not in markdown  # the phrase stays on its line
    assert "## Kettle \\*200\\* (kettle)" in markdown
    assert escape_markdown("a.b-c (d) + e!") == "a.b-c (d) + e!"  # prose punctuation stays readable
    # The JSON keeps the phrase verbatim.
    assert report.products[0].issues[0].evidence == [hostile]


def test_markdown_and_email_show_trends_and_label_the_offline_extractor() -> None:
    report = build(
        [feedback("r1", insight("lid")), feedback("r2", insight("lid")), feedback("r3", insight("cord"))],
        [feedback("p1", insight("lid"), at=BEFORE), feedback("p2", insight("cord"), at=BEFORE)],
    )
    markdown = to_markdown(report)
    assert "**lid**: 2 reviews, severity mean 3.00 (max 3), +1 (was 1)" in markdown
    assert "**cord**: 1 review, severity mean 3.00 (max 3), ±0 (was 1)" in markdown
    assert "local/aspect-lexicon (the offline aspect lexicon, not a model)" in markdown
    body = email_summary(report, report_location="s3://b/reports/x/insights.md")
    assert "  * lid: 2 (+1 (was 1)), max severity 3" in body
    assert "not a model" in body and body.rstrip().endswith("Full report: s3://b/reports/x/insights.md")
    assert email_subject(report) == "reviewflow insights to 2026-12-07: 3 issue mentions"


def test_an_empty_period_renders_and_says_so() -> None:
    report = build([])
    assert report.products == [] and report.extractors == []
    assert "No product feedback was extracted" in to_markdown(report)
    assert "No product feedback was extracted" in email_summary(report)


# --- the reader (Stubber) ----------------------------------------------------------------------


def _dynamodb() -> Any:
    return boto3.client("dynamodb", region_name="eu-west-1", aws_access_key_id="x", aws_secret_access_key="x")


def _item(record: ProductFeedback) -> dict[str, Any]:
    return {"feedback": {"S": record.model_dump_json()}}


def test_the_reader_lists_active_products_and_pages_through_each_key_range() -> None:
    client = _dynamodb()
    reader = DynamoInsightReader(client, "insights")
    r1, r2 = feedback("r1", insight("lid")), feedback("r2", insight("cord"))
    with Stubber(client) as stubber:
        stubber.add_response(
            "query",
            {
                "Items": [
                    {"sk": {"S": "kettle"}, "last_extracted_at": {"S": NOW}},
                    {"sk": {"S": "old-mug"}, "last_extracted_at": {"S": "2026-01-01T00:00:00Z"}},
                ]
            },
            {
                "TableName": "insights",
                "KeyConditionExpression": "pk = :pk",
                "ExpressionAttributeValues": {":pk": {"S": "products"}},
                "ProjectionExpression": "sk, last_extracted_at",
            },
        )
        first_page = {
            "TableName": "insights",
            "KeyConditionExpression": "pk = :pk AND sk BETWEEN :from AND :to",
            "ExpressionAttributeValues": {
                ":pk": {"S": "product#kettle"},
                ":from": {"S": PREVIOUS.start},
                ":to": {"S": PERIOD.end},
            },
            "ProjectionExpression": "feedback",
        }
        last_key = {"pk": {"S": "product#kettle"}, "sk": {"S": f"{NOW}#r1"}}
        stubber.add_response("query", {"Items": [_item(r1)], "LastEvaluatedKey": last_key}, first_page)
        stubber.add_response(
            "query",
            {"Items": [_item(r2), {"feedback": {"S": '{"not": "feedback"}'}}, {"other": {"S": "x"}}]},
            {**first_page, "ExclusiveStartKey": last_key},
        )
        report = read_insights_report(reader, period=PERIOD, previous_period=PREVIOUS)
        stubber.assert_no_pending_responses()
    (product,) = report.products
    assert product.product_id == "kettle" and product.reviews == 2
    assert report.totals.unreadable == 2  # counted and left out, not fatal
    assert "2 stored items could not be read" in to_markdown(report)


def test_reader_throttling_is_retryable_and_a_missing_table_a_configuration_error() -> None:
    client = _dynamodb()
    reader = DynamoInsightReader(client, "insights")
    with Stubber(client) as stubber:
        stubber.add_client_error("query", "ProvisionedThroughputExceededException")
        stubber.add_client_error("query", "ResourceNotFoundException")
        with pytest.raises(ProviderThrottledError):
            reader.products(active_since=PREVIOUS.start)
        with pytest.raises(ConfigurationError, match="insights table"):
            reader.products(active_since=PREVIOUS.start)


# --- the bucket and the topic (Stubber) ---------------------------------------------------------


def test_the_writer_puts_utf8_with_its_content_type_and_says_where() -> None:
    client = boto3.client("s3", region_name="eu-west-1", aws_access_key_id="x", aws_secret_access_key="x")
    with Stubber(client) as stubber:
        stubber.add_response(
            "put_object",
            {"ETag": '"e"'},
            {
                "Bucket": "reports-bucket",
                "Key": "reports/x/insights.md",
                "Body": "“lid” cracked\n".encode(),
                "ContentType": "text/markdown; charset=utf-8",
            },
        )
        stubber.add_client_error("put_object", "AccessDenied", http_status_code=403)
        writer = S3ReportWriter(client, "reports-bucket")
        assert (
            writer.put(
                "reports/x/insights.md", "“lid” cracked\n", content_type="text/markdown; charset=utf-8"
            )
            == "s3://reports-bucket/reports/x/insights.md"
        )
        with pytest.raises(ConfigurationError, match="reports bucket"):
            writer.put("reports/x/insights.json", "{}", content_type="application/json")


def test_the_publisher_sends_an_ascii_subject_and_the_text_body() -> None:
    client = boto3.client("sns", region_name="eu-west-1", aws_access_key_id="x", aws_secret_access_key="x")
    topic = "arn:aws:sns:eu-west-1:123456789012:product-team"
    with Stubber(client) as stubber:
        stubber.add_response(
            "publish",
            {"MessageId": "m-1"},
            {"TopicArn": topic, "Subject": "insights ? caf? report", "Message": "body ±0\n"},
        )
        stubber.add_client_error("publish", "InternalError", http_status_code=500)
        publisher = SnsReportPublisher(client, topic)
        assert publisher.publish("insights\n± café report", "body ±0\n") == "m-1"
        with pytest.raises(ProviderError):
            publisher.publish("s", "b")


# --- the job -----------------------------------------------------------------------------------


class _Reader:
    def __init__(self, records: list[ProductFeedback]) -> None:
        self.records = records
        self.calls: list[tuple[str, str, str]] = []

    def products(self, *, active_since: str) -> list[str]:
        return sorted({r.product_id for r in self.records})

    def feedback(self, product_id: str, *, start: str, end: str) -> tuple[list[ProductFeedback], int]:
        self.calls.append((product_id, start, end))
        return [r for r in self.records if r.product_id == product_id], 0


class _Writer:
    def __init__(self) -> None:
        self.objects: dict[str, tuple[str, str]] = {}

    def put(self, key: str, body: str, *, content_type: str) -> str:
        self.objects[key] = (body, content_type)
        return f"s3://reports/{key}"


class _Publisher:
    def __init__(self, events: list[str]) -> None:
        self.sent: list[tuple[str, str]] = []
        self._events = events

    def publish(self, subject: str, body: str) -> str:
        self._events.append("publish")
        self.sent.append((subject, body))
        return "m-7"


def test_the_job_writes_both_objects_before_it_emails_and_answers_with_numbers(
    runtime_env: pytest.MonkeyPatch, lambda_context: Any
) -> None:
    runtime_env.setenv("REVIEWFLOW_INSIGHTS_REPORT_PERIOD_DAYS", "7")
    events: list[str] = []
    reader = _Reader([feedback("r1", insight("lid")), feedback("p1", insight("cord"), at=BEFORE)])
    writer, publisher = _Writer(), _Publisher(events)
    original_put = writer.put

    def put(key: str, body: str, *, content_type: str) -> str:
        events.append(f"put {key.rsplit('.', 1)[1]}")
        return original_put(key, body, content_type=content_type)

    writer.put = put  # type: ignore[method-assign]
    registry.set_override("insight_reader", reader)
    registry.set_override("report_writer", writer)
    registry.set_override("report_publisher", publisher)
    answer = job.handler({"source": "aws.events", "time": "2026-12-07T06:00:05Z"}, lambda_context)
    assert events == ["put json", "put md", "publish"]
    assert reader.calls == [("kettle", PREVIOUS.start, PERIOD.end)]
    assert answer == {
        "period": {"start": PERIOD.start, "end": PERIOD.end},
        "markdown_location": "s3://reports/reports/20261207T060000Z/insights.md",
        "json_location": "s3://reports/reports/20261207T060000Z/insights.json",
        "message_id": "m-7",
        "products": 1,
        "reviews": 1,
        "issue_mentions": 1,
    }
    stored = InsightsReport.model_validate_json(writer.objects["reports/20261207T060000Z/insights.json"][0])
    assert stored.products[0].change.resolved_issues == ["cord"]
    ((subject, body),) = publisher.sent
    assert subject.startswith("reviewflow insights to 2026-12-07") and "Full report: s3://reports/" in body


def test_the_job_needs_its_bucket_and_topic_configured(
    runtime_env: pytest.MonkeyPatch, lambda_context: Any
) -> None:
    runtime_env.setenv("REVIEWFLOW_INSIGHTS_TABLE", "insights")
    registry.set_override("insight_reader", _Reader([]))
    with pytest.raises(ConfigurationError, match="REVIEWFLOW_INSIGHTS_REPORT_BUCKET"):
        job.handler({"period_end": PERIOD.end}, lambda_context)


def test_the_report_model_round_trips_through_its_json() -> None:
    report = build([feedback("r1", insight("lid"), name="Kettle", rating=2)])
    assert InsightsReport.model_validate(json.loads(report.model_dump_json())) == report
    assert ReportPeriod(start=PERIOD.start, end=PERIOD.end) == report.period
