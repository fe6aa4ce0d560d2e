"""``reviewflow run`` on the shipped samples, deciding every pending review over HTTP.

Runs the command in a child process, exactly as a user would (the console script calls
``reviewflow_local.cli:main``), and checks one outcome per review in ``--out``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from reviewflow.contracts import OUTCOME_SOURCE, OutcomeType

REPO = Path(__file__).resolve().parents[2]
SHORT = {
    OutcomeType.RESPONSE_CREATED: "created",
    OutcomeType.HARMFUL_CONTENT: "harmful",
    OutcomeType.GENERATION_FAILED: "failed",
}


def test_run_on_the_samples_reaches_one_outcome_per_review(project_root: Path, tmp_path: Path) -> None:
    samples = project_root / "samples" / "reviews.jsonl"
    reviews = [json.loads(line) for line in samples.read_text(encoding="utf-8").splitlines() if line.strip()]
    assert len(reviews) >= 20
    out = tmp_path / "outcomes.jsonl"
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(REPO / "local"), str(REPO / "functions")]),
    }
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "reviewflow_local.cli",
            "run",
            str(samples),
            "--decide",
            "approve",
            "--out",
            str(out),
            "--workdir",
            str(tmp_path / "work"),
            "--timeout",
            "240",
        ],
        cwd=project_root,
        env=env,
        capture_output=True,
        text=True,
        timeout=400,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]

    events = [json.loads(line) for line in out.read_text().splitlines()]
    by_review = {e["detail"]["review_id"]: e for e in events}
    assert sorted(by_review) == sorted(r["review_id"] for r in reviews)
    assert len(events) == len(reviews)
    for event in events:
        assert event["source"] == OUTCOME_SOURCE
        assert {"id", "time", "detail-type", "detail", "resources"} <= set(event)

    outcome = {
        rid: SHORT[e["detail-type"]] + (f":{e['detail']['reason']}" if "reason" in e["detail"] else "")
        for rid, e in by_review.items()
    }
    # Every path the samples are written to exercise (see samples/reviews.jsonl).
    assert outcome["rev-1001"] == "created"  # safe, positive
    assert outcome["rev-1004"] == "created"  # safe, negative
    assert outcome["rev-1008"] == "harmful" and outcome["rev-1009"] == "harmful"
    assert outcome["rev-1010"] == "created"  # uncertain review, approved by --decide approve
    assert outcome["rev-1012"] == "created"  # long, several Comprehend-sized segments
    assert outcome["rev-1013"] == "created" and outcome["rev-1014"] == "created"  # German, French: a person
    assert outcome["rev-1015"] == "created"  # prompt injection answered by the template, no refund
    assert "refund" not in by_review["rev-1015"]["detail"]["response_text"].lower()
    assert outcome["rev-1017"] == "created"  # uncertain reply, approved
    assert outcome["rev-1018"] == "failed:response_toxic"
    assert outcome["rev-1019"] == "failed:invalid_review" and outcome["rev-1020"] == "failed:invalid_review"
    assert by_review["rev-1012"]["detail"]["review_toxicity"]["segments"] >= 4
    # A person decided first at the stage that was unsure (non-English replies get a second look too).
    for review_id, first_stage in {
        "rev-1010": "REVIEW",
        "rev-1013": "REVIEW",
        "rev-1017": "RESPONSE",
    }.items():
        decisions = by_review[review_id]["detail"]["human_decisions"]
        assert decisions and decisions[0]["stage"] == first_stage
        assert {d["decision"] for d in decisions} == {"APPROVED"}
    assert not by_review["rev-1001"]["detail"].get("human_decisions")

    assert f"{len(reviews)}/{len(reviews)} reviews reached an outcome" in result.stdout
    # One email per human decision, each decided through its link.
    emails = list((tmp_path / "work").rglob("*.eml"))
    assert len(emails) == sum(len(e["detail"].get("human_decisions", [])) for e in events) >= 5

    # The run ends with the deployed report job; its report is in the run folder, and
    # `reviewflow insights` renders it with its chart.
    (report_file,) = (tmp_path / "work").rglob("insights.json")
    report = json.loads(report_file.read_text(encoding="utf-8"))
    # The insight branch runs beside the reply for every review let through, whatever becomes of
    # the reply (rev-1018's toxic reply fails, its review's feedback still counts).
    answered = {rid for rid, short in outcome.items() if short not in ("harmful", "failed:invalid_review")}
    assert report["schema_version"] == "insights-report/v1"
    assert report["extractors"] == ["local/aspect-lexicon"]
    assert 0 < report["totals"]["reviews"] <= len(answered)
    assert f"Insights report: {report_file.with_suffix('.md')}" in result.stdout
    shown = subprocess.run(
        [sys.executable, "-m", "reviewflow_local.cli", "insights", str(report_file.parent)],
        cwd=project_root,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.startswith("# Product insights report")
    assert report_file.with_suffix(".md").read_text(encoding="utf-8") in shown.stdout
    assert "reviews raising each issue" in shown.stdout and "\x1b[" not in shown.stdout  # chart, no colour
