"""Aggregates extracted product feedback into the periodic insights report.

``build_insights_report`` is pure: the records come in, the report comes out; the same records
always give the same report, ordered the same way, so a re-run of a period is a no-op diff.
``read_insights_report`` feeds it from an ``InsightReader`` (the job's one read path), and
``report_request``/``report_keys`` say which period a run covers and where it is written.

An aspect is counted once per review (a review that complains about the battery twice is one
complaint, at its worst severity), and a review extracted twice (a retried execution) counts
once, as its latest extraction.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from pydantic import ValidationError

from reviewflow.domain.clock import iso_utc, parse_utc
from reviewflow.domain.ports import InsightReader
from reviewflow.errors import InvalidInputError
from reviewflow.models.insights import Insight, ProductFeedback
from reviewflow.models.insights_report import (
    MAX_EVIDENCE,
    MAX_ISSUES,
    MAX_PRAISE,
    InsightsReport,
    IssueSummary,
    PraiseSummary,
    ProductChange,
    ProductReport,
    ReportPeriod,
    ReportRequest,
    ReportTotals,
)

_SPACES = re.compile(r"\s+")


def report_periods(end: datetime, length: timedelta) -> tuple[ReportPeriod, ReportPeriod]:
    """The period ending at ``end`` and the one of the same length before it."""
    if length <= timedelta(0):
        raise ValueError("the report period must be positive")
    start = end - length
    return (
        ReportPeriod(start=iso_utc(start), end=iso_utc(end)),
        ReportPeriod(start=iso_utc(start - length), end=iso_utc(start)),
    )


def within(record: ProductFeedback, period: ReportPeriod) -> bool:
    moment = parse_utc(record.extracted_at)
    return parse_utc(period.start) <= moment < parse_utc(period.end)


def split_by_period(
    records: Iterable[ProductFeedback], current: ReportPeriod, previous: ReportPeriod
) -> tuple[list[ProductFeedback], list[ProductFeedback]]:
    """Records of each period; a record in neither (outside both bounds) is left out."""
    now: list[ProductFeedback] = []
    before: list[ProductFeedback] = []
    for record in records:
        if within(record, current):
            now.append(record)
        elif within(record, previous):
            before.append(record)
    return now, before


def normalize_aspect(aspect: str) -> str:
    return _SPACES.sub(" ", aspect).strip().lower()


def _latest_per_review(records: Iterable[ProductFeedback]) -> list[ProductFeedback]:
    latest: dict[tuple[str, str], ProductFeedback] = {}
    for record in records:
        key = (record.product_id, record.review_id)
        kept = latest.get(key)
        if kept is None or parse_utc(record.extracted_at) > parse_utc(kept.extracted_at):
            latest[key] = record
    return sorted(latest.values(), key=lambda r: (r.product_id, r.review_id))


@dataclass(frozen=True)
class _Mention:
    """One review's strongest statement about one aspect with one polarity."""

    severity: int
    evidence: str
    suggestion: str
    extracted_at: datetime
    review_id: str


def _mentions(records: Sequence[ProductFeedback], polarity: str) -> dict[str, list[_Mention]]:
    by_aspect: dict[str, list[_Mention]] = defaultdict(list)
    for record in records:
        strongest: dict[str, Insight] = {}
        for insight in record.insights:
            if insight.polarity != polarity:
                continue
            aspect = normalize_aspect(insight.aspect)
            kept = strongest.get(aspect)
            if kept is None or insight.severity > kept.severity:
                strongest[aspect] = insight
        for aspect, insight in strongest.items():
            by_aspect[aspect].append(
                _Mention(
                    insight.severity,
                    insight.evidence,
                    insight.suggestion.strip(),
                    parse_utc(record.extracted_at),
                    record.review_id,
                )
            )
    return by_aspect


def _distinct(texts: Iterable[str]) -> list[str]:
    seen: set[str] = set()
    chosen: list[str] = []
    for text in texts:
        key = _SPACES.sub(" ", text).strip().casefold()
        if not key or key in seen:
            continue
        seen.add(key)
        chosen.append(text)
        if len(chosen) == MAX_EVIDENCE:
            break
    return chosen


def _strongest_first(mentions: list[_Mention]) -> list[_Mention]:
    # Most severe, then most recent, then review id: deterministic and the most telling first.
    return sorted(mentions, key=lambda m: (-m.severity, -m.extracted_at.timestamp(), m.review_id))


def _issues(current: dict[str, list[_Mention]], previous: dict[str, list[_Mention]]) -> list[IssueSummary]:
    issues = []
    for aspect, mentions in current.items():
        ordered = _strongest_first(mentions)
        severities = [m.severity for m in mentions]
        before = len(previous.get(aspect, []))
        issues.append(
            IssueSummary(
                aspect=aspect,
                count=len(mentions),
                mean_severity=round(sum(severities) / len(severities), 2),
                max_severity=max(severities),
                evidence=_distinct(m.evidence for m in ordered),
                suggestions=_distinct(m.suggestion for m in ordered),
                previous_count=before,
                delta=len(mentions) - before,
                new=before == 0,
            )
        )
    issues.sort(key=lambda i: (-i.count, -i.mean_severity, -i.max_severity, i.aspect))
    return issues


