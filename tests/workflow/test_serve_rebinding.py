"""The DNS-rebinding attack replayed against ``reviewflow serve`` (a real subprocess, real HTTP).

A page on ``attacker.example`` whose name is made to resolve to 127.0.0.1 reaches the local
server from the victim's browser with ``Host: attacker.example:<port>``. Before the front checked
``Host`` that page read every pending link's secret from the inbox, decided approvals and drove
the AWS endpoint (reading task tokens from the table, resuming executions). Here each of those
requests is replayed, byte for byte what the browser would send, and must get ``421``; the same
requests with the server's own address must still work, so the refusal is the ``Host`` check and
nothing else. ``-s`` prints the transcript.
"""

from __future__ import annotations

import http.client
import json
import signal
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

import pytest

from reviewflow_local import reviewer
from reviewflow_local.outbox import read_message
from tests.workflow.test_cli_serve import _free_port, _read_until, start_serve

UNCERTAIN = "This toaster sucks. Burns one side and leaves the other pale."
AMZ_JSON = "application/x-amz-json-1.0"
SIGNED = (
    "AWS4-HMAC-SHA256 Credential=local/20261202/us-east-1/{service}/aws4_request, "
    "SignedHeaders=host;x-amz-target, Signature=00"
)

pytestmark = pytest.mark.slow


def _send(
    port: int, method: str, target: str, host: str, body: bytes | None, headers: dict[str, str]
) -> tuple[int, str]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        connection.putrequest(method, target, skip_host=True, skip_accept_encoding=True)
        connection.putheader("Host", host)
        for name, value in headers.items():
            connection.putheader(name, value)
        if body is not None:
            connection.putheader("Content-Length", str(len(body)))
        connection.endheaders(body)
        answer = connection.getresponse()
        return answer.status, answer.read().decode("utf-8", "replace")
    finally:
        connection.close()


def _aws(service: str, target: str, payload: dict[str, Any]) -> tuple[bytes, dict[str, str]]:
    headers = {
        "X-Amz-Target": target,
        "Content-Type": "application/x-amz-json-1.1" if service == "events" else AMZ_JSON,
        "Authorization": SIGNED.format(service=service),
    }
    return json.dumps(payload).encode(), headers


@pytest.fixture(scope="module")
def serve(tmp_path_factory: pytest.TempPathFactory) -> Any:
    workdir = tmp_path_factory.mktemp("rebinding")
    port = _free_port()
    process = start_serve(port, workdir)
    try:
        deadline = time.monotonic() + 240
        bus = _read_until(process, r"event bus:\s+(\S+)", deadline).group(1)
        yield port, bus, workdir, process, deadline
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=60)
        finally:
            if process.poll() is None:
                process.kill()


def _approval_link(workdir: Path, deadline: float) -> str:
    while time.monotonic() < deadline:
        for path in sorted(workdir.glob("runs/*/outbox/*.eml")):
            message = read_message(path)
            if message.approval_links:
                return message.approval_links[0]
        time.sleep(0.1)
    raise AssertionError("no approval email was written")


def test_every_request_a_rebinding_page_makes_is_refused_and_the_real_address_still_works(serve: Any) -> None:
    port, bus, workdir, _, deadline = serve
    own, foreign = f"127.0.0.1:{port}", f"attacker.example:{port}"
    post, post_headers = _aws(
        "events",
        "AWSEvents.PutEvents",
        {
            "Entries": [
                {
                    "EventBusName": bus,
                    "Source": "reviews.storefront",
                    "DetailType": "NEW_REVIEW_POSTED",
                    "Detail": json.dumps(
                        {"review_id": "rebind-1", "product_id": "p-1", "rating": 2, "review_text": UNCERTAIN}
                    ),
                }
            ]
        },
    )
    status, _ = _send(port, "POST", "/", own, post, post_headers)
    assert status == 200  # the storefront (own address) posts a review that waits for a person
    link = _approval_link(workdir, deadline)
    parts = urlsplit(link)
    secret = parts.query.removeprefix("s=")
    approval_path = f"{parts.path}?{parts.query}"
    form = urlencode({"s": secret, "decision": "APPROVED", "reviewer": "attacker"}).encode()
    scan, scan_headers = _aws("dynamodb", "DynamoDB_20120810.Scan", {"TableName": "any"})
    tables, tables_headers = _aws("dynamodb", "DynamoDB_20120810.ListTables", {})
    resume, resume_headers = _aws(
        "stepfunctions", "AWSStepFunctions.SendTaskSuccess", {"taskToken": "stolen", "output": "{}"}
    )
    replay = [
        ("read the inbox (every pending link and its secret)", "GET", "/", None, {"Accept": "text/html"}),
        ("open the approval page", "GET", approval_path, None, {"Accept": "text/html"}),
        (
            "decide the approval",
            "POST",
            parts.path,
            form,
            {"Content-Type": "application/x-www-form-urlencoded", "Origin": f"http://{foreign}"},
        ),
        ("list the tables through the AWS endpoint", "POST", "/", tables, tables_headers),
        ("scan for task tokens", "POST", "/", scan, scan_headers),
        ("resume an execution", "POST", "/", resume, resume_headers),
        ("post a review", "POST", "/", post, post_headers),
    ]
    transcript = []
    for what, method, target, body, headers in replay:
        status, text = _send(port, method, target, foreign, body, headers)
        transcript.append(f"{status}  {method} {target.split('?')[0]:<44} Host: {foreign:<24} ({what})")
        assert status == 421, (what, status, text[:300])
        assert secret not in text
    print("\n".join(["", "rebinding page (foreign Host):", *transcript]))

    # The server's own address still serves everything the attack was refused.
    inbox_status, inbox = _send(port, "GET", "/", own, None, {"Accept": "text/html"})
    listed_status, listed = _send(port, "POST", "/", own, tables, tables_headers)
    assert inbox_status == 200 and "rebind-1" in inbox
    assert listed_status == 200 and json.loads(listed)["TableNames"]
    shown, decided = reviewer.decide(link, "REJECTED", reviewer="Owner", comment="decided from the inbox")
    assert (shown.status, decided.status) == (200, 200)  # still pending: the forged POST changed nothing
    statuses = (
        f"inbox {inbox_status}, ListTables {listed_status}, approval {shown.status} then {decided.status}"
    )
    print(f"own Host: {statuses}")
