"""``reviewflow eval``: candidates compared on a golden set, in the local pipeline.

Checks every argument before anything boots (a refusal is one ``CliError`` line and exit status
2), runs the evaluation workflow through ``LocalEvaluations``, prints a comparison table, keeps
report.json, report.md and chart.svg in the run folder (and ``--out``), and with ``--baseline``
exits 1 when ``compare_to_baseline`` reports a regression. docs/evaluation.md has the details.
"""

from __future__ import annotations

import argparse
import logging
import re
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from reviewflow.models.evaluation import Candidate
from reviewflow.models.evaluation_report import EvaluationReport
from reviewflow_local.cli_checks import CliError, new_run_folder, project_root
from reviewflow_local.commands import checked_workdir, start_pipeline
from reviewflow_local.evaluation_console import EvaluationProgress, comparison_table
from reviewflow_local.evaluation_runs import LocalEvaluations, parse_candidate
from reviewflow_local.model_checks import check_model_server
from reviewflow_local.model_choice import ModelChoice, add_model_options, resolve_model_choice

DEFAULT_DATASET = Path("evals") / "golden" / "v1.jsonl"
DEFAULT_CANDIDATES = (
    "template-v1=local/template-responder@v1",
    "template-v2=local/template-responder@v2",
)
SUMMARY = "evaluate candidates (a model and a prompt version) on a golden set"
DESCRIPTION = (
    "Run every case of a golden set through each candidate's review steps in the local pipeline's "
    "evaluation workflow, judge the replies, and print a comparison of the candidates. Exits 0 when "
    "the evaluation completed (and, with --baseline, did not regress), 1 when it failed or "
    "regressed, 2 when the command was refused before it started."
)


def add_parser(sub: Any, *, seconds: Callable[[str], float]) -> argparse.ArgumentParser:
    """The ``eval`` subcommand; ``seconds`` is the CLI's positive-seconds value type."""
    command: argparse.ArgumentParser = sub.add_parser("eval", help=SUMMARY, description=DESCRIPTION)
    command.add_argument(
        "--dataset",
        type=Path,
        help=f"golden set, one GoldenCase per JSON line, evals/README.md (default: {DEFAULT_DATASET})",
    )
    command.add_argument(
        "--candidate",
        action="append",
        metavar="NAME=MODEL_ID@PROMPT_VERSION",
        help="a candidate to evaluate; repeat for more. With --llm local the only model is "
        f"local/template-responder at v1 or v2 (default: {' and '.join(DEFAULT_CANDIDATES)}); with "
        "--llm openai or bedrock any model the provider serves, and local/template-responder still "
        "answers from templates (default: template-v2, and --model at response prompts v1 and v2)",
    )
    command.add_argument(
        "--judge",
        choices=["rule", "llm"],
        default="rule",
        help="who judges the replies; llm needs a model, which the local runtime lacks "
        "(default: %(default)s)",
    )
    command.add_argument(
        "--baseline",
        type=Path,
        help="exit 1 when a candidate regressed against this report.json (default: no comparison)",
    )
    command.add_argument(
        "--out",
        type=Path,
        help="also copy report.json, report.md and chart.svg into this folder (default: the run folder only)",
    )
    command.add_argument(
        "--timeout",
        type=seconds,
        default=1800.0,
        help="stop waiting for the evaluation after this many seconds, then exit 1 (default: %(default)g)",
    )
    command.add_argument(
        "--workdir",
        type=Path,
        help="where each run gets its folder (runs/<time>-eval/) for the report and function logs "
        "(default: .reviewflow in the project)",
    )
    command.add_argument(
        "--resynth",
        action="store_true",
        help="synthesize the CDK app even if the cached template is current (default: use the cache)",
    )
    add_model_options(command)
    command.set_defaults(handler=evaluate, command_parser=command)
    return command


@dataclass(frozen=True)
class Plan:
    """What the arguments name, checked."""

    dataset: Path
    text: str
    case_count: int
    candidates: list[Candidate]
    baseline: EvaluationReport | None
    models: ModelChoice = field(default_factory=ModelChoice)


def evaluate(args: argparse.Namespace) -> int:
    """The command: 0 when the evaluation completed and did not regress, 1 otherwise."""
    # moto warns that it ignores ToleratedFailureCountPath (every child execution catches its errors).
    logging.getLogger("moto").setLevel(logging.ERROR)
    root = project_root()
    plan = plan_from(args, root)
    workdir = checked_workdir(args, root)
    if args.out is not None and args.out.exists() and not args.out.is_dir():
        raise CliError(f"--out {args.out} is a file; give a folder for report.json, report.md and chart.svg")
    return run_plan(args, plan, root, workdir)


