"""Canaries for the interpreter patches of ``reviewflow_local.moto_patches``: speed and memory.

Each drives moto's Step Functions interpreter through boto3 and checks both that the patch is
in place where moto's code looks for it (every import site) and that executions still behave
as before, so a moto upgrade that moves a hook fails here by name. In-process moto only.
"""

from __future__ import annotations

import gc
import inspect
import json
import threading
import time
import uuid
import weakref
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from reviewflow_local import moto_patches
from reviewflow_local.moto_patches import _support, stepfunctions_engine, stepfunctions_memory, tracking

REGION = "us-east-1"
ROLE = "arn:aws:iam::123456789012:role/sfn"
CONFIG = {"stepfunctions": {"execute_state_machine": True}, "lambda": {"use_docker": False}}


@pytest.fixture
def sfn() -> Iterator[Any]:
    moto_patches.apply()
    with mock_aws(config=CONFIG):
        yield boto3.client("stepfunctions", region_name=REGION)


def _machine(sfn: Any, states: dict[str, Any], start: str) -> str:
    """A state machine whose definition no other test uses (the program cache is per process)."""
    definition = {"Comment": f"canary {uuid.uuid4()}", "StartAt": start, "States": states}
    return str(
        sfn.create_state_machine(
            name=f"m-{uuid.uuid4().hex[:8]}", definition=json.dumps(definition), roleArn=ROLE
        )["stateMachineArn"]
    )


def _finish(sfn: Any, arn: str, deadline_seconds: float = 20.0) -> dict[str, Any]:
    deadline = time.monotonic() + deadline_seconds
    while time.monotonic() < deadline:
        described = sfn.describe_execution(executionArn=arn)
        if described["status"] != "RUNNING":
            return dict(described)
        time.sleep(0.02)
    raise AssertionError(f"execution {arn} still running after {deadline_seconds} s")


