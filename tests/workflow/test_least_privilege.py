"""Least privilege, checked: what each role may do against what the workflow tests make it do.

Method:

- **Functions.** Every botocore call a handler makes is recorded while the in-process runner runs
  it: the Lambda runner is wrapped so a thread-local names the running handler, and
  ``BaseClient._make_api_call`` is wrapped to record ``<signing name>:<operation>`` (the IAM
  action) and, for DynamoDB and SNS, the table or topic ARN. Calls made by other threads (the
  test's own clients, the outcome pump) carry no handler and are not counted.
- **The state machines.** Their calls are made by the interpreter, not by botocore clients; they
  are read from the execution histories of each (the review workflow's, and the evaluation
  workflow's, whose principal is ``evaluation_state_machine``): every ``TaskScheduled``
  (``lambda:invoke``, ``dynamodb:putItem``, ``events:putEvents``) and ``LambdaFunctionScheduled``
  event becomes the IAM action it needs.
- **The rule target.** The rule's role is used for ``states:StartExecution`` whenever the rule
  starts an execution.

Then, against the ``AWS::IAM::Policy`` statements of each role in the synthesized template: every
recorded call must be granted (action, and resource where it resolves), and every granted action
must be recorded or be in ``permission_allowlist.json`` with a written reason. The scenario is a
soak of every path without faults (approvals approved and rejected through their links at both
stages, duplicates, invalid reviews), a second click on a decided link, an approval whose
email cannot be sent, an evaluation of two candidates over a small golden set, the insights
report job over the soak's feedback, a reminder run over one review left waiting, and that
reviewer's queue. The stack has a roster of one (so the queue route and its grant exist); the
soak's approvals then go to that one reviewer's own links.
"""

from __future__ import annotations

import fnmatch
import json
import threading
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore.client import BaseClient

from reviewflow_local import moto_patches, reviewer
from reviewflow_local.deployment import ACCOUNT_ID, REGION
from reviewflow_local.evaluation_runs import LocalEvaluations
from reviewflow_local.pipeline import LocalPipeline
from reviewflow_local.soak import run_soak
from tests.workflow.conftest import wait_until

ALLOWLIST_PATH = Path(__file__).with_name("permission_allowlist.json")
STATE_MACHINE, RULE_TARGET, EVERY_FUNCTION = "state_machine", "rule_target", "*"
EVALUATION_STATE_MACHINE = "evaluation_state_machine"
STATE_MACHINES = (STATE_MACHINE, EVALUATION_STATE_MACHINE)
#: Operations whose IAM action has another name.
IAM_ACTIONS = {"s3:ListObjectsV2": "s3:ListBucket"}
EVALUATION_CASES = Path(__file__).with_name("evaluation_cases.jsonl")
QUEUE_REVIEWER = "lp-reviewer"


class CallRecorder:
    """Attributes botocore calls to the handler running on the calling thread."""

    def __init__(self) -> None:
        self._local = threading.local()
        self._lock = threading.Lock()
        self.calls: dict[str, Counter[tuple[str, str | None]]] = defaultdict(Counter)
        self.invoked: Counter[str] = Counter()

    def wrap_runner(self, inner: Callable[[Any, Any], tuple[bytes, bool]]) -> Callable[..., Any]:
        def run(function: Any, payload: Any) -> tuple[bytes, bool]:
            previous = getattr(self._local, "handler", None)
            module = function.handler.rsplit(".", 2)[-2]
            self._local.handler = module
            with self._lock:
                self.invoked[module] += 1
            try:
                return inner(function, payload)
            finally:
                self._local.handler = previous

        return run

    def wrap_api_call(self, original: Callable[..., Any]) -> Callable[..., Any]:
        recorder = self

        def _make_api_call(client: Any, operation_name: str, api_params: dict[str, Any]) -> Any:
            handler = getattr(recorder._local, "handler", None)
            if handler is not None:
                action = f"{client.meta.service_model.signing_name}:{operation_name}"
                action = IAM_ACTIONS.get(action, action)
                with recorder._lock:
                    for needed in _needed(action, api_params):
                        recorder.calls[handler][needed] += 1
            return original(client, operation_name, api_params)

        return _make_api_call


