"""``reviewflow insights``: the insights report of a local run, as Markdown with a terminal chart.

``reviewflow run`` ends by invoking the deployed report job and saving what it wrote
(``insights.md`` and ``insights.json``) in its run folder; this command renders that JSON with
the job's own Markdown renderer, then charts each product's top issues this period against the
previous one (plotext). It reads files only: nothing is deployed or posted.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import sys
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from reviewflow.models.insights_report import InsightsReport, IssueSummary, ProductReport
from reviewflow.presentation.insights_report import to_json, to_markdown
from reviewflow_local.cli_checks import CliError, project_root
from reviewflow_local.insights_local import JSON_FILE

SUMMARY = "show the product insights report of a local run, with a chart"
DESCRIPTION = (
    "Render the insights report that `reviewflow run` saved in its run folder (the deployed report "
    "job's JSON) as Markdown, followed by a bar chart of each product's top issues this period and "
    "the previous one. SOURCE is a run folder or an insights.json (default: the newest run folder "
    "under <workdir>/runs that has one)."
)
#: Issues each product's chart shows (the Markdown lists up to the report's own limit).
CHART_ISSUES = 8
CHART_WIDTH = 72


def add_parser(sub: Any) -> argparse.ArgumentParser:
    command: argparse.ArgumentParser = sub.add_parser("insights", help=SUMMARY, description=DESCRIPTION)
    command.add_argument(
        "source", nargs="?", type=Path, metavar="SOURCE", help="a run folder or an insights.json"
    )
    command.add_argument(
        "--workdir",
        type=Path,
        help="where runs/ is looked up when SOURCE is not given (default: .reviewflow in the project)",
    )
    command.add_argument(
        "--format",
        choices=["markdown", "json"],
        default="markdown",
        help="markdown (with the chart) or the report's JSON, as the job wrote it (default: %(default)s)",
    )
    command.add_argument("--no-chart", action="store_true", help="the Markdown only, without the chart")
    command.set_defaults(handler=show, command_parser=command)
    return command


def show(args: argparse.Namespace) -> int:
    path = find_report(args.source, args.workdir)
    report = read_report(path)
    if args.format == "json":
        sys.stdout.write(to_json(report))
        return 0
    sys.stdout.write(to_markdown(report))
    if not args.no_chart:
        sys.stdout.write("\n" + chart(report, color=sys.stdout.isatty()))
    print(f"\n(report: {path})", file=sys.stderr)
    return 0


def find_report(source: Path | None, workdir: Path | None) -> Path:
    if source is not None:
        path = source / JSON_FILE if source.is_dir() else source
        if not path.is_file():
            what = f"{source} has no {JSON_FILE}" if source.is_dir() else f"{source} does not exist"
            raise CliError(f"{what}; pass a run folder of `reviewflow run` or its {JSON_FILE}")
        return path
    runs = (workdir or project_root() / ".reviewflow") / "runs"
    found = sorted(runs.glob(f"*/{JSON_FILE}"), key=lambda p: p.parent.name) if runs.is_dir() else []
    if not found:
        raise CliError(f"no run under {runs} has an insights report; run `reviewflow run` first")
    return found[-1]


def read_report(path: Path) -> InsightsReport:
    try:
        return InsightsReport.model_validate_json(path.read_bytes())
    except OSError as exc:
        raise CliError(f"cannot read {path} ({exc.strerror})") from None
    except ValidationError:
        raise CliError(f"{path} is not an insights report (schema insights-report/v1)") from None


def chart(report: InsightsReport, *, color: bool, width: int = CHART_WIDTH) -> str:
    """Per product with issues: its top issues by the reviews raising each this period, labelled
    with the previous period's count (one series, so it reads the same without colour)."""
    import plotext as plt

    sections = []
    for product in report.products:
        issues = product.issues[:CHART_ISSUES]
        if not issues:
            continue
        # plotext's simple charts print as they are drawn: take what they print.
        buffer = io.StringIO()
        with contextlib.redirect_stdout(buffer):
            plt.simple_bar(
                [_bar_label(issue) for issue in issues],
                [issue.count for issue in issues],
                width=width,
                title=f"{_title(product)}: reviews raising each issue",
            )
            plt.show()
        text = buffer.getvalue()
        sections.append(text if color else plt.uncolorize(text))
    if not sections:
        return "No issues to chart in this period.\n"
    return "\n".join(sections)


def _bar_label(issue: IssueSummary) -> str:
    return f"{issue.aspect} (new)" if issue.new else f"{issue.aspect} (was {issue.previous_count})"


def _title(product: ProductReport) -> str:
    return f"{product.product_name} ({product.product_id})" if product.product_name else product.product_id