def _run_all(sfn: Any, machine: str, inputs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    arns = [
        sfn.start_execution(stateMachineArn=machine, name=uuid.uuid4().hex, input=json.dumps(value))[
            "executionArn"
        ]
        for value in inputs
    ]
    return [_finish(sfn, arn) for arn in arns]


CHOOSE = {
    "Pick": {
        "Type": "Choice",
        "Choices": [{"Variable": "$.n", "NumericGreaterThan": 5, "Next": "Big"}],
        "Default": "Small",
    },
    "Big": {"Type": "Pass", "Result": "big", "ResultPath": "$.size", "End": True},
    "Small": {"Type": "Pass", "InputPath": "$", "Result": "small", "ResultPath": "$.size", "End": True},
}


class _CountingParse:
    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        from moto.stepfunctions.parser.asl.parse.asl_parser import AmazonStateLanguageParser

        self.calls = 0
        original = AmazonStateLanguageParser.parse

        def parse(definition: str) -> Any:
            self.calls += 1
            return original(definition)

        monkeypatch.setattr(AmazonStateLanguageParser, "parse", staticmethod(parse))


# ------------------------------------------------------------------------------ parse once


def test_parse_once_hands_one_program_to_every_execution_of_a_definition(
    sfn: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from moto.stepfunctions.parser.backend.execution_worker import ExecutionWorker

    assert list(inspect.signature(ExecutionWorker._get_evaluation_entrypoint.__wrapped__).parameters) == [
        "self"
    ]
    machine = _machine(sfn, CHOOSE, "Pick")
    parses = _CountingParse(monkeypatch)
    results = _run_all(sfn, machine, [{"n": n} for n in (1, 9, 3, 12)])
    assert [r["status"] for r in results] == ["SUCCEEDED"] * 4
    assert [json.loads(r["output"]) for r in results] == [
        {"n": 1, "size": "small"},
        {"n": 9, "size": "big"},
        {"n": 3, "size": "small"},
        {"n": 12, "size": "big"},
    ]
    assert parses.calls == 1


BRANCH = {
    "StartAt": "B",
    "States": {"B": {"Type": "Pass", "Next": "W"}, "W": {"Type": "Wait", "Seconds": 0, "End": True}},
}
#: Every kind of state and every component that keeps counters (retriers) in one definition.
EVERY_KIND = {
    "P": {
        "Type": "Parallel",
        "Branches": [BRANCH, BRANCH],
        "Retry": [{"ErrorEquals": ["States.ALL"], "MaxAttempts": 2, "BackoffRate": 1.5}],
        "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "F"}],
        "ResultSelector": {"s.$": "States.JsonMerge($[0], $[1], false)"},
        "Next": "M",
    },
    "M": {
        "Type": "Map",
        "ItemsPath": "$.items",
        "MaxConcurrency": 2,
        "ItemProcessor": {"ProcessorConfig": {"Mode": "INLINE"}, **BRANCH},
        "Next": "D",
    },
    "D": {
        "Type": "Map",
        "ItemsPath": "$.items",
        "ItemProcessor": {"ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"}, **BRANCH},
        "Next": "C",
    },
    "C": {
        "Type": "Choice",
        "Choices": [{"Variable": "$.n", "NumericGreaterThan": 1, "Next": "F"}],
        "Default": "S",
    },
    "S": {"Type": "Succeed"},
    "F": {"Type": "Fail", "Error": "E"},
}


def test_parse_once_shares_programs_with_map_and_parallel_between_concurrent_executions(
    sfn: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    def tagged(tag: str) -> dict[str, Any]:
        return {
            "StartAt": "Tag",
            "States": {
                "Tag": {"Type": "Pass", "Parameters": {"tag": tag, "n.$": "$.n"}, "Next": "Pause"},
                "Pause": {"Type": "Wait", "Seconds": 0, "End": True},
            },
        }

    both = {
        "Type": "Parallel",
        "Branches": [tagged("a"), tagged("b")],
        "ResultSelector": {"a.$": "$[0]", "b.$": "$[1]"},
        "Next": "Each",
    }
    each = {
        "Type": "Map",
        "ItemsPath": "$.a.n",
        "MaxConcurrency": 2,
        "ItemProcessor": {"StartAt": "Item", "States": {"Item": {"Type": "Pass", "End": True}}},
        "ResultPath": "$.mapped",
        "End": True,
    }
    machine = _machine(sfn, {"Both": both, "Each": each}, "Both")
    parses = _CountingParse(monkeypatch)
    results = _run_all(sfn, machine, [{"n": [n, n + 1, n + 2]} for n in range(6)])  # all in flight at once
    assert [r["status"] for r in results] == ["SUCCEEDED"] * 6
    for n, result in enumerate(results):
        items = [n, n + 1, n + 2]
        assert json.loads(result["output"]) == {
            "a": {"tag": "a", "n": items},
            "b": {"tag": "b", "n": items},
            "mapped": items,
        }
    assert parses.calls == 1


_CONSTRUCTION = frozenset({"__init__", "from_state_props", "_from_state_props"})
_MUTATORS = frozenset(
    {
        "append",
        "extend",
        "add",
        "update",
        "pop",
        "popitem",
        "clear",
        "setdefault",
        "insert",
        "remove",
        "discard",
    }
)


def _own_attribute(target: Any) -> str | None:
    """``x`` if ``target`` is ``self.x``, ``self.x.y`` or ``self.x[k]``: a write to the component."""
    import ast

    while isinstance(target, ast.Subscript | ast.Attribute):
        if (
            isinstance(target, ast.Attribute)
            and isinstance(target.value, ast.Name)
            and target.value.id == "self"
        ):
            return target.attr
        target = target.value
    return None


def _writes_to_self(function: Any) -> set[str]:
    import ast
    import textwrap

    writes: set[str] = set()
    for node in ast.walk(ast.parse(textwrap.dedent(inspect.getsource(function)))):
        if isinstance(node, ast.Assign):
            targets = node.targets
        elif isinstance(node, ast.AugAssign | ast.AnnAssign):
            targets = [node.target]
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in _MUTATORS
        ):
            targets = [node.func.value]
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id in {"setattr", "delattr"}
        ):
            targets = [ast.Attribute(value=node.args[0], attr="?")] if node.args else []
        else:
            targets = []
        writes.update(a for a in map(_own_attribute, targets) if a is not None)
    return writes


def test_no_component_of_moto_interpreter_keeps_run_state_on_itself() -> None:
    """Why programs are shared: only construction and ``heap_key`` (under the patch's lock) write."""
    import importlib
    import pkgutil

    import moto.stepfunctions.parser.asl.component as components
    from moto.stepfunctions.parser.asl.component.component import Component

    for module in pkgutil.walk_packages(components.__path__, f"{components.__name__}."):
        importlib.import_module(module.name)
    classes, pending = set(), list(Component.__subclasses__())
    while pending:
        cls = pending.pop()
        classes.add(cls)
        pending.extend(cls.__subclasses__())
    writes = set()
    for cls in classes:
        for name, member in vars(cls).items():
            function = member.fget if isinstance(member, property) else member
            if inspect.isfunction(function) and name not in _CONSTRUCTION:
                writes.update((cls.__qualname__, name, attribute) for attribute in _writes_to_self(function))
    assert len(classes) > 150  # the scan reached the interpreter's components (220 in moto 5.2.5)
    assert {"StateParallel", "BranchesDecl", "StateMap", "InlineItemProcessor"} <= {
        c.__name__ for c in classes
    }
    assert writes == {("EvalComponent", "heap_key", "__heap_key")}


