"""The insights report for people: Markdown (the S3 object, ``reviewflow insights``), a plain-text
email summary (what the product team's topic delivers) and the JSON for machines.

Renders only; every number and order comes from the report. Customer phrases are quoted verbatim
but escaped, so a review cannot add markup, links, headings or table cells to the report.
"""

from __future__ import annotations

from reviewflow.models.insights import LOCAL_EXTRACTOR_ID
from reviewflow.models.insights_report import InsightsReport, IssueSummary, ProductReport

#: Characters with a meaning in CommonMark/GFM inline text; each is backslash-escaped.
#: Only characters that start inline markup anywhere in a line: a phrase never starts a line here
#: (it follows a quote mark, ``**`` or ``## ``), so ``-``, ``+``, ``.`` and ``()`` stay as they are.
_MARKDOWN_PUNCTUATION = "\\`*_[]#|~"
_HTML = (("&", "&amp;"), ("<", "&lt;"), (">", "&gt;"))
EMAIL_ISSUES_PER_PRODUCT = 3
#: Products the email lists (the rest are in the full report): SNS messages stop at 256 KB.
EMAIL_PRODUCTS = 25


def to_json(report: InsightsReport) -> str:
    return report.model_dump_json(indent=2) + "\n"


def escape_markdown(text: str) -> str:
    """One line of literal text: whitespace collapsed, HTML and Markdown punctuation escaped."""
    flat = " ".join(text.split())
    for raw, safe in _HTML:
        flat = flat.replace(raw, safe)
    return "".join(f"\\{ch}" if ch in _MARKDOWN_PUNCTUATION else ch for ch in flat)


def _signed(value: int) -> str:
    """``+2``, ``-1``, ``±0``: a change always shows its sign."""
    return f"+{value}" if value > 0 else ("±0" if value == 0 else str(value))


def _title(product: ProductReport) -> str:
    if product.product_name:
        return f"{product.product_name} ({product.product_id})"
    return product.product_id


def _trend(issue: IssueSummary) -> str:
    """``new``, or the change with the previous count: ``+2 (was 1)``, ``±0 (was 3)``."""
    if issue.new:
        return "new"
    return f"{_signed(issue.delta)} (was {issue.previous_count})"


def _issue_lines(rank: int, issue: IssueSummary) -> list[str]:
    lines = [
        f"{rank}. **{escape_markdown(issue.aspect)}**: {issue.count} "
        f"{'review' if issue.count == 1 else 'reviews'}, severity mean {issue.mean_severity:.2f} "
        f"(max {issue.max_severity}), {_trend(issue)}"
    ]
    lines += [f"    - “{escape_markdown(phrase)}”" for phrase in issue.evidence]
    if issue.suggestions:
        lines.append(f"    - suggested: {'; '.join(escape_markdown(s) for s in issue.suggestions)}")
    return lines


def _product_section(product: ProductReport) -> list[str]:
    change = product.change
    rating = f"{product.mean_rating:.2f}" if product.mean_rating is not None else "n/a"
    lines = [
        f"## {escape_markdown(_title(product))}",
        "",
        f"- Reviews: {product.reviews} ({_signed(change.reviews_delta)} vs {change.previous_reviews}), "
        f"mean rating {rating}",
        f"- Issue mentions: {product.issue_mentions} ({_signed(change.issue_mentions_delta)} vs "
        f"{change.previous_issue_mentions}); praise: {product.praise_mentions}; "
        f"neutral: {product.neutral_mentions}",
    ]
    if change.new_issues:
        lines.append(f"- New issues: {', '.join(escape_markdown(a) for a in change.new_issues)}")
    if change.resolved_issues:
        lines.append(f"- No longer raised: {', '.join(escape_markdown(a) for a in change.resolved_issues)}")
    lines += ["", "### Top issues", ""]
    if product.issues:
        for rank, issue in enumerate(product.issues, start=1):
            lines += _issue_lines(rank, issue)
        if product.more_issues:
            lines.append(f"\n_…and {product.more_issues} more issues with fewer mentions._")
    else:
        lines.append("No issues raised in this period.")
    lines += ["", "### Praise", ""]
    if product.praise:
        for praise in product.praise:
            quote = f": “{escape_markdown(praise.evidence[0])}”" if praise.evidence else ""
            lines.append(f"- **{escape_markdown(praise.aspect)}** ({praise.count}){quote}")
    else:
        lines.append("No praise in this period.")
    return [*lines, ""]


def to_markdown(report: InsightsReport) -> str:
    totals = report.totals
    lines = [
        "# Product insights report",
        "",
        f"Period {report.period.start} to {report.period.end} (previous: "
        f"{report.previous_period.start} to {report.previous_period.end}). "
        f"Schema {report.schema_version}.",
        "",
        f"Extracted by: {_extractors(report)}.",
        "",
        f"- Products with reviews: {totals.products}",
        f"- Reviews: {totals.reviews} ({_signed(totals.reviews - totals.previous_reviews)} vs "
        f"{totals.previous_reviews})",
        f"- Issue mentions: {totals.issue_mentions}; praise mentions: {totals.praise_mentions}",
        "",
    ]
    if totals.unreadable:
        lines += [f"_{totals.unreadable} stored items could not be read and were left out._", ""]
    if not report.products:
        lines += ["No product feedback was extracted in this period or the previous one.", ""]
    for product in report.products:
        lines += _product_section(product)
    return "\n".join(lines).rstrip("\n") + "\n"


def _extractors(report: InsightsReport) -> str:
    names = [
        f"{name} (the offline aspect lexicon, not a model)" if name == LOCAL_EXTRACTOR_ID else name
        for name in report.extractors
    ]
    return ", ".join(names) or "nobody (no feedback in this period)"


def email_subject(report: InsightsReport) -> str:
    """At most 100 characters, as SNS requires of a subject."""
    day = report.period.end[:10]
    return f"reviewflow insights to {day}: {report.totals.issue_mentions} issue mentions"[:100]


def email_summary(report: InsightsReport, *, report_location: str | None = None) -> str:
    """Plain text: the top issues of each product with one quote each, and where the full report is."""
    totals = report.totals
    lines = [
        f"Product insights, {report.period.start} to {report.period.end}",
        f"{totals.reviews} reviews ({_signed(totals.reviews - totals.previous_reviews)} on the previous "
        f"period), {totals.issue_mentions} issue mentions, {totals.praise_mentions} praise mentions.",
        f"Extracted by: {_extractors(report)}.",
        "",
    ]
    if not report.products:
        lines.append("No product feedback was extracted in this period or the previous one.")
    for product in report.products[:EMAIL_PRODUCTS]:
        lines.append(f"{_title(product)}: {product.reviews} reviews, {product.issue_mentions} issue mentions")
        for issue in product.issues[:EMAIL_ISSUES_PER_PRODUCT]:
            quote = f' - "{" ".join(issue.evidence[0].split())}"' if issue.evidence else ""
            lines.append(
                f"  * {issue.aspect}: {issue.count} ({_trend(issue)}), "
                f"max severity {issue.max_severity}{quote}"
            )
        if product.change.resolved_issues:
            lines.append(f"  no longer raised: {', '.join(product.change.resolved_issues)}")
        lines.append("")
    if len(report.products) > EMAIL_PRODUCTS:
        lines += [f"...and {len(report.products) - EMAIL_PRODUCTS} more products in the full report.", ""]
    if report.totals.unreadable:
        lines += [f"{report.totals.unreadable} stored items could not be read and were left out.", ""]
    if report_location:
        lines.append(f"Full report: {report_location}")
    return "\n".join(lines).rstrip("\n") + "\n"
