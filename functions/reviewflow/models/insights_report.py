"""The insights report: what customers said about each product in one period, against the last.

Built by ``domain/insights_report.py`` from the insights table (``models/insights.py``), written to
the reports bucket as ``insights.json`` next to its Markdown rendering, and rebuilt offline by
``reviewflow insights``. ``schema_version`` changes whenever a field changes meaning.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

INSIGHTS_REPORT_SCHEMA_VERSION = "insights-report/v1"
#: How many quoted phrases an issue or a praised aspect carries.
MAX_EVIDENCE = 3
#: How many issues and praised aspects a product lists (the rest is counted in the totals).
MAX_ISSUES = 10
MAX_PRAISE = 5


class ReportPeriod(BaseModel):
    """A half-open interval ``[start, end)`` of extraction times, ISO 8601 UTC."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    start: str
    end: str


class IssueSummary(BaseModel):
    """One negative aspect of a product, ranked by mentions, then mean and max severity."""

    model_config = ConfigDict(extra="forbid")

    aspect: str
    count: int = Field(ge=1, description="reviews of the period that raise it")
    mean_severity: float = Field(ge=1, le=5)
    max_severity: int = Field(ge=1, le=5)
    evidence: list[str] = Field(description="verbatim phrases, most severe first", max_length=MAX_EVIDENCE)
    suggestions: list[str] = Field(default_factory=list, max_length=MAX_EVIDENCE)
    previous_count: int = Field(ge=0)
    delta: int = Field(description="count - previous_count")
    new: bool = Field(description="not raised at all in the previous period")


class PraiseSummary(BaseModel):
    model_config = ConfigDict(extra="forbid")

    aspect: str
    count: int = Field(ge=1)
    evidence: list[str] = Field(max_length=MAX_EVIDENCE)


class ProductChange(BaseModel):
    """The product's period against the previous one."""

    model_config = ConfigDict(extra="forbid")

    previous_reviews: int = Field(ge=0)
    reviews_delta: int
    previous_issue_mentions: int = Field(ge=0)
    issue_mentions_delta: int
    new_issues: list[str] = Field(description="aspects raised now and not in the previous period")
    resolved_issues: list[str] = Field(description="aspects raised before and not in this period")


class ProductReport(BaseModel):
    model_config = ConfigDict(extra="forbid")

    product_id: str
    product_name: str | None = None
    reviews: int = Field(ge=0, description="reviews with extracted feedback in the period")
    mean_rating: float | None = None
    issue_mentions: int = Field(ge=0)
    praise_mentions: int = Field(ge=0)
    neutral_mentions: int = Field(ge=0)
    issues: list[IssueSummary] = Field(max_length=MAX_ISSUES)
    more_issues: int = Field(default=0, ge=0, description="distinct issues beyond the listed ones")
    praise: list[PraiseSummary] = Field(max_length=MAX_PRAISE)
    change: ProductChange


class ReportTotals(BaseModel):
    model_config = ConfigDict(extra="forbid")

    products: int = Field(ge=0)
    reviews: int = Field(ge=0)
    previous_reviews: int = Field(ge=0)
    issue_mentions: int = Field(ge=0)
    praise_mentions: int = Field(ge=0)
    unreadable: int = Field(default=0, ge=0, description="stored items skipped because they no longer parse")


class ReportRequest(BaseModel):
    """What starts the report job: EventBridge's scheduled event, or a direct invocation.

    The scheduled event's ``time`` (the time it was scheduled for) floored to the hour ends the
    period, so weekly runs cover adjacent periods even when one starts a little late. A direct
    invocation may name the exact ``period_end`` (a re-run of a past week, the local runtime) and
    another ``period_days``. Every other field of the scheduled event is ignored.
    """

    model_config = ConfigDict(extra="ignore", frozen=True)

    time: str | None = None
    period_end: str | None = None
    period_days: int | None = Field(default=None, ge=1, le=92)


class ReportPublished(BaseModel):
    """The job's answer: where the report went and what it says, in numbers."""

    model_config = ConfigDict(extra="forbid")

    period: ReportPeriod
    markdown_location: str
    json_location: str
    message_id: str
    products: int = Field(ge=0)
    reviews: int = Field(ge=0)
    issue_mentions: int = Field(ge=0)


class InsightsReport(BaseModel):
    model_config = ConfigDict(extra="forbid")

    schema_version: str = INSIGHTS_REPORT_SCHEMA_VERSION
    period: ReportPeriod
    previous_period: ReportPeriod
    products: list[ProductReport] = Field(description="most issue mentions first, then product id")
    totals: ReportTotals
    extractors: list[str] = Field(
        default_factory=list,
        description="who extracted the period's feedback: model ids, or local/aspect-lexicon offline",
    )