def test_a_parsed_program_holds_only_components_and_plain_values() -> None:
    """No lock, pool, thread or worker is made at parse time: those would be shared by executions."""
    import enum

    from moto.stepfunctions.parser.asl.component.component import Component
    from moto.stepfunctions.parser.asl.component.state.state_continue_with import ContinueWith
    from moto.stepfunctions.parser.asl.parse.asl_parser import AmazonStateLanguageParser

    program = AmazonStateLanguageParser.parse(json.dumps({"StartAt": "P", "States": EVERY_KIND}))[0]
    kinds: set[str] = set()
    others: list[type] = []
    seen: set[int] = set()
    pending: list[Any] = [program]
    while pending:
        value = pending.pop()
        if id(value) in seen:
            continue
        seen.add(id(value))
        if isinstance(value, Component | ContinueWith):
            kinds.add(type(value).__name__)
            pending.extend(vars(value).values())
        elif isinstance(value, list | tuple | set | frozenset):
            pending.extend(value)
        elif isinstance(value, dict):
            pending.extend([*value.keys(), *value.values()])
        elif not (value is None or isinstance(value, str | int | float | enum.Enum)):
            others.append(type(value))
    assert {
        "StateParallel",
        "BranchesDecl",
        "StateMap",
        "InlineItemProcessor",
        "DistributedItemProcessor",
    } <= kinds
    assert {"RetrierDecl", "MaxAttemptsDecl", "BackoffRateDecl", "CatcherDecl"} <= kinds
    assert others == []


def test_shareable_definitions_are_json() -> None:
    assert stepfunctions_engine.is_shareable(json.dumps({"StartAt": "P", "States": EVERY_KIND}))
    assert not stepfunctions_engine.is_shareable("StartAt: A")  # not JSON: parsed per execution


def test_heap_keys_of_a_shared_program_are_the_same_for_every_thread() -> None:
    from moto.stepfunctions.parser.asl.component.eval_component import EvalComponent
    from moto.stepfunctions.parser.asl.parse.asl_parser import AmazonStateLanguageParser

    moto_patches.apply()
    assert hasattr(vars(EvalComponent)["heap_key"].fget, "__wrapped__")
    program = AmazonStateLanguageParser.parse(
        json.dumps({"StartAt": "A", "States": {"A": {"Type": "Succeed"}}})
    )[0]
    barrier = threading.Barrier(8)
    seen: list[str] = []

    def read() -> None:
        barrier.wait()
        seen.append(program.heap_key)

    threads = [threading.Thread(target=read) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(seen) == 8 and len(set(seen)) == 1


# ------------------------------------------------------------------------- JSONPath compile


def test_every_jsonpath_import_site_compiles_each_path_once() -> None:
    import jsonpath_ng
    import jsonpath_ng.ext
    import moto.stepfunctions.parser
    from moto.stepfunctions.parser.asl.component.common.path import result_path
    from moto.stepfunctions.parser.asl.utils import json_path

    moto_patches.apply()
    _support.import_all(moto.stepfunctions.parser)
    extended = inspect.unwrap(jsonpath_ng.ext.parse)  # memoised in place by the events patch
    assert _support.modules_holding("moto.stepfunctions", "parse", extended) == []
    assert _support.modules_holding("moto.stepfunctions", "parse", jsonpath_ng.parse) == []
    assert json_path.parse.__wrapped__ is extended  # type: ignore[attr-defined]
    assert result_path.parse.__wrapped__ is jsonpath_ng.parse  # type: ignore[attr-defined]

    path = f"$.canary_{uuid.uuid4().hex}.b"
    before = json_path.parse.cache_info()  # type: ignore[attr-defined]
    for n in range(3):
        assert json_path.extract_json(path, {path[2:-2]: {"b": n}}) == n
    after = json_path.parse.cache_info()  # type: ignore[attr-defined]
    assert (after.misses - before.misses, after.hits - before.hits) == (1, 2)


def test_events_rendered_for_a_target_reuse_compiled_paths(sfn: Any) -> None:
    import jsonpath_ng.ext

    sqs, events = boto3.client("sqs", region_name=REGION), boto3.client("events", region_name=REGION)
    queue = sqs.create_queue(QueueName="canary-tap")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    events.put_rule(Name="tap", EventPattern=json.dumps({"source": ["canary"]}))
    events.put_targets(Rule="tap", Targets=[{"Id": "q", "Arn": queue_arn}])
    entry = {"Source": "canary", "DetailType": "T", "Detail": json.dumps({"n": 1})}
    events.put_events(Entries=[entry])  # the first event may compile the target's paths
    before = jsonpath_ng.ext.parse.cache_info()  # type: ignore[attr-defined]
    events.put_events(Entries=[entry])
    after = jsonpath_ng.ext.parse.cache_info()  # type: ignore[attr-defined]
    assert after.misses == before.misses and after.hits > before.hits
    bodies = [
        json.loads(m["Body"]) for m in sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10)["Messages"]
    ]
    assert [b["detail"] for b in bodies] == [{"n": 1}, {"n": 1}]
    assert {b["detail-type"] for b in bodies} == {"T"}


