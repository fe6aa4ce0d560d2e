"""Storefront delivery in the local runtime: what EventBridge's API destinations do, done here.

moto stores the template's API destinations but never calls them. ``StorefrontDelivery`` reads
the delivery routes from the synthesized template (``storefront_routes``) and, for every outcome
event on the bus that a route's rule matches, POSTs the same transformed payload with the same
headers (the ``Idempotency-Key`` header parameter, the connection's API-key header) to the
route's endpoint, or to ``base_url`` (the local storefront stub, or any URL given) with the
endpoint's path kept. Attempts follow EventBridge's rule (``classify``): bounded by the target's
``RetryPolicy`` (attempts and event age), with exponential backoff and jitter; an exhausted or
non-retryable event goes to the target's dead-letter queue (the template's SQS queue, in moto)
with EventBridge's message attributes. Every delivery is logged (``records()``, ``log_lines()``).

Deliveries run on one worker thread, in order, so a retrying endpoint never holds up the outcome
tap; ``drain()`` waits until every event submitted so far is delivered or dead-lettered.
"""

from __future__ import annotations

import json
import random
import threading
import time
import urllib.error
import urllib.request
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from reviewflow_local.storefront_routes import (
    AttemptResult,
    DeliveryRoute,
    classify,
    read_delivery_routes,
    render_headers,
    render_input,
)

#: EventBridge's client timeout for an API destination call.
REQUEST_TIMEOUT_SECONDS = 5.0
#: Local backoff: EventBridge's exponential backoff with full jitter, scaled down to seconds.
BACKOFF_BASE_SECONDS = 0.2
BACKOFF_CAP_SECONDS = 5.0
#: What the local runtime creates as the connection's API key when no secret of that name exists.
LOCAL_API_KEY = "local-storefront-api-key"


@dataclass(frozen=True)
class HttpAnswer:
    status: int | None  # None: timed out or could not connect
    error: str = ""


#: ``send(method, url, headers, body, timeout)`` -> the answer; never raises for HTTP errors.
Sender = Callable[[str, str, dict[str, str], bytes, float], HttpAnswer]


def urllib_sender(method: str, url: str, headers: dict[str, str], body: bytes, timeout: float) -> HttpAnswer:
    """One HTTP request with the standard library (what EventBridge's client does: no redirects)."""
    if urlsplit(url).scheme not in ("http", "https"):
        raise ValueError(f"storefront endpoint {url!r} is not an http(s) URL")
    request = urllib.request.Request(url, data=body, method=method, headers=headers)  # noqa: S310 (checked above)
    opener = urllib.request.build_opener(_NoRedirect)
    try:
        with opener.open(request, timeout=timeout) as answer:
            return HttpAnswer(int(answer.status))
    except urllib.error.HTTPError as exc:
        return HttpAnswer(int(exc.code), f"HTTP {exc.code}")
    except TimeoutError:
        return HttpAnswer(None, "timeout")
    except urllib.error.URLError as exc:
        reason = exc.reason
        return HttpAnswer(None, "timeout" if isinstance(reason, TimeoutError) else f"connection: {reason}")
    except OSError as exc:
        return HttpAnswer(None, f"connection: {type(exc).__name__}")


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


def exponential_backoff(rng: random.Random | None = None) -> Callable[[int], float]:
    """Full-jitter backoff: before retry ``n`` (1-based) wait up to ``base * 2**(n-1)``, capped."""
    chooser = rng or random.Random()  # noqa: S311 (jitter, not a secret)

    def delay(retry: int) -> float:
        return chooser.uniform(0, min(BACKOFF_CAP_SECONDS, BACKOFF_BASE_SECONDS * 2 ** (retry - 1)))

    return delay


@dataclass(frozen=True)
class Attempt:
    number: int
    status: int | None
    result: AttemptResult
    error: str = ""

    @property
    def label(self) -> str:
        return str(self.status) if self.status is not None else (self.error or "no answer")


