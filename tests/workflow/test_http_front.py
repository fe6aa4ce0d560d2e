"""The local HTTP front over real loopback HTTP: it answers only to its own address, and it
serves concurrent requests without dropping any.

A web page whose DNS name rebinds to 127.0.0.1 reaches the front with its own name in ``Host``;
if the front answered, the page could read the inbox (every pending link's secret), decide
approvals or drive the AWS endpoint of ``reviewflow serve``. Every such request gets ``421``.
"""

from __future__ import annotations

import http.client
import json
import socket
import threading
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode, urlsplit

import boto3
import pytest

from reviewflow_local.http_front import HttpFront, moto_server_app, wait_until_listening
from tests.workflow.conftest import approval_link

UNCERTAIN = "This toaster sucks. Burns one side and leaves the other pale."
FOREIGN_HOSTS = ("rebind.example.com:{port}", "127.0.0.1.nip.example:{port}", "127.0.0.1", "localhost")
AWS_TARGET = {
    "X-Amz-Target": "AWSEvents.ListEventBuses",
    "Content-Type": "application/x-amz-json-1.1",
    # moto does not check signatures; the front only needs to see a SigV4-shaped request.
    "Authorization": "AWS4-HMAC-SHA256 Credential=local/20261202/us-east-1/events/aws4_request, "
    "SignedHeaders=host;x-amz-target, Signature=00",
}


@pytest.fixture(scope="module")
def served(stack_factory: Any) -> Iterator[tuple[Any, HttpFront, str]]:
    """The stack (its own front serves inbox and routes), a front with the AWS endpoint as
    ``serve`` builds it, and the emailed link of one pending approval."""
    stack = stack_factory()
    aws = HttpFront(
        lambda_client=stack.client("lambda"),
        routes=stack.front.routes,
        stage=stack.front.stage,
        outbox=stack.outbox,
        pending_approvals=stack.pending_approvals,
        aws_app=moto_server_app(),
    ).start()
    wait_until_listening(aws)
    stack.post_reviews([{"review_id": "host-1", "product_id": "p-1", "rating": 2, "review_text": UNCERTAIN}])
    link = approval_link(stack, "host-1", "REVIEW")
    try:
        yield stack, aws, link
    finally:
        aws.stop()


def request(
    port: int,
    method: str,
    target: str,
    host: str | None,
    body: bytes = b"",
    headers: dict[str, str] | None = None,
) -> tuple[int, bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        sent = dict(headers or {})
        if host is not None:
            sent["Host"] = host  # http.client then sends this one instead of its own
        connection.putrequest(method, target, skip_host=True, skip_accept_encoding=True)
        for key, value in sent.items():
            connection.putheader(key, value)
        connection.putheader("Content-Length", str(len(body)))
        connection.endheaders(body)
        answer = connection.getresponse()
        return answer.status, answer.read()
    finally:
        connection.close()


def _path(link: str) -> str:
    parts = urlsplit(link)
    return f"{parts.path}?{parts.query}"


def _assert_misdirected(status: int, body: bytes, port: int) -> None:
    assert status == 421, body
    text = body.decode("ascii")
    assert text.count("\n") == 1 and text.startswith("misdirected request:"), text
    assert f"127.0.0.1:{port}" in text


def test_the_inbox_answers_its_own_address_and_refuses_any_other(served: tuple[Any, HttpFront, str]) -> None:
    stack, _, link = served
    port = stack.front.port
    secret = link.split("s=", 1)[1]
    for host in (f"127.0.0.1:{port}", f"localhost:{port}", f"LOCALHOST:{port}"):
        status, body = request(port, "GET", "/", host)
        assert status == 200 and secret in body.decode("utf-8"), host  # what a rebinding page would read
    for host in FOREIGN_HOSTS:
        status, body = request(port, "GET", "/", host.format(port=port))
        _assert_misdirected(status, body, port)
        assert secret not in body.decode("ascii")
    _assert_misdirected(*request(port, "GET", "/", None), port)  # no Host at all


def test_the_approval_route_refuses_a_foreign_host_before_the_function_runs(
    served: tuple[Any, HttpFront, str],
) -> None:
    stack, _, link = served
    port = stack.front.port
    status, _ = request(port, "GET", _path(link), f"127.0.0.1:{port}")
    assert status == 200
    secret = link.split("s=", 1)[1]
    form = urlencode(
        {"secret": secret, "decision": "APPROVED", "reviewer": "Mallory", "comment": ""}
    ).encode()
    headers = {
        "Content-Type": "application/x-www-form-urlencoded",
        "Origin": "null",
        "Sec-Fetch-Site": "same-origin",
    }
    for host in FOREIGN_HOSTS:
        _assert_misdirected(*request(port, "GET", _path(link), host.format(port=port)), port)
        _assert_misdirected(
            *request(port, "POST", urlsplit(link).path, host.format(port=port), form, headers), port
        )
    pending = [a for a in stack.pending_approvals() if a["review_id"] == "host-1"]
    assert [a["status"] for a in pending] == ["PENDING"]


def test_the_aws_endpoint_refuses_a_foreign_host(served: tuple[Any, HttpFront, str]) -> None:
    stack, aws, _ = served
    body = b"{}"
    status, answer = request(aws.port, "POST", "/", f"127.0.0.1:{aws.port}", body, AWS_TARGET)
    assert status == 200
    assert stack.resources.bus_name in {bus["Name"] for bus in json.loads(answer)["EventBuses"]}
    for host in FOREIGN_HOSTS:
        _assert_misdirected(
            *request(aws.port, "POST", "/", host.format(port=aws.port), body, AWS_TARGET), aws.port
        )

    for endpoint in (aws.url, f"http://localhost:{aws.port}"):  # what the AWS CLI and boto3 send
        events = boto3.client(
            "events",
            endpoint_url=endpoint,
            region_name="us-east-1",
            aws_access_key_id="local",
            aws_secret_access_key="local",  # any value: nothing leaves the machine
        )
        assert stack.resources.bus_name in {bus["Name"] for bus in events.list_event_buses()["EventBuses"]}


def test_fifty_concurrent_posts_each_get_an_answer(served: tuple[Any, HttpFront, str]) -> None:
    stack, _, link = served
    port = stack.front.port
    form = urlencode({"secret": "wrong", "decision": "APPROVED", "reviewer": "Load", "comment": ""}).encode()
    headers = {
        "Content-Type": "application/x-www-form-urlencoded",
        "Origin": "null",
        "Sec-Fetch-Site": "same-origin",
    }
    start = threading.Barrier(50)
    answers: list[int] = []
    failures: list[BaseException] = []

    def post() -> None:
        start.wait()
        try:
            answers.append(request(port, "POST", urlsplit(link).path, f"127.0.0.1:{port}", form, headers)[0])
        except (OSError, http.client.HTTPException) as exc:  # a reset or refused connection
            failures.append(exc)

    threads = [threading.Thread(target=post) for _ in range(50)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    assert answers == [403] * 50  # the function's answer to a wrong secret, 50 times


def test_a_port_in_use_is_an_os_error_not_an_exit(served: tuple[Any, HttpFront, str]) -> None:
    stack, _, _ = served
    with pytest.raises(OSError):
        HttpFront(
            lambda_client=stack.client("lambda"),
            routes=[],
            stage="prod",
            outbox=stack.outbox,
            pending_approvals=list,
            port=stack.front.port,
        )
    with socket.create_connection(("127.0.0.1", stack.front.port), timeout=5):
        pass  # the front that holds the port still listens