#: A transaction is authorised item by item: each element needs the action of its single-item call.
TRANSACT_ITEM_ACTIONS = {
    "Put": "dynamodb:PutItem",
    "Update": "dynamodb:UpdateItem",
    "Delete": "dynamodb:DeleteItem",
    "ConditionCheck": "dynamodb:ConditionCheckItem",
}


def _needed(action: str, params: dict[str, Any]) -> list[tuple[str, str | None]]:
    """The (IAM action, resource) pairs one call needs."""
    if action == "dynamodb:TransactWriteItems":
        return [
            (TRANSACT_ITEM_ACTIONS[kind], _call_resource("dynamodb:", body))
            for item in params["TransactItems"]
            for kind, body in item.items()
        ]
    return [(action, _call_resource(action, params))]


def _call_resource(action: str, params: dict[str, Any]) -> str | None:
    if action.startswith("dynamodb:") and "TableName" in params:
        table = f"arn:aws:dynamodb:{REGION}:{ACCOUNT_ID}:table/{params['TableName']}"
        # A query of an index is authorised on the index's ARN, not the table's.
        return f"{table}/index/{params['IndexName']}" if "IndexName" in params else table
    if action.startswith("sns:") and "TopicArn" in params:
        return str(params["TopicArn"])
    if action.startswith("s3:") and "Bucket" in params:
        return f"arn:aws:s3:::{params['Bucket']}" + (f"/{params['Key']}" if "Key" in params else "")
    return None


# ----------------------------------------------------------------------------- the template


class Grants:
    """Allow statements of one role, with resources resolved to ARNs where possible."""

    def __init__(self) -> None:
        self.statements: list[tuple[list[str], list[str | None]]] = []

    @property
    def actions(self) -> set[str]:
        return {action for actions, _ in self.statements for action in actions}

    def allows(self, action: str, resource: str | None) -> bool:
        for actions, resources in self.statements:
            if not any(fnmatch.fnmatchcase(action, pattern) for pattern in actions):
                continue
            if resource is None or any(r is None or fnmatch.fnmatchcase(resource, r) for r in resources):
                return True
        return False


def role_grants(stack: LocalPipeline) -> dict[str, Grants]:
    """Grants per principal: a handler module, ``state_machine`` or ``rule_target``."""
    resources = stack.assembly.template["Resources"]
    resolve = _resolver(resources, _physical_ids(stack))
    owners = _role_owners(resources)
    grants: dict[str, Grants] = defaultdict(Grants)
    for logical, spec in resources.items():
        props = spec.get("Properties", {})
        if spec["Type"] == "AWS::IAM::Role" and logical in owners:
            assert "ManagedPolicyArns" not in props, f"{logical}: managed policies cannot be checked here"
            for policy in props.get("Policies", []):
                _add(grants[owners[logical]], policy["PolicyDocument"], resolve)
        if spec["Type"] == "AWS::IAM::Policy":
            for role in props.get("Roles", []):
                if role.get("Ref") in owners:
                    _add(grants[owners[role["Ref"]]], props["PolicyDocument"], resolve)
    return grants


def _physical_ids(stack: LocalPipeline) -> dict[str, str]:
    return {
        s["LogicalResourceId"]: s.get("PhysicalResourceId", "")
        for page in stack.client("cloudformation")
        .get_paginator("list_stack_resources")
        .paginate(StackName=stack.resources.stack_id)
        for s in page["StackResourceSummaries"]
    }


def _role_owners(resources: dict[str, Any]) -> dict[str, str]:
    """Logical id of each role -> the principal that assumes it."""
    owners: dict[str, str] = {}
    for spec in resources.values():
        props = spec.get("Properties", {})
        if spec["Type"] == "AWS::Lambda::Function":
            owners[props["Role"]["Fn::GetAtt"][0]] = props["Handler"].rsplit(".", 2)[-2]
        elif spec["Type"] == "AWS::StepFunctions::StateMachine":
            evaluation = "PrepareEvaluationFunctionArn" in props.get("DefinitionSubstitutions", {})
            owners[props["RoleArn"]["Fn::GetAtt"][0]] = (
                EVALUATION_STATE_MACHINE if evaluation else STATE_MACHINE
            )
        elif spec["Type"] == "AWS::Events::Rule":
            for target in props.get("Targets", []):
                if "RoleArn" in target:
                    owners[target["RoleArn"]["Fn::GetAtt"][0]] = RULE_TARGET
    return owners


