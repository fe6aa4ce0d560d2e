"""Step Functions interpreter: a finished execution keeps what the API shows, not its whole run.

moto keeps every execution's evaluation ``Environment`` (frames, stack, heap, context object,
callback pool, the event history) for as long as the process lives, and every thread the
interpreter ever started in ``moto.stepfunctions.parser.utils.TMP_THREADS``: 120-160 KB of
Python objects retained per review (30 KB with this patch), without bound. What the API still
offers about a finished execution is much less: ``DescribeExecution`` (status, input, output, error; kept on
moto's ``Execution`` object) and ``GetExecutionHistory`` (the history, ~75 KB of the ~85 KB).
"""

from __future__ import annotations

import copy
import threading
from collections import deque
from typing import Any

from reviewflow_local.moto_patches._support import MotoInternalsChanged, require

#: Finished executions whose history is kept; older ones answer ``ExecutionDoesNotExist``.
HISTORIES_KEPT = 100

_retired: deque[FinishedEnvironment] = deque()
_retired_lock = threading.Lock()


class DroppedHistory:
    """Stands for the event manager of an execution whose history was let go."""

    def __init__(self, execution_arn: str) -> None:
        self.execution_arn = execution_arn

    def get_event_history(self) -> list[dict[str, Any]]:
        from moto.stepfunctions.exceptions import ExecutionDoesNotExist

        raise ExecutionDoesNotExist(
            f"History of '{self.execution_arn}' was dropped: the local runtime keeps the histories "
            f"of the last {HISTORIES_KEPT} finished executions (statuses and outputs of all)"
        )


class FinishedEnvironment:
    """What a finished execution's ``exec_worker.env`` becomes: the parts moto still reads.

    The backend reads ``callback_pool_manager`` (``SendTask*`` look through executions, finished
    ones too for ``SendTaskFailure``), ``map_run_record_pool_manager`` (map-run APIs) and
    ``event_manager`` (history); ``Execution.stop`` calls ``set_stop``, which a real environment
    ignores once its program has ended. Those parts are kept, the rest is let go.
    """

    def __init__(self, env: Any, execution_arn: str) -> None:
        self.execution_arn = execution_arn
        self.event_manager: Any = env.event_manager
        self.callback_pool_manager = env.callback_pool_manager
        self.map_run_record_pool_manager = env.map_run_record_pool_manager
        self._program_state = env.program_state()

    def program_state(self) -> Any:
        return copy.deepcopy(self._program_state)

    def is_running(self) -> bool:
        return False

    def set_stop(self, stop_date: Any, cause: str | None, error: str | None) -> None:
        return None  # the program has ended: a real environment ignores this too

    def drop_history(self) -> None:
        self.event_manager = DroppedHistory(self.execution_arn)


def prune_finished_threads(threads: list[Any]) -> None:
    """Remove threads that are not alive from ``threads``, in place.

    Nothing in moto reads the list (LocalStack joins it at shutdown); the interpreter only
    appends to it, from many threads. Only the first ``count`` entries are rewritten, in one
    slice assignment, so an append made meanwhile lands after them and is kept.
    """
    count = len(threads)
    threads[:count] = [thread for thread in threads[:count] if thread.is_alive()]


def retire(execution: Any) -> None:
    """Swap a just-finished execution's environment for its ``FinishedEnvironment``."""
    from moto.stepfunctions.parser.utils import TMP_THREADS

    worker = execution.exec_worker
    if worker is None or worker.env is None or isinstance(worker.env, FinishedEnvironment):
        return
    finished = FinishedEnvironment(worker.env, execution.exec_arn)
    worker.env = finished
    with _retired_lock:
        _retired.append(finished)
        while len(_retired) > HISTORIES_KEPT:
            _retired.popleft().drop_history()
        prune_finished_threads(TMP_THREADS)


def patch_retire_finished_executions() -> None:
    """moto lacks: letting go of a finished execution's run; it keeps everything, forever.

    The patch runs after moto's ``BaseExecutionWorkerCommunication.terminated`` (which has just
    copied status, output and error onto the ``Execution``) and replaces the worker's
    environment with a ``FinishedEnvironment``. What is kept: everything ``DescribeExecution``
    and ``ListExecutions`` show, for every execution, as in AWS; the event history of the last
    ``HISTORIES_KEPT`` finished executions (tests read a history right after the execution ends,
    the least-privilege test reads those of a ~35-execution soak); after that
    ``GetExecutionHistory`` answers ``ExecutionDoesNotExist`` with a message saying why, never
    an empty history. Each retirement also prunes dead threads from ``TMP_THREADS``. A thread
    still running for the execution (a waitForTaskToken listener until its timeout) holds the
    real environment itself and lets go of it when it ends.
    """
    from moto.stepfunctions.parser.backend.execution import BaseExecutionWorkerCommunication, Execution
    from moto.stepfunctions.parser.utils import TMP_THREADS

    original = require(BaseExecutionWorkerCommunication, "terminated")
    require(Execution, "to_history_output")
    if not isinstance(TMP_THREADS, list):
        raise MotoInternalsChanged("moto.stepfunctions.parser.utils.TMP_THREADS is no longer a list")

    def terminated(self: Any) -> None:
        original(self)
        retire(self.execution)

    terminated.__wrapped__ = original  # type: ignore[attr-defined]
    BaseExecutionWorkerCommunication.terminated = terminated  # type: ignore[method-assign]