def plan_from(args: argparse.Namespace, root: Path) -> Plan:
    from reviewflow.domain.evaluation.dataset import DatasetError, parse_dataset

    if args.judge == "llm":
        raise CliError("--judge llm needs a language model and the local runtime has none; use --judge rule")
    dataset: Path = args.dataset or root / DEFAULT_DATASET
    try:
        text = dataset.read_text(encoding="utf-8")
        cases = parse_dataset(text, source=dataset.name)
    except (OSError, UnicodeDecodeError) as exc:
        raise CliError(
            f"cannot read the dataset {dataset} ({getattr(exc, 'strerror', None) or exc})"
        ) from None
    except DatasetError as exc:
        first = exc.problems[0] if exc.problems else "no cases"
        raise CliError(
            f"{dataset}: {len(exc.problems)} problem(s), the first: {first}; see evals/README.md"
        ) from None
    models = resolve_model_choice(args)
    try:
        specs = args.candidate or default_candidates(models)
        candidates = [parse_candidate(spec) for spec in specs]
    except ValueError as exc:
        raise CliError(str(exc)) from None
    _check_candidates(candidates, models, root)
    return Plan(dataset, text, len(cases), candidates, _baseline(args.baseline), models)


def default_candidates(models: ModelChoice) -> tuple[str, ...]:
    """Offline the two template versions; with a model, the template against the model at v1 and v2."""
    if models.llm == "local" or not models.model:
        return DEFAULT_CANDIDATES
    slug = re.sub(r"[^a-z0-9._-]+", "-", models.model.lower()).strip("-._")[:56] or "model"
    return (
        DEFAULT_CANDIDATES[1],
        f"{slug}-v1={models.model}@v1",
        f"{slug}-v2={models.model}@v2",
    )


def _check_candidates(candidates: list[Candidate], models: ModelChoice, root: Path) -> None:
    from reviewflow.providers.template_responder import MODEL_ID, VERSIONS

    names = [candidate.name for candidate in candidates]
    if len(set(names)) != len(names):
        raise CliError("--candidate: the candidates' names must be distinct")
    for candidate in candidates:
        if candidate.model_id == MODEL_ID:
            if candidate.prompt_version not in VERSIONS:
                raise CliError(
                    f"--candidate {candidate.name}: {MODEL_ID} answers at {' or '.join(VERSIONS)} only"
                )
        elif models.llm == "local":
            raise CliError(
                f"--candidate {candidate.name}: with --llm local the only model is {MODEL_ID} at "
                f"{' or '.join(VERSIONS)}; pass --llm openai or --llm bedrock to evaluate "
                f"{candidate.model_id} (docs/evaluation.md)"
            )
        else:
            folder = root / "functions" / "prompts" / "response"
            if not (folder / f"{candidate.prompt_version}.system.txt").is_file():
                raise CliError(
                    f"--candidate {candidate.name}: prompts/response/{candidate.prompt_version}.*.txt "
                    "does not exist"
                )
    if models.llm == "openai" and models.base_url:
        wanted = [c.model_id for c in candidates if c.model_id != MODEL_ID]
        check_model_server(models.base_url, list(dict.fromkeys(wanted)))


def _baseline(path: Path | None) -> EvaluationReport | None:
    if path is None:
        return None
    try:
        return EvaluationReport.model_validate_json(path.read_bytes())
    except OSError as exc:
        raise CliError(f"cannot read the baseline {path} ({exc.strerror or exc})") from None
    except ValidationError:
        raise CliError(f"the baseline {path} is not a report.json of reviewflow eval") from None


def run_plan(args: argparse.Namespace, plan: Plan, root: Path, workdir: Path) -> int:
    from reviewflow.domain.evaluation.report import compare_to_baseline
    from reviewflow_local.faults import FaultPlan

    started = time.perf_counter()
    with (
        new_run_folder(workdir, "eval") as folder,
        (folder.path / "lambda.log").open("a", encoding="utf-8") as log,
    ):
        # No injected faults, whatever REVIEWFLOW_FAULTS says: a gate must not fail by chance.
        pipeline = start_pipeline(args, root, folder, log, models=plan.models, faults=FaultPlan())
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
                why = (completion.error_type if completion else None) or status
                print(
                    f"reviewflow: the evaluation did not complete ({why}); see {folder.path / 'lambda.log'}",
                    file=sys.stderr,
                )
                return 1
            report = evaluations.download_report(run, [folder.path, *([args.out] if args.out else [])])
        finally:
            pipeline.stop()
    print(comparison_table(report))
    elapsed = time.perf_counter() - started
    print(f"\n{run.pairs} case results in {elapsed:.1f} s; report: {folder.path / 'report.md'}")
    if plan.baseline is None:
        return 0
    regressions = compare_to_baseline(report, plan.baseline)
    if regressions:
        print(f"Regressions against {args.baseline}:\n  " + "\n  ".join(regressions))
        return 1
    print(f"No regression against {args.baseline} ({plan.baseline.evaluation_id}).")
    return 0
