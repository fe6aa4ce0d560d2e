"""Step Functions interpreter: the work moto repeats for every execution, done once.

moto's interpreter (its port of LocalStack's) was written for one execution at a time. Run a
few hundred, and most of the CPU goes to work whose result never changes (measured with py-spy
on a 50-review soak, share of GIL-holding samples): parsing the ASL with ANTLR for every
execution (25 %), building a new PLY parser for every JSONPath evaluated (17 %), and building a
new boto3 client, which reloads botocore's JSON models, for every task attempt (13 %). Each
patch below keeps the result and hands it out again. They only speed moto up; ``apply`` leaves
them out with ``speedups=False``.
"""

from __future__ import annotations

import inspect
import json
import threading
from collections import OrderedDict
from typing import Any

from reviewflow_local.moto_patches._support import (
    MotoInternalsChanged,
    memoised_jsonpath_parse,
    rebind_everywhere,
    require,
)

#: Distinct definitions whose parsed program is kept (the stack has one; tests create a few).
PROGRAM_CACHE_SIZE = 32

_programs: OrderedDict[str, Any] = OrderedDict()  # definition -> program, or None: parse each time
_programs_lock = threading.Lock()
_clients: dict[tuple[str, str, str | None], Any] = {}
_clients_lock = threading.Lock()


# ------------------------------------------------------------------------------ parse once


def is_shareable(definition: str) -> bool:
    """A parsed program may serve several executions if its definition is JSON (else: per execution)."""
    try:
        json.loads(definition)
    except ValueError:
        return False
    return True


def patch_parse_once() -> None:
    """moto lacks: reusing a parsed state machine; it parses the definition for every execution.

    ``ExecutionWorker._get_evaluation_entrypoint`` runs ANTLR over the definition each time
    (~0.1 s for this workflow, ~1 s the first time), on the execution's own thread, so a burst
    of executions all parse at once and crawl together. The patch keeps the program per
    definition string and hands the same one to every execution. That is safe because the
    components keep their run state in the execution's ``Environment`` (input, stack, heap,
    retry counters, the history) or in objects made for one evaluation, except one thing:
    ``EvalComponent.heap_key`` (the key of a component's values in the heap, e.g. a Retrier's
    attempt count) is set lazily on first use; two executions racing on it could each see a
    different key, so the patch makes the getter run under a lock.

    Map and Parallel are shared too: ``BranchesDecl`` makes its ``BranchWorkerPool`` and
    ``BranchWorker`` threads for each evaluation, with each branch in an inner frame of the
    execution's environment, and the Map iteration components make their ``JobPool``, workers
    and ``MapRunRecord`` (kept in the environment's pool manager) the same way. The canaries
    check it: no component method but ``heap_key`` assigns to its component, and a parsed
    program holds only components and plain values.

    Parsing happens under one lock, so a burst waits for a single parse instead of repeating it.
    """
    from moto.stepfunctions.parser.asl.component.eval_component import EvalComponent
    from moto.stepfunctions.parser.backend.execution_worker import ExecutionWorker

    original = require(ExecutionWorker, "_get_evaluation_entrypoint")
    heap_key = vars(EvalComponent).get("heap_key")
    if not isinstance(heap_key, property) or heap_key.fget is None:
        raise MotoInternalsChanged("EvalComponent.heap_key is no longer a property: re-check sharing")

    def entrypoint(self: Any) -> Any:
        definition = self._evaluation_details.state_machine_details.definition
        with _programs_lock:
            if definition in _programs:
                _programs.move_to_end(definition)
                program = _programs[definition]
            else:
                program = original(self) if is_shareable(definition) else None
                _remember(definition, program)
        return program if program is not None else original(self)  # not JSON: parsed per execution

    key_lock = threading.Lock()
    fget = heap_key.fget

    def locked_heap_key(component: Any) -> str:
        with key_lock:
            return str(fget(component))

    entrypoint.__wrapped__ = original  # type: ignore[attr-defined]
    ExecutionWorker._get_evaluation_entrypoint = entrypoint  # type: ignore[method-assign]
    locked = property(locked_heap_key)
    locked.fget.__wrapped__ = fget  # type: ignore[union-attr]
    EvalComponent.heap_key = locked  # type: ignore[assignment,method-assign]


def _remember(definition: str, program: Any) -> None:
    _programs[definition] = program
    while len(_programs) > PROGRAM_CACHE_SIZE:
        _programs.popitem(last=False)


# ------------------------------------------------------------------------- JSONPath compile


def patch_jsonpath_cache() -> None:
    """moto lacks: reusing a compiled JSONPath; ``jsonpath_ng`` builds a PLY parser per call.

    The interpreter calls ``parse(path)`` for every path it evaluates (``InputPath``,
    ``ResultPath``, ``Parameters`` values, Choice variables...), and ``jsonpath_ng`` builds a
    new lexer and parser each time. The patch memoises each parse function by its path string
    (``_support.memoised_jsonpath_parse``). There are two: ``utils.json_path`` imports
    ``jsonpath_ng.ext.parse`` and ``component.common.path.result_path`` imports the plain
    ``jsonpath_ng.parse``, both by name, so every module of moto's interpreter holding either
    one gets its memoised twin.
    """
    import jsonpath_ng
    import jsonpath_ng.ext
    import moto.stepfunctions.parser

    for parse in (jsonpath_ng.ext.parse, jsonpath_ng.parse):
        original = inspect.unwrap(parse)  # the events patch may have memoised ext.parse in place
        cached = memoised_jsonpath_parse(original)
        if not rebind_everywhere(moto.stepfunctions.parser, "parse", original, cached):
            raise MotoInternalsChanged(f"no module of moto's interpreter imports {original.__module__}.parse")


# ---------------------------------------------------------------------------- boto3 clients


def patch_shared_clients() -> None:
    """moto lacks: reusing boto3 clients inside the interpreter; it makes one per task attempt.

    ``asl.utils.boto_client.boto_client_for(region, service, state_credentials)`` calls
    ``boto3.client(...)`` every time, and creating a client reloads botocore's service model.
    The patch keeps one client per (region, service, endpoint): the endpoint is moto's own
    choice (none while moto intercepts botocore in-process, its server's URL otherwise), and the
    credentials are moto's fixed fake ones, which it uses whatever ``state_credentials`` say.
    botocore clients are safe to share between threads once built; building one is not (boto3's
    default session is not thread-safe), so creation runs under a lock. Every module importing
    ``boto_client_for`` by name (the Lambda helper and each service task) gets the shared one.
    """
    import moto.stepfunctions.parser
    from moto.core.models import botocore_stubber
    from moto.settings import moto_server_port
    from moto.stepfunctions.parser.asl.utils import boto_client

    original = require(boto_client, "boto_client_for")
    require(botocore_stubber, "enabled")

    def boto_client_for(region: str, service: str, state_credentials: Any = None) -> Any:
        endpoint = None if botocore_stubber.enabled else f"http://localhost:{moto_server_port()}"
        key = (region, service, endpoint)
        client = _clients.get(key)
        if client is None:
            with _clients_lock:
                client = _clients.get(key)
                if client is None:
                    client = original(region=region, service=service, state_credentials=state_credentials)
                    _clients[key] = client
        return client

    boto_client_for.__wrapped__ = original  # type: ignore[attr-defined]
    rebound = rebind_everywhere(moto.stepfunctions.parser, "boto_client_for", original, boto_client_for)
    if not any(name.endswith("lambda_eval_utils") for name in rebound):
        raise MotoInternalsChanged("the interpreter's Lambda helper no longer imports boto_client_for")