@dataclass
class DeliveryRecord:
    """One event's delivery to one route: every attempt, and how it ended."""

    event_id: str
    review_id: str
    detail_type: str
    rule_id: str
    url: str
    headers: dict[str, str]
    body: str
    attempts: list[Attempt] = field(default_factory=list)
    dead_lettered: bool = False
    exhausted_condition: str = ""  # MaximumRetryAttempts | MaximumEventAgeInSeconds | "" (final 4xx)

    @property
    def delivered(self) -> bool:
        return bool(self.attempts) and self.attempts[-1].result is AttemptResult.DELIVERED

    @property
    def state(self) -> str:
        """``success``, ``retried`` (delivered after more than one attempt) or ``dead-lettered``."""
        if self.dead_lettered:
            return "dead-lettered"
        return "success" if len(self.attempts) == 1 else "retried"

    def line(self) -> str:
        tries = ", ".join(attempt.label for attempt in self.attempts)
        return (
            f"storefront {self.state:<13} {self.detail_type:<27} review={self.review_id} "
            f"attempts={len(self.attempts)} ({tries}) -> {self.url}"
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "state": self.state,
            "event_id": self.event_id,
            "review_id": self.review_id,
            "detail_type": self.detail_type,
            "url": self.url,
            "attempts": [a.label for a in self.attempts],
            "exhausted_condition": self.exhausted_condition,
        }


#: ``dead_letter(queue_logical_id, body, attributes)``: put the event in the target's DLQ.
DeadLetter = Callable[[str, str, dict[str, str]], None]


def endpoint_url(endpoint: str, base_url: str | None) -> str:
    """The route's endpoint, or its path and query under ``base_url`` (the stub)."""
    if not base_url:
        return endpoint
    parts, base = urlsplit(endpoint), urlsplit(base_url)
    path = base.path.rstrip("/") + (parts.path or "/")
    return urlunsplit((base.scheme, base.netloc, path, parts.query, ""))


def _matches(pattern: dict[str, Any], event: dict[str, Any]) -> bool:
    from moto.events.models import EventPattern

    return bool(EventPattern.load(json.dumps(pattern)).matches_event(event))  # type: ignore[arg-type]