#: The ARN of a resource whose physical id is a name, by type.
_ARN_FORMATS = {
    "AWS::DynamoDB::Table": f"arn:aws:dynamodb:{REGION}:{ACCOUNT_ID}:table/{{}}",
    "AWS::Lambda::Function": f"arn:aws:lambda:{REGION}:{ACCOUNT_ID}:function:{{}}",
    "AWS::S3::Bucket": "arn:aws:s3:::{}",
}


def _resolver(resources: dict[str, Any], physical: dict[str, str]) -> Callable[[Any], str | None]:
    """A statement's ``Resource`` entry -> its ARN, or None where it cannot be resolved here."""

    def arn_of(logical: str, attribute: str) -> str | None:
        kind, name = resources[logical]["Type"], physical.get(logical, "")
        if attribute != "Arn":
            return None
        if kind in _ARN_FORMATS:
            return _ARN_FORMATS[kind].format(name)
        return name if name.startswith("arn:") else None

    def resolve(value: Any) -> str | None:
        if value == "*" or (isinstance(value, str) and value.startswith("arn:")):
            return str(value)
        if isinstance(value, dict) and "Fn::GetAtt" in value:
            return arn_of(*value["Fn::GetAtt"])
        if isinstance(value, dict) and "Ref" in value and physical.get(value["Ref"], "").startswith("arn:"):
            return physical[value["Ref"]]
        if isinstance(value, dict) and "Fn::Join" in value:  # e.g. a bucket's ARN + "/results/*"
            parts = [resolve(part) if isinstance(part, dict) else part for part in value["Fn::Join"][1]]
            return None if None in parts else value["Fn::Join"][0].join(map(str, parts))
        return None  # not resolvable here: the action check still applies

    return resolve


def _add(grants: Grants, document: dict[str, Any], resolve: Callable[[Any], str | None]) -> None:
    for statement in document["Statement"]:
        assert statement.get("Effect", "Allow") == "Allow", statement
        actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        raw = statement.get("Resource", "*")
        grants.statements.append((actions, [resolve(r) for r in (raw if isinstance(raw, list) else [raw])]))


def state_machine_calls(stack: LocalPipeline, principal: str = STATE_MACHINE) -> set[tuple[str, str | None]]:
    used: set[tuple[str, str | None]] = set()
    for execution in _executions(stack, principal):
        for event in stack.history(execution["executionArn"]):
            if "taskScheduledEventDetails" in event:
                details = event["taskScheduledEventDetails"]
                service, api = details["resourceType"], details["resource"].split(".")[0]
                if service == "lambda" and api == "invoke":
                    function = json.loads(details["parameters"]).get("FunctionName")
                    used.add(("lambda:InvokeFunction", function))
                else:
                    used.add((f"{service}:{api[0].upper()}{api[1:]}", None))
            if "lambdaFunctionScheduledEventDetails" in event:
                used.add(("lambda:InvokeFunction", event["lambdaFunctionScheduledEventDetails"]["resource"]))
    return used


def _executions(stack: LocalPipeline, principal: str) -> list[dict[str, Any]]:
    if principal == STATE_MACHINE:
        return list(stack.executions())
    arn = stack.resources.evaluation_state_machine_arn
    return stack.client("stepfunctions").list_executions(stateMachineArn=arn)["executions"]  # type: ignore[no-any-return]


# -------------------------------------------------------------------------------- scenario


