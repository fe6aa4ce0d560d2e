"""The evaluation workflow of the local pipeline, driven as a user on AWS would drive it.

``LocalEvaluations`` uploads the dataset to the stack's bucket, starts the state machine with an
``EvaluationRequest``, counts the results appearing under ``results/<evaluation_id>/``, waits for
the execution, reads the ``EVALUATION_COMPLETED`` event (through a rule and queue of its own, as
the outcome tap does for review outcomes) and downloads the report. ``reviewflow eval``
(``evaluation.py``), the workflow tests and the least-privilege test drive it.
"""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from reviewflow.contracts import EVALUATION_COMPLETED, OUTCOME_SOURCE
from reviewflow.models.evaluation import Candidate, CaseResult, EvaluationRequest, JudgeName
from reviewflow.models.evaluation_report import EvaluationReport
from reviewflow.models.evaluation_steps import EvaluationCompleted, report_keys, results_prefix
from reviewflow_local.deployment import LocalPipelineError
from reviewflow_local.pipeline import LocalPipeline

COMPLETION_RULE = "reviewflow-local-evaluation-tap"
COMPLETION_QUEUE = "reviewflow-local-evaluations"
POLL_SECONDS = 0.25
REPORT_FILES = {"json_key": "report.json", "markdown_key": "report.md", "svg_key": "chart.svg"}


def parse_candidate(text: str) -> Candidate:
    """``NAME=MODEL_ID@PROMPT_VERSION`` -> a Candidate (the model id may itself hold ``@``)."""
    name, equals, rest = text.partition("=")
    model_id, at, version = rest.rpartition("@")
    if not (equals and at and name and model_id and version):
        raise ValueError(f"--candidate {text!r}: expected NAME=MODEL_ID@PROMPT_VERSION")
    try:
        return Candidate(name=name, model_id=model_id, prompt_version=version)
    except ValidationError as exc:
        fields = ", ".join(str(error["loc"][0]) for error in exc.errors(include_input=False))
        raise ValueError(
            f"--candidate {text!r}: invalid {fields} (a name is lower-case letters, digits, '.', '_' "
            "or '-'; a prompt version letters, digits, '_' or '-')"
        ) from None


def completion_pattern(execution_arn_prefix: str) -> dict[str, Any]:
    """Exactly the events the evaluation workflow's ``PublishEvaluationCompleted`` puts."""
    return {
        "source": [OUTCOME_SOURCE],
        "detail-type": [EVALUATION_COMPLETED],
        "detail": {"execution_id": [{"prefix": execution_arn_prefix}]},
    }


@dataclass(frozen=True)
class EvaluationRun:
    """One started execution of the evaluation workflow."""

    evaluation_id: str
    execution_arn: str
    candidates: list[Candidate]
    case_count: int

    @property
    def pairs(self) -> int:
        """How many case results the run writes: one per case and candidate."""
        return self.case_count * len(self.candidates)


