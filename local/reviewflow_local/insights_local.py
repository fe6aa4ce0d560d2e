"""The insights report job in the local runtime: the deployed function, invoked as its schedule
would, and what it wrote read back from the local reports bucket.

moto keeps EventBridge schedules but never fires them, so the runtime invokes the function itself
with the period's exact end (just after the last extraction of the run), the form of invocation
the job takes for re-runs. Everything else is the deployed job: its Query reads of the insights
table, its two objects in the reports bucket, its message on the product team's topic.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from reviewflow.domain.clock import iso_utc
from reviewflow.models.insights_report import InsightsReport, ReportPublished
from reviewflow_local.deployment import LocalPipelineError

#: The stack outputs that name the job and its bucket (stacks/reviewflow_stack.py).
FUNCTION_OUTPUT = "InsightsReportFunctionName"
BUCKET_OUTPUT = "InsightsReportBucketName"
MARKDOWN_FILE = "insights.md"
JSON_FILE = "insights.json"


@dataclass(frozen=True)
class LocalInsightsReport:
    published: ReportPublished
    report: InsightsReport
    markdown: str


def _object_text(s3: Any, location: str) -> str:
    bucket, _, key = location.removeprefix("s3://").partition("/")
    return str(s3.get_object(Bucket=bucket, Key=key)["Body"].read().decode("utf-8"))


def run_report(
    pipeline: Any, *, period_end: datetime | None = None, period_days: int | None = None
) -> LocalInsightsReport:
    """Invoke the deployed report job and read back the report it wrote.

    The default end is one second after now: the job's periods are half-open, and an extraction
    in the current second must fall inside.
    """
    outputs = pipeline.resources.outputs
    if FUNCTION_OUTPUT not in outputs:
        raise LocalPipelineError(f"the deployed stack has no {FUNCTION_OUTPUT} output (an older template?)")
    end = period_end or datetime.now(UTC) + timedelta(seconds=1)
    request: dict[str, Any] = {"period_end": iso_utc(end)}
    if period_days is not None:
        request["period_days"] = period_days
    answer = pipeline.client("lambda").invoke(
        FunctionName=outputs[FUNCTION_OUTPUT], Payload=json.dumps(request).encode()
    )
    payload = json.loads(answer["Payload"].read() or b"{}")
    if answer.get("FunctionError"):
        raise LocalPipelineError(
            f"the insights report job failed: {payload.get('errorType', 'error')}: "
            f"{payload.get('errorMessage', '')} (see the function log)"
        )
    published = ReportPublished.model_validate(payload)
    s3 = pipeline.client("s3")
    report = InsightsReport.model_validate_json(_object_text(s3, published.json_location))
    return LocalInsightsReport(published, report, _object_text(s3, published.markdown_location))


def save_report(local: LocalInsightsReport, folder: Path) -> tuple[Path, Path]:
    """``insights.md`` and ``insights.json`` in ``folder`` (the run folder), as the job wrote them."""
    folder.mkdir(parents=True, exist_ok=True)
    markdown, data = folder / MARKDOWN_FILE, folder / JSON_FILE
    markdown.write_text(local.markdown, encoding="utf-8")
    data.write_text(local.report.model_dump_json(indent=2) + "\n", encoding="utf-8")
    return markdown, data
