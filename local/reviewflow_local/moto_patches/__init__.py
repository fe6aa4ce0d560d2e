"""Every change the local runtime makes to moto, in one package.

moto (pinned to ``MOTO_VERSION``) runs the synthesized stack well, but it lacks a few things the
pipeline needs. Each patch says, in its docstring, what moto lacks and what the patch does
instead; each has a canary in ``tests/unit/local/`` (``test_moto_patches.py`` for the features,
``test_moto_patches_engine.py`` for the interpreter's speed and memory) that fails loudly when
moto's internals move. An upgrade must re-check them; ``apply`` refuses an unexpected version.

One module per area of moto:

- ``awslambda``: a Lambda handler that really runs, in this process;
- ``events``: rule targets that start Step Functions executions, the PutEvents size limit, and
  compiled JSONPaths reused when an event is rendered for a target (speed-up only);
- ``cloudformation``: what moto's deployment misses in CDK's template;
- ``dynamodb``: item operations safe under concurrent callers;
- ``stepfunctions_engine``: the interpreter's per-execution parsing, per-path JSONPath
  compilation and per-attempt boto3 clients, done once (speed-ups only);
- ``stepfunctions_memory``: a finished execution keeps what the API shows, not its whole run;
- ``stepfunctions_lambda``: the interpreter's Lambda tasks call the Lambda backend directly
  (speed-up only).

Patches are applied once per process by ``apply()`` and stay applied: they only change
behaviour that moto does not otherwise have (a Lambda handler that really runs, a Step Functions
rule target, CloudFormation properties moto ignores) or make it faster and bounded, so a plain
moto test in the same process sees no difference except that those features now work, and that
``GetExecutionHistory`` of an execution older than the last ``HISTORIES_KEPT`` (100) finished
ones answers ``ExecutionDoesNotExist`` (see ``stepfunctions_memory``).
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from reviewflow_local.moto_patches._support import MotoInternalsChanged
from reviewflow_local.moto_patches.awslambda import (
    LambdaRunner,
    lambda_error_envelope,
    patch_lambda_invoke,
    set_lambda_runner,
)
from reviewflow_local.moto_patches.cloudformation import (
    AcceptedResource,
    patch_cfn_dynamodb_ttl,
    patch_cfn_refs,
    patch_cfn_state_machine,
    register_cfn_api_destinations,
    register_cfn_types,
)
from reviewflow_local.moto_patches.dynamodb import DYNAMODB_ITEM_OPERATIONS, patch_dynamodb_thread_safety
from reviewflow_local.moto_patches.events import (
    PUT_EVENTS_MAX_BYTES,
    patch_events_api_destination_targets,
    patch_events_entry_size,
    patch_events_jsonpath_cache,
    patch_events_stepfunctions_target,
    put_events_entry_size,
    target_input,
)
from reviewflow_local.moto_patches.stepfunctions_engine import (
    patch_jsonpath_cache,
    patch_parse_once,
    patch_shared_clients,
)
from reviewflow_local.moto_patches.stepfunctions_lambda import patch_direct_lambda_tasks
from reviewflow_local.moto_patches.stepfunctions_memory import patch_retire_finished_executions

__all__ = [
    "DYNAMODB_ITEM_OPERATIONS",
    "MOTO_VERSION",
    "PATCHES",
    "PUT_EVENTS_MAX_BYTES",
    "SPEEDUPS",
    "AcceptedResource",
    "LambdaRunner",
    "MotoInternalsChanged",
    "applied",
    "apply",
    "lambda_error_envelope",
    "put_events_entry_size",
    "set_lambda_runner",
    "target_input",
]

MOTO_VERSION = "5.2.5"

PATCHES: dict[str, Callable[[], None]] = {
    "lambda_invoke": patch_lambda_invoke,
    "events_stepfunctions_target": patch_events_stepfunctions_target,
    "cfn_refs": patch_cfn_refs,
    "cfn_state_machine": patch_cfn_state_machine,
    "cfn_dynamodb_ttl": patch_cfn_dynamodb_ttl,
    "cfn_missing_types": register_cfn_types,
    "events_entry_size": patch_events_entry_size,
    "dynamodb_thread_safety": patch_dynamodb_thread_safety,
    "sfn_parse_once": patch_parse_once,
    "sfn_jsonpath_cache": patch_jsonpath_cache,
    "sfn_shared_clients": patch_shared_clients,
    "sfn_retire_finished_executions": patch_retire_finished_executions,
    "events_jsonpath_cache": patch_events_jsonpath_cache,
    "sfn_direct_lambda_tasks": patch_direct_lambda_tasks,
    "cfn_api_destinations": register_cfn_api_destinations,
    "events_api_destination_targets": patch_events_api_destination_targets,
}

#: The patches that only make moto faster or bounded (no feature depends on them).
SPEEDUPS = frozenset(
    {
        "sfn_parse_once",
        "sfn_jsonpath_cache",
        "sfn_shared_clients",
        "sfn_retire_finished_executions",
        "events_jsonpath_cache",
        "sfn_direct_lambda_tasks",
    }
)

_lock = threading.Lock()
_applied: list[str] = []


def applied() -> list[str]:
    return list(_applied)


def apply(*, speedups: bool = True) -> None:
    """Apply every patch once per process; refuse a moto these patches were not checked on.

    ``speedups=False`` leaves out ``SPEEDUPS`` (to measure what they buy, or to rule them out
    when the interpreter misbehaves). The first call in a process decides; later calls return.
    """
    import moto

    with _lock:
        if _applied:
            return
        if moto.__version__ != MOTO_VERSION:
            raise MotoInternalsChanged(
                f"the local runtime is checked against moto {MOTO_VERSION}, found {moto.__version__}: "
                "install the pinned version (pip install -e '.[local]') or re-check moto_patches"
            )
        for name, patch in PATCHES.items():
            if speedups or name not in SPEEDUPS:
                patch()
                _applied.append(name)