class LocalEvaluations:
    """The evaluation workflow of a started ``LocalPipeline``."""

    def __init__(self, pipeline: LocalPipeline) -> None:
        self.pipeline = pipeline
        resources = pipeline.resources
        if not (resources.evaluation_state_machine_arn and resources.evaluation_bucket):
            raise LocalPipelineError("the deployed template has no evaluation workflow and bucket")
        self.state_machine_arn = resources.evaluation_state_machine_arn
        self.bucket = resources.evaluation_bucket
        self._queue_url = ""
        self._completions: dict[str, dict[str, Any]] = {}

    def start(
        self,
        dataset: str,
        *,
        candidates: list[Candidate],
        case_count: int,
        dataset_name: str = "dataset.jsonl",
        judge: JudgeName = "rule",
        judge_model_id: str | None = None,
        evaluation_id: str | None = None,
    ) -> EvaluationRun:
        """Upload the dataset, then start the workflow with the request a user on AWS would send."""
        self._install_tap()
        evaluation_id = evaluation_id or new_evaluation_id()
        key = f"datasets/{evaluation_id}/{dataset_name}"
        self.pipeline.client("s3").put_object(Bucket=self.bucket, Key=key, Body=dataset.encode("utf-8"))
        request = EvaluationRequest(
            evaluation_id=evaluation_id,
            dataset={"bucket": self.bucket, "key": key},  # type: ignore[arg-type]
            candidates=candidates,
            judge=judge,
            judge_model_id=judge_model_id,
        )
        arn = self.pipeline.client("stepfunctions").start_execution(
            stateMachineArn=self.state_machine_arn, name=evaluation_id, input=request.model_dump_json()
        )["executionArn"]
        return EvaluationRun(evaluation_id, arn, candidates, case_count)

    def results_written(self, run: EvaluationRun) -> int:
        pages = (
            self.pipeline.client("s3")
            .get_paginator("list_objects_v2")
            .paginate(Bucket=self.bucket, Prefix=results_prefix(run.evaluation_id))
        )
        return sum(page.get("KeyCount", 0) for page in pages)

    def status(self, run: EvaluationRun) -> str:
        described = self.pipeline.client("stepfunctions").describe_execution(executionArn=run.execution_arn)
        return str(described["status"])

    def wait(
        self, run: EvaluationRun, timeout: float, progress: Callable[[int, int], None] | None = None
    ) -> str:
        """Poll until the execution ends (its status) or ``timeout`` passes (``TimeoutError``)."""
        deadline = time.monotonic() + timeout
        while (status := self.status(run)) == "RUNNING":
            if progress is not None:
                progress(self.results_written(run), run.pairs)
            if time.monotonic() > deadline:
                raise TimeoutError(f"evaluation {run.evaluation_id} still running after {timeout:.0f} s")
            time.sleep(POLL_SECONDS)
        if progress is not None:
            progress(self.results_written(run), run.pairs)
        return status

    def completion(self, run: EvaluationRun) -> EvaluationCompleted | None:
        """The run's ``EVALUATION_COMPLETED`` detail, if the workflow has put it on the bus."""
        sqs = self.pipeline.client("sqs")
        while messages := sqs.receive_message(QueueUrl=self._queue_url, MaxNumberOfMessages=10).get(
            "Messages", []
        ):
            for message in messages:
                event = json.loads(message["Body"])
                self._completions[str(event["detail"].get("execution_id"))] = event
                sqs.delete_message(QueueUrl=self._queue_url, ReceiptHandle=message["ReceiptHandle"])
        event = self._completions.get(run.execution_arn)
        return None if event is None else EvaluationCompleted.model_validate(event["detail"])

    def results(self, run: EvaluationRun) -> list[CaseResult]:
        s3 = self.pipeline.client("s3")
        pages = s3.get_paginator("list_objects_v2").paginate(
            Bucket=self.bucket, Prefix=results_prefix(run.evaluation_id)
        )
        keys = [item["Key"] for page in pages for item in page.get("Contents", [])]
        return [
            CaseResult.model_validate_json(s3.get_object(Bucket=self.bucket, Key=key)["Body"].read())
            for key in keys
        ]

    def download_report(self, run: EvaluationRun, folders: Iterable[Path]) -> EvaluationReport:
        """report.json, report.md and chart.svg into each folder; returns the report."""
        s3, keys = self.pipeline.client("s3"), report_keys(self.bucket, run.evaluation_id)
        bodies = {
            name: s3.get_object(Bucket=self.bucket, Key=getattr(keys, field))["Body"].read()
            for field, name in REPORT_FILES.items()
        }
        for folder in folders:
            folder.mkdir(parents=True, exist_ok=True)
            for name, body in bodies.items():
                (folder / name).write_bytes(body)
        return EvaluationReport.model_validate_json(bodies["report.json"])

    def _install_tap(self) -> None:
        if self._queue_url:
            return
        sqs, events = self.pipeline.client("sqs"), self.pipeline.client("events")
        self._queue_url = sqs.create_queue(QueueName=COMPLETION_QUEUE)["QueueUrl"]
        queue_arn = sqs.get_queue_attributes(QueueUrl=self._queue_url, AttributeNames=["QueueArn"])[
            "Attributes"
        ]["QueueArn"]
        prefix = self.state_machine_arn.replace(":stateMachine:", ":execution:", 1) + ":"
        bus = self.pipeline.resources.bus_name
        events.put_rule(
            Name=COMPLETION_RULE, EventBusName=bus, EventPattern=json.dumps(completion_pattern(prefix))
        )
        events.put_targets(Rule=COMPLETION_RULE, EventBusName=bus, Targets=[{"Id": "tap", "Arn": queue_arn}])


def new_evaluation_id() -> str:
    """``eval-20261202t101500-1a2b``: sortable, unique per run, a valid execution name."""
    return f"eval-{datetime.now(UTC).strftime('%Y%m%dt%H%M%S')}-{secrets.token_hex(2)}"
