"""``reviewflow insights``: finds a run's report, renders it with its chart, refuses in one line."""

from __future__ import annotations

from pathlib import Path

import pytest

from reviewflow.domain.insights_report import build_insights_report, report_periods
from reviewflow.models.insights import LOCAL_EXTRACTOR_ID, Insight, ProductFeedback
from reviewflow.models.insights_report import InsightsReport
from reviewflow.presentation.insights_report import to_json, to_markdown
from reviewflow_local import cli, insights_cli


def _report() -> InsightsReport:
    from datetime import UTC, datetime, timedelta

    period, previous = report_periods(datetime(2026, 12, 7, 6, tzinfo=UTC), timedelta(days=7))

    def record(review_id: str, aspect: str, at: str) -> ProductFeedback:
        return ProductFeedback(
            review_id=review_id,
            product_id="kettle",
            product_name="Kettle",
            extracted_at=at,
            extractor=LOCAL_EXTRACTOR_ID,
            insights=[
                Insight(
                    aspect=aspect, polarity="negative", severity=3, suggestion="fix", evidence=f"bad {aspect}"
                )
            ],
        )

    now = [record("r1", "lid", "2026-12-03T00:00:00Z"), record("r2", "lid", "2026-12-04T00:00:00Z")]
    now.append(record("r3", "cord", "2026-12-04T00:00:00Z"))
    before = [record("p1", "lid", "2026-11-25T00:00:00Z")]
    return build_insights_report(now, before, period=period, previous_period=previous)


def _run_folder(root: Path, name: str, report: InsightsReport) -> Path:
    folder = root / "runs" / name
    folder.mkdir(parents=True)
    (folder / "insights.json").write_text(to_json(report), encoding="utf-8")
    return folder


def test_it_renders_the_newest_runs_report_with_a_chart(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    report = _report()
    _run_folder(
        tmp_path,
        "20261201T000000Z-run",
        build_insights_report([], [], period=report.period, previous_period=report.previous_period),
    )
    newest = _run_folder(tmp_path, "20261203T000000Z-run", report)
    assert cli.main(["insights", "--workdir", str(tmp_path)]) == 0
    out, err = capsys.readouterr()
    assert out.startswith(to_markdown(report))
    chart = out[len(to_markdown(report)) :]
    assert "Kettle (kettle): reviews raising each issue" in chart
    assert "lid (was 1)" in chart and "cord (new)" in chart
    assert "\x1b[" not in chart  # not a terminal: no colour codes
    assert str(newest / "insights.json") in err


def test_json_format_and_no_chart(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = _run_folder(tmp_path, "20261203T000000Z-run", _report())
    assert cli.main(["insights", str(folder), "--format", "json"]) == 0
    assert InsightsReport.model_validate_json(capsys.readouterr().out) == _report()
    assert cli.main(["insights", str(folder / "insights.json"), "--no-chart"]) == 0
    assert capsys.readouterr().out == to_markdown(_report())


def test_a_report_without_issues_says_there_is_nothing_to_chart() -> None:
    empty = _report().model_copy(update={"products": []})
    assert insights_cli.chart(empty, color=False) == "No issues to chart in this period.\n"


@pytest.mark.parametrize(
    ("make", "expected"),
    [
        (lambda root: ["insights", str(root / "nowhere.json")], "does not exist; pass a run folder"),
        (lambda root: ["insights", str(root)], "has no insights.json"),
        (lambda root: ["insights", "--workdir", str(root)], "no run under"),
        (lambda root: ["insights", str(_bad_json(root))], "is not an insights report"),
    ],
)
def test_a_missing_or_bad_report_is_one_line_and_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], make: object, expected: str
) -> None:
    argv = make(tmp_path)  # type: ignore[operator]
    assert cli.main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("reviewflow: ") and expected in err, err


def _bad_json(root: Path) -> Path:
    path = root / "insights.json"
    path.write_text('{"schema_version": "something else"}', encoding="utf-8")
    return path