class StorefrontDelivery:
    def __init__(
        self,
        routes: Sequence[DeliveryRoute],
        *,
        dead_letter: DeadLetter,
        base_url: str | None = None,
        sender: Sender = urllib_sender,
        backoff: Callable[[int], float] | None = None,
        sleep: Callable[[float], None] = time.sleep,
        api_keys: dict[str, str] | None = None,
        timeout_seconds: float = REQUEST_TIMEOUT_SECONDS,
        on_record: Callable[[DeliveryRecord], None] | None = None,
    ) -> None:
        self.routes = list(routes)
        self.base_url = base_url
        self._dead_letter = dead_letter
        self._send = sender
        self._backoff = backoff if backoff is not None else exponential_backoff()
        self._sleep = sleep
        self._api_keys = api_keys or {}
        self._timeout = timeout_seconds
        self._on_record = on_record
        self._records: list[DeliveryRecord] = []
        self._queue: deque[dict[str, Any]] = deque()
        self._busy = 0
        self._changed = threading.Condition()
        self._stopped = False
        self._worker: threading.Thread | None = None

    # ---------------------------------------------------------------- synchronous delivery

    def deliver(self, event: dict[str, Any]) -> list[DeliveryRecord]:
        """Deliver ``event`` to every route whose rule matches it (on this thread)."""
        records = [
            self._deliver_one(route, event) for route in self.routes if _matches(route.event_pattern, event)
        ]
        with self._changed:
            self._records.extend(records)
            self._changed.notify_all()
        if self._on_record is not None:
            for record in records:
                self._on_record(record)
        return records

    def _deliver_one(self, route: DeliveryRoute, event: dict[str, Any]) -> DeliveryRecord:
        body = render_input(route.input_transformer, event, rule_name=route.rule_id)
        headers = {"Content-Type": "application/json; charset=utf-8", **render_headers(route, event)}
        if route.api_key_header:
            headers[route.api_key_header] = self._api_keys.get(route.api_key_secret or "", LOCAL_API_KEY)
        record = DeliveryRecord(
            event_id=str(event.get("id", "")),
            review_id=str(event.get("detail", {}).get("review_id", "")),
            detail_type=str(event.get("detail-type", "")),
            rule_id=route.rule_id,
            url=endpoint_url(route.endpoint, self.base_url),
            headers={k: v for k, v in headers.items() if k != route.api_key_header},
            body=body,
        )
        waited = 0.0
        while True:
            answer = self._send(route.http_method, record.url, headers, body.encode("utf-8"), self._timeout)
            result = classify(answer.status)
            record.attempts.append(Attempt(len(record.attempts) + 1, answer.status, result, answer.error))
            if result is AttemptResult.DELIVERED:
                return record
            if result is AttemptResult.FAILED:
                break
            retries = len(record.attempts) - 1
            if retries >= route.retry_attempts:
                record.exhausted_condition = "MaximumRetryAttempts"
                break
            delay = self._backoff(retries + 1)
            if waited + delay > route.max_event_age_seconds:
                record.exhausted_condition = "MaximumEventAgeInSeconds"
                break
            waited += delay
            self._sleep(delay)
        self._send_to_dead_letter_queue(route, event, record)
        return record

    def _send_to_dead_letter_queue(
        self, route: DeliveryRoute, event: dict[str, Any], record: DeliveryRecord
    ) -> None:
        record.dead_lettered = True
        if route.dead_letter_queue_id is None:
            return  # EventBridge drops it; the log still shows it
        last = record.attempts[-1]
        attributes = {
            "ERROR_CODE": "SDK_CLIENT_ERROR" if last.status is None else f"{last.status}",
            "ERROR_MESSAGE": last.label,
            "EXHAUSTED_RETRY_CONDITION": record.exhausted_condition or "NonRetryableError",
            "RETRY_ATTEMPTS": str(len(record.attempts) - 1),
            "RULE_ARN": route.rule_id,
            "TARGET_ARN": route.destination_id,
        }
        self._dead_letter(route.dead_letter_queue_id, json.dumps(event), attributes)

    # ---------------------------------------------------------------- the worker thread

    def start(self) -> StorefrontDelivery:
        self._worker = threading.Thread(target=self._run, name="reviewflow-storefront", daemon=True)
        self._worker.start()
        return self

    def stop(self) -> None:
        with self._changed:
            self._stopped = True
            self._changed.notify_all()
        if self._worker is not None:
            self._worker.join(timeout=2)

    def submit(self, event: dict[str, Any]) -> None:
        """Queue ``event`` for the worker (what the outcome tap calls for every outcome)."""
        with self._changed:
            self._queue.append(event)
            self._changed.notify_all()

    def drain(self, timeout: float) -> list[DeliveryRecord]:
        """Wait until every submitted event is delivered or dead-lettered; return all records."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while self._queue or self._busy:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError(f"storefront deliveries still running after {timeout:.0f} s")
                self._changed.wait(remaining)
            return list(self._records)

    def wait_for(
        self, condition: Callable[[list[DeliveryRecord]], bool], timeout: float
    ) -> list[DeliveryRecord]:
        """Block until ``condition(records)`` holds (an outcome is listed before it is submitted)."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while not condition(list(self._records)):
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError(f"storefront condition not met in {timeout:.0f} s")
                self._changed.wait(remaining)
            return list(self._records)

    def records(self) -> list[DeliveryRecord]:
        with self._changed:
            return list(self._records)

    def log_lines(self) -> list[str]:
        return [record.line() for record in self.records()]

    def _run(self) -> None:
        while True:
            with self._changed:
                while not self._queue and not self._stopped:
                    self._changed.wait()
                if self._stopped:
                    return
                event = self._queue.popleft()
                self._busy += 1
            try:
                self.deliver(event)
            finally:
                with self._changed:
                    self._busy -= 1
                    self._changed.notify_all()