@pytest.fixture(scope="module")
def recorded(stack_factory: Any) -> Iterator[tuple[LocalPipeline, CallRecorder]]:
    stack = stack_factory({"reviewers": [{"id": QUEUE_REVIEWER, "email": "lp@example.com"}]})
    recorder = CallRecorder()
    original = BaseClient._make_api_call
    BaseClient._make_api_call = recorder.wrap_api_call(original)  # type: ignore[method-assign]
    moto_patches.set_lambda_runner(recorder.wrap_runner(stack.runner))
    try:
        report = run_soak(stack, reviews=28, duplicates=3, seed=4, timeout=300)
        assert report.ok, report.violations
        _second_click(stack)
        _evaluation(stack)
        _insights_report(stack)
        _reminders(stack)
        _queue(stack)
        yield stack, recorder
    finally:
        BaseClient._make_api_call = original  # type: ignore[method-assign]
        moto_patches.set_lambda_runner(stack.runner)


def _second_click(stack: LocalPipeline) -> None:
    """A decided link opened again: the page is read (GetItem) and offers no decision any more."""
    message = next(m for m in stack.outbox.messages() if m.approval_links)
    page = reviewer.fetch(message.approval_links[0])
    assert page.status in (200, 409, 410), page.status
    with pytest.raises(ValueError, match="no decision form"):
        reviewer.decision_form(page.body)


def _evaluation(stack: LocalPipeline) -> None:
    """Two template versions over a small golden set: every evaluation function runs."""
    from reviewflow.models.evaluation import Candidate

    evaluations = LocalEvaluations(stack)
    candidates = [
        Candidate(name=f"t-{v}", model_id="local/template-responder", prompt_version=v) for v in ("v1", "v2")
    ]
    text = EVALUATION_CASES.read_text(encoding="utf-8")
    run = evaluations.start(text, candidates=candidates, case_count=len(text.splitlines()))
    assert evaluations.wait(run, 300) == "SUCCEEDED"


def _insights_report(stack: LocalPipeline) -> None:
    """The report job over the soak's feedback: Query, two PutObject, one Publish."""
    from reviewflow_local.insights_local import run_report

    assert run_report(stack).report.totals.reviews > 0


def _reminders(stack: LocalPipeline) -> None:
    """One review left waiting, then the reminder schedule at 60% of its window: the index Query,
    the once-only UpdateItem and one Publish to the reviewer topic."""
    from datetime import datetime

    from reviewflow_local.reminders_local import run_reminders

    stack.post_reviews(
        [{"review_id": "lp-reminded", "product_id": "p-1", "language": "de", "review_text": "Leise genug."}]
    )
    pending = wait_until(
        lambda: [a for a in stack.pending_approvals() if a["review_id"] == "lp-reminded"],
        60,
        "the approval of the review left waiting",
    )[0]
    start = datetime.fromisoformat(pending["created_at"].replace("Z", "+00:00"))
    deadline = datetime.fromisoformat(pending["deadline_at"].replace("Z", "+00:00"))
    run = run_reminders(stack, now=start + (deadline - start) * 0.6)
    assert [(s["approval_id"], s["step"], s["delivered"]) for s in run["sent"]] == [
        (pending["approval_id"], "reminder", True)
    ]


def _queue(stack: LocalPipeline) -> None:
    """The roster reviewer's queue, opened from the waiting review's email: GetItem of that
    approval, then the index Query."""
    import re

    (approval,) = [a for a in stack.pending_approvals() if a["review_id"] == "lp-reminded"]
    message = next(m for m in stack.outbox.messages() if m.approval_id == approval["approval_id"])
    (link,) = re.findall(rf"http://\S+/reviewers/{QUEUE_REVIEWER}/queue\?\S+", message.text)
    page = reviewer.fetch(link)
    assert page.status == 200 and approval["approval_id"] in page.body


def allowlist() -> dict[str, dict[str, str]]:
    entries = json.loads(ALLOWLIST_PATH.read_text(encoding="utf-8"))
    entries.pop("_about", None)
    for principal, actions in entries.items():
        for action, reason in actions.items():
            assert len(reason) > 30, f"{principal} {action}: the allow-list needs a written reason"
    return entries


def test_every_function_ran(recorded: tuple[LocalPipeline, CallRecorder]) -> None:
    stack, recorder = recorded
    modules = {handler.rsplit(".", 2)[-2] for handler in stack.resources.functions}
    assert modules <= set(recorder.invoked), modules - set(recorder.invoked)


