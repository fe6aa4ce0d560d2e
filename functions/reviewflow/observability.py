"""Logger, Tracer and Metrics, created once per process, on first use.

Powertools reads its environment (service name, log level, tracing switches) when it is
imported, so it is imported here lazily: importing a handler module stays free of I/O and
environment reads, and tests can set the environment before the first invocation.

``lambda_entry`` is the one decorator every handler uses. It injects the Lambda context into the
logs, sets the correlation id to the review id, captures the handler in X-Ray, flushes metrics,
and keeps the secrets of an event (task tokens, link secrets) out of every log line.
"""

from __future__ import annotations

import functools
import traceback
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:  # pragma: no cover - imports for type checkers only
    from aws_lambda_powertools import Logger, Metrics, Tracer

SERVICE = "reviewflow"
METRICS_NAMESPACE = "Reviewflow"

_Handler = TypeVar("_Handler", bound=Callable[..., Any])


@functools.cache
def get_logger() -> Logger:
    from aws_lambda_powertools import Logger

    return Logger(service=SERVICE)


@functools.cache
def get_tracer() -> Tracer:
    from aws_lambda_powertools import Tracer

    return Tracer(service=SERVICE)


@functools.cache
def get_metrics() -> Metrics:
    import warnings

    from aws_lambda_powertools import Metrics

    # An invocation that fails before adding a metric is normal (the error is what matters);
    # Powertools would warn about the empty flush on every such call.
    warnings.filterwarnings("ignore", message="No application metrics to publish", category=UserWarning)
    return Metrics(namespace=METRICS_NAMESPACE, service=SERVICE)


def add_metric(name: str, value: float = 1, unit: str = "Count") -> None:
    from aws_lambda_powertools.metrics import MetricUnit

    get_metrics().add_metric(name=name, unit=MetricUnit(unit), value=value)


def _review_id_of(event: Any) -> str | None:
    """Best-effort review id for the correlation id; never fails."""
    if not isinstance(event, dict):
        return None
    paths = (
        ("review_id",),
        ("review", "review_id"),
        ("event", "detail", "review_id"),
        ("state", "validation", "review_id"),
    )
    for path in paths:
        node: Any = event
        for key in path:
            node = node.get(key) if isinstance(node, dict) else None
        if isinstance(node, str):
            return node[:128]
    return None


def lambda_entry(handler: _Handler) -> _Handler:
    """Wrap a Lambda entry point with Powertools, building the wrapped function on first call."""

    @functools.cache
    def instrumented() -> Callable[[Any, Any], Any]:
        logger, tracer, metrics = get_logger(), get_tracer(), get_metrics()

        def with_correlation(event: Any, context: Any) -> Any:
            logger.set_correlation_id(_review_id_of(event))
            return handler(event, context)

        # log_event stays off: events carry task tokens and untrusted text.
        wrapped = logger.inject_lambda_context(log_event=False, clear_state=True)(with_correlation)
        wrapped = tracer.capture_lambda_handler(capture_response=False)(wrapped)
        return metrics.log_metrics(capture_cold_start_metric=True)(wrapped)

    @functools.wraps(handler)
    def entry(event: Any, context: Any) -> Any:
        return instrumented()(event, context)

    return entry  # type: ignore[return-value]


def describe_unexpected(exc: BaseException) -> dict[str, Any]:
    """Loggable facts about an unexpected error: type and frames, never the message.

    Messages of SDK and validation errors can echo request values (a task token, a form body).
    """
    frames = traceback.extract_tb(exc.__traceback__)[-8:]
    return {
        "error_type": type(exc).__name__,
        "frames": [f"{f.filename.rsplit('/', 1)[-1]}:{f.lineno} {f.name}" for f in frames],
    }
