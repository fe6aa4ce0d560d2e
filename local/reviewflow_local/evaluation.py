"""``reviewflow eval``: candidates compared on a golden set, in the local pipeline.

Checks every argument before anything starts (a usage error is one line and exit code 2), runs
the evaluation workflow through ``LocalEvaluations``, prints a comparison table, downloads
report.json, report.md and chart.svg into the run folder (and ``--out``), and with ``--baseline``
exits 1 when ``compare_to_baseline`` reports a regression. docs/evaluation.md has the details.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from reviewflow.models.evaluation import Candidate
from reviewflow_local.evaluation_console import EvaluationProgress, comparison_table
from reviewflow_local.evaluation_runs import LocalEvaluations, UsageError, parse_candidate

DEFAULT_DATASET = Path("evals") / "golden" / "v1.jsonl"
DEFAULT_CANDIDATES = (
    "template-v1=local/template-responder@v1",
    "template-v2=local/template-responder@v2",
)


def add_parser(sub: Any) -> argparse.ArgumentParser:
    command: argparse.ArgumentParser = sub.add_parser(
        "eval", help="evaluate candidates (model x prompt version) on a golden set in the local pipeline"
    )
    command.add_argument("--dataset", type=Path, help=f"golden set, JSON lines (default: {DEFAULT_DATASET})")
    command.add_argument(
        "--candidate",
        action="append",
        metavar="NAME=MODEL_ID@PROMPT_VERSION",
        help="a candidate to evaluate; repeat for more (default: " + " and ".join(DEFAULT_CANDIDATES) + ")",
    )
    command.add_argument("--judge", choices=["rule", "llm"], default="rule", help="who judges the replies")
    command.add_argument("--judge-model", help="model id of the llm judge")
    command.add_argument("--baseline", type=Path, help="exit 1 when the report regresses against this one")
    command.add_argument("--out", type=Path, help="also write report.json, report.md and chart.svg here")
    command.add_argument("--timeout", type=float, default=1800.0, help="give up after this many seconds")
    command.add_argument("--workdir", type=Path, help="where runs are kept (default: .reviewflow)")
    command.add_argument("--resynth", action="store_true", help="synthesize even if the template is current")
    command.set_defaults(handler=evaluate)
    return command


def evaluate(args: argparse.Namespace) -> int:
    """The command: 0 when the evaluation completed (and did not regress), 1 if not, 2 for usage."""
    # moto warns that it ignores ToleratedFailureCountPath (every child here catches its errors).
    logging.getLogger("moto").setLevel(logging.ERROR)
    try:
        plan = plan_from(args)
    except UsageError as exc:
        print(f"reviewflow eval: {exc}", file=sys.stderr)
        return 2
    return run_plan(args, plan)


@dataclass(frozen=True)
class Plan:
    dataset: Path
    text: str
    case_count: int
    candidates: list[Candidate]
    baseline: dict[str, Any] | None


def plan_from(args: argparse.Namespace) -> Plan:
    """Everything the arguments name, checked before anything starts."""
    from reviewflow.domain.evaluation.dataset import DatasetError, parse_dataset
    from reviewflow_local.synth import find_project_root

    if args.judge == "llm":
        raise UsageError(
            "--judge llm needs a language model, and the local runtime has none: use --judge rule"
        )
    dataset = args.dataset or find_project_root() / DEFAULT_DATASET
    try:
        text = dataset.read_text(encoding="utf-8")
        cases = parse_dataset(text)
    except OSError as exc:
        raise UsageError(f"cannot read the dataset {dataset}: {exc.strerror or exc}") from None
    except DatasetError as exc:
        raise UsageError(f"{dataset}: {' '.join(str(exc).split())}") from None
    candidates = [parse_candidate(spec) for spec in args.candidate or DEFAULT_CANDIDATES]
    _check_offline(candidates)
    return Plan(dataset, text, len(cases), candidates, _baseline(args.baseline))


def _check_offline(candidates: list[Candidate]) -> None:
    from reviewflow.providers.template_responder import MODEL_ID, VERSIONS

    names = [candidate.name for candidate in candidates]
    if len(set(names)) != len(names):
        raise UsageError("candidate names must be distinct")
    for candidate in candidates:
        if candidate.model_id != MODEL_ID or candidate.prompt_version not in VERSIONS:
            raise UsageError(
                f"--candidate {candidate.name}: offline, the only model is {MODEL_ID} at "
                f"{' or '.join(VERSIONS)} (docs/evaluation.md: evaluating models on AWS)"
            )


def _baseline(path: Path | None) -> dict[str, Any] | None:
    if path is None:
        return None
    try:
        baseline: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise UsageError(f"cannot read the baseline {path}: {exc.strerror or exc}") from None
    except json.JSONDecodeError as exc:
        raise UsageError(f"the baseline {path} is not JSON ({exc.msg}, line {exc.lineno})") from None
    return baseline


def run_plan(args: argparse.Namespace, plan: Plan) -> int:
    from reviewflow.domain.evaluation.report import compare_to_baseline
    from reviewflow_local.commands import run_dir, start_pipeline
    from reviewflow_local.faults import FaultPlan
    from reviewflow_local.synth import find_project_root

    folder = run_dir(args, find_project_root(), "eval")
    started = time.perf_counter()
    with (folder / "lambda.log").open("a", encoding="utf-8") as log:
        # No injected faults, whatever REVIEWFLOW_FAULTS says: a gate must not fail by chance.
        pipeline = start_pipeline(args, find_project_root(), folder, log, faults=FaultPlan())
        try:
            evaluations = LocalEvaluations(pipeline)
            run = evaluations.start(
                plan.text,
                candidates=plan.candidates,
                case_count=plan.case_count,
                dataset_name=plan.dataset.name,
            )
            print(
                f"reviewflow: evaluation {run.evaluation_id}: {run.pairs} case results to write",
                file=sys.stderr,
            )
            with EvaluationProgress(run.pairs) as progress:
                status = evaluations.wait(run, args.timeout, progress.show)
            completion = evaluations.completion(run)
            if status != "SUCCEEDED" or completion is None or completion.status != "completed":
                why = completion.error_type if completion else status
                print(
                    f"reviewflow eval: the evaluation did not complete ({why}); see {folder / 'lambda.log'}",
                    file=sys.stderr,
                )
                return 1
            report = evaluations.download_report(run, [folder, *([args.out] if args.out else [])])
        finally:
            pipeline.stop()
    print(comparison_table(report))
    print(
        f"\n{run.pairs} case results in {time.perf_counter() - started:.1f} s; report: {folder / 'report.md'}"
    )
    if plan.baseline is not None:
        regressions = compare_to_baseline(report, plan.baseline)
        if regressions:
            print("Regressions against " + str(args.baseline) + ":\n  " + "\n  ".join(map(str, regressions)))
            return 1
        print(f"No regression against {args.baseline}.")
    return 0