def moto_dead_letter(cloudformation: Any, sqs: Any, stack_name: str) -> DeadLetter:
    """Dead letters into the template's queue in moto, found by its logical id."""
    urls: dict[str, str] = {}

    def send(queue_id: str, body: str, attributes: dict[str, str]) -> None:
        if queue_id not in urls:
            resource = cloudformation.describe_stack_resource(
                StackName=stack_name, LogicalResourceId=queue_id
            )
            urls[queue_id] = resource["StackResourceDetail"]["PhysicalResourceId"]
        sqs.send_message(
            QueueUrl=urls[queue_id],
            MessageBody=body,
            MessageAttributes={k: {"DataType": "String", "StringValue": v} for k, v in attributes.items()},
        )

    return send


def local_api_keys(secretsmanager: Any, routes: Sequence[DeliveryRoute]) -> dict[str, str]:
    """The API key of each connection secret, from moto's Secrets Manager (created if missing)."""
    keys: dict[str, str] = {}
    for secret_id in {r.api_key_secret for r in routes if r.api_key_secret}:
        try:
            keys[secret_id] = secretsmanager.get_secret_value(SecretId=secret_id)["SecretString"]
        except secretsmanager.exceptions.ResourceNotFoundException:
            secretsmanager.create_secret(Name=secret_id, SecretString=LOCAL_API_KEY)
            keys[secret_id] = LOCAL_API_KEY
    return keys


def attach(
    pipeline: Any,
    *,
    base_url: str | None,
    backoff: Callable[[int], float] | None = None,
    sleep: Callable[[float], None] = time.sleep,
    timeout_seconds: float = REQUEST_TIMEOUT_SECONDS,
    on_record: Callable[[DeliveryRecord], None] | None = None,
) -> StorefrontDelivery | None:
    """Deliver a started ``LocalPipeline``'s outcome events as its template says (None: no route)."""
    routes = read_delivery_routes(pipeline.assembly.template)
    if not routes:
        return None
    delivery = StorefrontDelivery(
        routes,
        dead_letter=moto_dead_letter(
            pipeline.client("cloudformation"), pipeline.client("sqs"), pipeline.stack_name
        ),
        base_url=base_url,
        backoff=backoff,
        sleep=sleep,
        api_keys=local_api_keys(pipeline.client("secretsmanager"), routes),
        timeout_seconds=timeout_seconds,
        on_record=on_record,
    ).start()
    pipeline.outcome_listeners.append(delivery.submit)
    pipeline.front.show_deliveries(lambda: [record.as_dict() for record in delivery.records()])
    pipeline.storefront = delivery
    return delivery


#: The storefront the local runtime synthesizes with for ``reviewflow run --storefront``: https
#: endpoints as a real deployment has them (the delivery sends them to the stub or the given URL).
LOCAL_STOREFRONT: dict[str, Any] = {
    "reply_url": "https://storefront.invalid/reviews/replies",
    "moderation_url": "https://storefront.invalid/reviews/moderation",
    "auth": {"api_key": {"header_name": "x-api-key", "secret_name": "reviewflow/local-storefront-api-key"}},
    "retry_attempts": 3,
    "max_event_age_seconds": 300,
}


def storefront_overrides(target: str | None) -> dict[str, Any]:
    """Synth overrides for ``--storefront stub|<base URL>`` (none without the option)."""
    return {"storefront": LOCAL_STOREFRONT} if target else {}


def attach_for_cli(pipeline: Any, target: str | None) -> tuple[StorefrontDelivery | None, Any]:
    """``--storefront stub`` serves the stub (faults from ``REVIEWFLOW_STOREFRONT_FAULTS``-style
    spec in ``target``: ``stub:/reviews/replies=500,timeout``); a URL delivers there."""
    if not target:
        return None, None
    from reviewflow_local.storefront_stub import StorefrontStub, parse_faults

    stub = None
    if target == "stub" or target.startswith("stub:"):
        stub = StorefrontStub(faults=parse_faults(target.partition(":")[2])).start()
        base_url = stub.url
    else:
        if urlsplit(target).scheme not in ("http", "https"):
            raise ValueError(f"--storefront {target!r} is neither 'stub' nor an http(s) URL")
        base_url = target
    return attach(pipeline, base_url=base_url), stub
