"""InsightsReport job: each product's feedback of the last period, against the period before.

Started by the weekly EventBridge schedule (or invoked directly with ``period_end``, to re-run a
past period). Reads the insights table, writes the report to the reports bucket as Markdown and
JSON, then emails the summary to the product team's topic. Writing before emailing means the
email's link always points at a report that exists; a re-run of a period overwrites its report
and sends the email again.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from reviewflow.domain.clock import utc_now
from reviewflow.domain.insights_report import (
    read_insights_report,
    report_end,
    report_keys,
    report_periods,
    report_request,
)
from reviewflow.models.insights_report import ReportPublished
from reviewflow.observability import add_metric, get_logger, lambda_entry
from reviewflow.presentation.insights_report import email_subject, email_summary, to_json, to_markdown
from reviewflow.providers import registry


@lambda_entry
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    request = report_request(event)
    days = request.period_days or registry.runtime_settings().insights_report_period_days
    period, previous = report_periods(report_end(request, now=utc_now()), timedelta(days=days))
    report = read_insights_report(registry.insight_reader(), period=period, previous_period=previous)
    markdown_key, json_key = report_keys(period)
    writer = registry.report_writer()
    json_location = writer.put(json_key, to_json(report), content_type="application/json")
    markdown_location = writer.put(
        markdown_key, to_markdown(report), content_type="text/markdown; charset=utf-8"
    )
    message_id = registry.report_publisher().publish(
        email_subject(report), email_summary(report, report_location=markdown_location)
    )
    totals = report.totals
    add_metric("InsightsReportIssueMentions", totals.issue_mentions)
    if totals.unreadable:
        add_metric("InsightsReportUnreadableItems", totals.unreadable)
    get_logger().info(
        "insights report published",
        period_end=period.end,
        products=totals.products,
        reviews=totals.reviews,
        unreadable=totals.unreadable,
    )
    published = ReportPublished(
        period=period,
        markdown_location=markdown_location,
        json_location=json_location,
        message_id=message_id,
        products=totals.products,
        reviews=totals.reviews,
        issue_mentions=totals.issue_mentions,
    )
    return published.model_dump(mode="json")