def _praise(current: dict[str, list[_Mention]]) -> list[PraiseSummary]:
    praise = [
        PraiseSummary(
            aspect=aspect,
            count=len(mentions),
            evidence=_distinct(
                m.evidence for m in sorted(mentions, key=lambda m: (-m.extracted_at.timestamp(), m.review_id))
            ),
        )
        for aspect, mentions in current.items()
    ]
    praise.sort(key=lambda p: (-p.count, p.aspect))
    return praise[:MAX_PRAISE]


def _product_name(records: Sequence[ProductFeedback]) -> str | None:
    named = [r for r in records if r.product_name]
    if not named:
        return None
    return max(named, key=lambda r: (parse_utc(r.extracted_at), r.review_id)).product_name


def _product_report(
    product_id: str, current: Sequence[ProductFeedback], previous: Sequence[ProductFeedback]
) -> ProductReport:
    now_negative = _mentions(current, "negative")
    before_negative = _mentions(previous, "negative")
    issues = _issues(now_negative, before_negative)
    issue_mentions = sum(i.count for i in issues)
    previous_mentions = sum(len(m) for m in before_negative.values())
    ratings = [r.rating for r in current if r.rating is not None]
    return ProductReport(
        product_id=product_id,
        product_name=_product_name(current) or _product_name(previous),
        reviews=len(current),
        mean_rating=round(sum(ratings) / len(ratings), 2) if ratings else None,
        issue_mentions=issue_mentions,
        praise_mentions=sum(len(m) for m in _mentions(current, "positive").values()),
        neutral_mentions=sum(len(m) for m in _mentions(current, "neutral").values()),
        issues=issues[:MAX_ISSUES],
        more_issues=max(0, len(issues) - MAX_ISSUES),
        praise=_praise(_mentions(current, "positive")),
        change=ProductChange(
            previous_reviews=len(previous),
            reviews_delta=len(current) - len(previous),
            previous_issue_mentions=previous_mentions,
            issue_mentions_delta=issue_mentions - previous_mentions,
            new_issues=sorted(a for a in now_negative if a not in before_negative),
            resolved_issues=sorted(a for a in before_negative if a not in now_negative),
        ),
    )


def build_insights_report(
    current: Iterable[ProductFeedback],
    previous: Iterable[ProductFeedback],
    *,
    period: ReportPeriod,
    previous_period: ReportPeriod,
) -> InsightsReport:
    """Every product seen in either period; one that went quiet is listed with its resolved issues."""
    now = _latest_per_review(current)
    before = _latest_per_review(previous)
    by_product_now: dict[str, list[ProductFeedback]] = defaultdict(list)
    by_product_before: dict[str, list[ProductFeedback]] = defaultdict(list)
    for record in now:
        by_product_now[record.product_id].append(record)
    for record in before:
        by_product_before[record.product_id].append(record)
    products = [
        _product_report(pid, by_product_now.get(pid, []), by_product_before.get(pid, []))
        for pid in sorted(set(by_product_now) | set(by_product_before))
    ]
    products.sort(key=lambda p: (-p.issue_mentions, -p.reviews, p.product_id))
    return InsightsReport(
        period=period,
        previous_period=previous_period,
        products=products,
        totals=ReportTotals(
            products=sum(1 for p in products if p.reviews),
            reviews=len(now),
            previous_reviews=len(before),
            issue_mentions=sum(p.issue_mentions for p in products),
            praise_mentions=sum(p.praise_mentions for p in products),
        ),
        extractors=sorted({record.extractor for record in now}),
    )


# ------------------------------------------------------------------------- the report job


def report_request(event: object) -> ReportRequest:
    if not isinstance(event, dict):
        raise InvalidInputError("the report job takes a scheduled event or a JSON object")
    try:
        request = ReportRequest.model_validate(event)
        for moment in (request.time, request.period_end):
            if moment is not None:
                parse_utc(moment)
    except (ValidationError, ValueError):
        # Name the rule, not the value: the fields are ours, but keep error text input-free.
        raise InvalidInputError(
            "the report request needs ISO 8601 times in 'time'/'period_end' and 1 to 92 'period_days'"
        ) from None
    return request


def report_end(request: ReportRequest, *, now: datetime) -> datetime:
    """``period_end`` as given, else the scheduled ``time`` (else now) floored to the hour."""
    if request.period_end is not None:
        return parse_utc(request.period_end)
    moment = parse_utc(request.time) if request.time is not None else now.astimezone(UTC)
    return moment.replace(minute=0, second=0, microsecond=0)


def report_keys(period: ReportPeriod) -> tuple[str, str]:
    """``reports/<period end, compact>/insights.md`` and ``.json``: one folder per period, so a
    re-run of a period overwrites its own report and never another's."""
    stamp = period.end.replace("-", "").replace(":", "")
    return f"reports/{stamp}/insights.md", f"reports/{stamp}/insights.json"


def read_insights_report(
    reader: InsightReader, *, period: ReportPeriod, previous_period: ReportPeriod
) -> InsightsReport:
    """The report of ``period`` against ``previous_period`` from what the table holds.

    Products come from their markers (only those active since the previous period began), then
    one key-range read per product covers both periods; ``split_by_period`` sorts the records.
    """
    current: list[ProductFeedback] = []
    previous: list[ProductFeedback] = []
    unreadable = 0
    for product_id in reader.products(active_since=previous_period.start):
        records, skipped = reader.feedback(product_id, start=previous_period.start, end=period.end)
        now, before = split_by_period(records, period, previous_period)
        current += now
        previous += before
        unreadable += skipped
    report = build_insights_report(current, previous, period=period, previous_period=previous_period)
    report.totals.unreadable = unreadable
    return report