def test_every_recorded_call_is_granted(recorded: tuple[LocalPipeline, CallRecorder]) -> None:
    stack, recorder = recorded
    grants = role_grants(stack)
    missing = [
        f"{module}: {action} on {resource or '-'}"
        for module, calls in recorder.calls.items()
        for action, resource in calls
        if not grants[module].allows(action, resource)
    ]
    missing += [
        f"{principal}: {action} on {resource or '-'}"
        for principal in STATE_MACHINES
        for action, resource in state_machine_calls(stack, principal)
        if not grants[principal].allows(action, resource)
    ]
    assert missing == []
    # The recording works: the calls we know the handlers make are there.
    assert "dynamodb:PutItem" in {a for a, _ in recorder.calls["request_approval"]}
    assert {"dynamodb:GetItem", "dynamodb:UpdateItem", "states:SendTaskSuccess"} <= {
        a for a, _ in recorder.calls["approval_api"]
    }
    # The evaluation functions' S3 calls are checked against the folders they were granted.
    bucket = f"arn:aws:s3:::{stack.resources.evaluation_bucket}"
    assert {"s3:GetObject", "s3:PutObject"} <= {a for a, _ in recorder.calls["evaluate_case"]}
    assert ("s3:ListBucket", bucket) in recorder.calls["aggregate_evaluation"]
    assert grants["evaluate_case"].allows("s3:PutObject", f"{bucket}/results/e/c/case.json")
    assert not grants["evaluate_case"].allows("s3:PutObject", f"{bucket}/reports/e/report.json")


# Runs before the used-or-justified check below (file order): it is the only path that uses
# request_approval's DeleteItem grant.
def test_an_approval_whose_email_fails_is_discarded_with_a_granted_call(
    recorded: tuple[LocalPipeline, CallRecorder],
) -> None:
    stack, recorder = recorded
    stack.client("sns").delete_topic(TopicArn=stack.resources.reviewer_topic_arn)
    stack.post_reviews(
        [
            {
                "review_id": "lp-email-fails",
                "product_id": "p-1",
                "language": "de",
                "review_text": "Gut und leise.",
            }
        ]
    )
    event = stack.outcome_for("lp-email-fails", timeout=120)
    assert event["detail"]["reason"] == "provider_error"
    wait_until(
        lambda: "dynamodb:DeleteItem" in {a for a, _ in recorder.calls["request_approval"]},
        30,
        "the discard of the unsent approval",
    )
    grants = role_grants(stack)
    assert grants["request_approval"].allows(
        "dynamodb:DeleteItem", f"arn:aws:dynamodb:{REGION}:{ACCOUNT_ID}:table/{stack.resources.table_name}"
    )


def test_every_granted_action_is_used_or_justified(recorded: tuple[LocalPipeline, CallRecorder]) -> None:
    stack, recorder = recorded
    grants = role_grants(stack)
    allowed = allowlist()
    used: dict[str, set[str]] = {module: {a for a, _ in calls} for module, calls in recorder.calls.items()}
    for principal in STATE_MACHINES:
        used[principal] = {action for action, _ in state_machine_calls(stack, principal)}
    used[RULE_TARGET] = {"states:StartExecution"} if any(True for _ in stack.executions()) else set()
    unused = []
    for principal, granted in grants.items():
        justified = set(allowed.get(principal, {}))
        if principal not in (*STATE_MACHINES, RULE_TARGET):
            justified |= set(allowed.get(EVERY_FUNCTION, {}))
        for action in sorted(granted.actions - used.get(principal, set()) - justified):
            unused.append(f"{principal}: {action}")
    assert unused == [], "granted but never used (remove the grant, or justify it in the allow-list)"


def test_allow_list_has_no_stale_entries(recorded: tuple[LocalPipeline, CallRecorder]) -> None:
    stack, _ = recorded
    grants = role_grants(stack)
    stale = []
    for principal, actions in allowlist().items():
        targets = [g for p, g in grants.items() if p not in (*STATE_MACHINES, RULE_TARGET)]
        scope = targets if principal == EVERY_FUNCTION else [grants.get(principal, Grants())]
        stale += [f"{principal}: {a}" for a in actions if not all(a in g.actions for g in scope)]
    assert stale == []