# ---------------------------------------------------------------------------- boto3 clients


def test_every_boto_client_import_site_shares_one_client_per_service(sfn: Any) -> None:
    import moto.stepfunctions.parser
    from moto.stepfunctions.parser.asl.component.state.exec.state_task import lambda_eval_utils
    from moto.stepfunctions.parser.asl.utils import boto_client

    original = boto_client.boto_client_for.__wrapped__  # type: ignore[attr-defined]
    source = inspect.getsource(original)
    # The key is (region, service, endpoint): moto picks the endpoint this way and ignores the
    # state's credentials (fixed fake keys). If either changes, the key must change too.
    assert "botocore_stubber.enabled" in source and "moto_server_port()" in source
    assert source.count("state_credentials") == 1
    _support.import_all(moto.stepfunctions.parser)
    assert _support.modules_holding("moto.stepfunctions", "boto_client_for", original) == []
    assert lambda_eval_utils.boto_client_for is boto_client.boto_client_for

    region = f"eu-canary-{uuid.uuid4().hex[:6]}"
    clients: list[Any] = []
    barrier = threading.Barrier(6)

    def make() -> None:
        barrier.wait()
        clients.append(boto_client.boto_client_for(region=region, service="sqs", state_credentials=None))

    threads = [threading.Thread(target=make) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(clients) == 6 and len({id(c) for c in clients}) == 1
    assert boto_client.boto_client_for(region=region, service="sns") is not clients[0]


# ------------------------------------------------------------------ retire finished executions


def test_a_finished_execution_lets_go_of_its_environment_and_keeps_what_the_api_shows(sfn: Any) -> None:
    from moto.stepfunctions.parser.models import stepfunctions_parser_backends

    machine = _machine(sfn, CHOOSE, "Pick")
    [result] = _run_all(sfn, machine, [{"n": 7}])
    execution = stepfunctions_parser_backends["123456789012"][REGION].describe_execution(
        result["executionArn"]
    )
    assert isinstance(execution.exec_worker.env, stepfunctions_memory.FinishedEnvironment)

    assert json.loads(result["output"]) == {"n": 7, "size": "big"}
    events = sfn.get_execution_history(executionArn=result["executionArn"])["events"]
    assert events[0]["type"] == "ExecutionStarted"
    assert events[-1]["type"] == "ExecutionSucceeded"
    sfn.stop_execution(executionArn=result["executionArn"])  # ignored, as for any finished execution
    assert sfn.describe_execution(executionArn=result["executionArn"])["status"] == "SUCCEEDED"
    with pytest.raises(ClientError) as refused:  # SendTaskFailure looks through finished executions too
        sfn.send_task_failure(taskToken="not-a-token", error="E")
    assert refused.value.response["Error"]["Code"] == "InvalidToken"


def test_the_real_environment_is_collected_once_the_execution_ends(
    sfn: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from moto.stepfunctions.parser.backend.execution_worker import ExecutionWorker

    environments: list[weakref.ref[Any]] = []
    original = ExecutionWorker._get_evaluation_environment

    def remembered(self: Any) -> Any:
        env = original(self)
        environments.append(weakref.ref(env))
        return env

    monkeypatch.setattr(ExecutionWorker, "_get_evaluation_environment", remembered)
    _run_all(sfn, _machine(sfn, CHOOSE, "Pick"), [{"n": 1}, {"n": 8}])
    deadline = time.monotonic() + 10
    while any(ref() is not None for ref in environments) and time.monotonic() < deadline:
        gc.collect()  # the execution threads drop their last references as they end
        time.sleep(0.02)
    assert len(environments) == 2 and all(ref() is None for ref in environments)


def test_only_the_last_histories_are_kept_and_older_ones_say_so(
    sfn: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(stepfunctions_memory, "HISTORIES_KEPT", 2)
    machine = _machine(sfn, CHOOSE, "Pick")
    arns = []
    for n in range(4):  # one after the other, so "the last two" is well defined
        arns.append(_run_all(sfn, machine, [{"n": n}])[0]["executionArn"])
    for arn in arns[:2]:
        with pytest.raises(ClientError) as dropped:
            sfn.get_execution_history(executionArn=arn)
        assert dropped.value.response["Error"]["Code"] == "ExecutionDoesNotExist"
        assert "keeps the histories of the last 2" in dropped.value.response["Error"]["Message"]
        assert sfn.describe_execution(executionArn=arn)["status"] == "SUCCEEDED"
    for arn in arns[2:]:
        assert sfn.get_execution_history(executionArn=arn)["events"][-1]["type"] == "ExecutionSucceeded"


def test_finished_threads_do_not_pile_up_in_tmp_threads(sfn: Any) -> None:
    from moto.stepfunctions.parser.utils import TMP_THREADS

    machine = _machine(sfn, CHOOSE, "Pick")
    for n in range(10):  # each execution appends at least two threads (its own, the program's)
        _run_all(sfn, machine, [{"n": n}])
    finished = [thread for thread in TMP_THREADS if not thread.is_alive()]
    assert len(finished) <= 4, len(finished)


def test_apply_without_speedups_leaves_the_interpreter_patches_out(monkeypatch: pytest.MonkeyPatch) -> None:
    ran: list[str] = []
    monkeypatch.setattr(moto_patches, "_applied", [])
    monkeypatch.setattr(
        moto_patches, "PATCHES", {name: (lambda name=name: ran.append(name)) for name in moto_patches.PATCHES}
    )
    moto_patches.apply(speedups=False)
    assert (
        ran == moto_patches.applied() == [n for n in moto_patches.PATCHES if n not in moto_patches.SPEEDUPS]
    )
    assert set(moto_patches.PATCHES) > moto_patches.SPEEDUPS


# ------------------------------------------------------------------ weak instance tracking


def test_a_transaction_leaves_no_copy_of_its_tables_behind(sfn: Any) -> None:
    from moto.core.common_models import BaseModel
    from moto.dynamodb.models.dynamo_type import Item
    from moto.dynamodb.models.table import Table

    assert hasattr(BaseModel.__new__, "__wrapped__")
    dynamodb = boto3.client("dynamodb", region_name=REGION)
    name = f"canary-{uuid.uuid4().hex[:8]}"
    dynamodb.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    for n in range(20):
        dynamodb.put_item(TableName=name, Item={"pk": {"S": f"item-{n}"}})
    gc.collect()
    items, tables = len(Item.instances_tracked), len(Table.instances_tracked)
    for n in range(10):  # moto copies the whole table before each one, for its rollback
        put = {"TableName": name, "Item": {"pk": {"S": f"new-{n}"}}}
        dynamodb.transact_write_items(TransactItems=[{"Put": put}])
    with pytest.raises(ClientError):  # a cancelled one rolls back to its copy: the copy is the table now
        dynamodb.transact_write_items(
            TransactItems=[{"Put": {**put, "ConditionExpression": "attribute_not_exists(pk)"}}]
        )
    gc.collect()
    assert len(Item.instances_tracked) - items <= 10 + 1  # the new items (and the put attempt), no copies
    assert len(Table.instances_tracked) == tables
    assert dynamodb.scan(TableName=name)["Count"] == 30
    live = {
        i.hash_key.value for i in Item.instances_tracked if i.hash_key.value.startswith(("item-", "new-"))
    }
    assert live >= {f"item-{n}" for n in range(20)} | {f"new-{n}" for n in range(10)}  # the dashboard's view


def test_weak_instances_list_the_live_objects_in_order_and_survive_a_reset() -> None:
    from moto.core.model_instances import reset_model_data
    from moto.dynamodb.models.dynamo_type import DynamoType, Item

    moto_patches.apply()

    def item(key: str) -> Any:
        return Item(hash_key=DynamoType({"S": key}), range_key=None, attrs={"pk": {"S": key}})

    reset_model_data()  # what a mock's stop does: plain lists again
    assert isinstance(vars(Item)["instances_tracked"], list)
    first, second, third = item("a"), item("b"), item("c")
    assert isinstance(vars(Item)["instances_tracked"], tracking.WeakInstances)
    assert list(Item.instances_tracked) == [first, second, third]
    del second
    gc.collect()
    assert list(Item.instances_tracked) == [first, third] and len(Item.instances_tracked) == 2

    class Slotted:
        __slots__ = ("n",)

    kept = tracking.WeakInstances()
    kept.append(Slotted())  # cannot be weakly referenced: kept, as moto would
    assert len(kept) == 1
