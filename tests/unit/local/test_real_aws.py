"""Real AWS for the model calls only: the split between the user's credentials and the emulation.

No request leaves the process: botocore ``before-send`` hooks read each request exactly as it
would go on the wire (URL and SigV4 ``Authorization`` header) and answer the real-AWS ones with
bodies in the services' documented shapes, which botocore then parses with the real API models.
Also the canary of ``moto_patches.real_clients``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import boto3
import pytest
from botocore.awsrequest import AWSResponse
from botocore.credentials import Credentials
from moto import mock_aws

from reviewflow.config import get_settings
from reviewflow.contracts import EnvVar
from reviewflow.models.events import ReviewPosted
from reviewflow.providers import registry
from reviewflow_local import moto_patches
from reviewflow_local.cli_checks import CliError
from reviewflow_local.moto_patches.real_clients import moto_before_send_handler, without_emulation
from reviewflow_local.real_aws import RealAwsModels

REAL_KEY = "AKIAUSERREALKEY00001"
REAL_REGION = "eu-west-1"
MODEL = "eu.amazon.nova-lite-v1:0"
REVIEW = ReviewPosted(review_id="r-1", product_id="p-1", rating=5, review_text="Lovely kettle, boils fast.")
_CREDENTIAL = re.compile(r"Credential=([^/]+)/\d{8}/([a-z0-9-]+)/([a-z0-9-]+)/aws4_request")


class _Body:
    """The raw stream ``AWSResponse`` reads (``content`` reads it whole)."""

    def __init__(self, data: bytes) -> None:
        self._data = data

    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self._data


@dataclass
class Wire:
    """Every request a hooked client sent: (host, access key, signing region, signing service)."""

    seen: list[tuple[str, str, str, str]] = field(default_factory=list)

    def record(self, request: Any) -> None:
        authorization = request.headers.get("Authorization", b"")
        text = authorization.decode() if isinstance(authorization, bytes) else str(authorization)
        match = _CREDENTIAL.search(text)
        assert match, f"unsigned request to {request.url}"
        self.seen.append((str(urlsplit(request.url).hostname), *match.groups()))

    def observe(self, request: Any, **_: Any) -> None:
        self.record(request)  # and let the next handler (moto) answer

    def answer_as_aws(self, request: Any, **_: Any) -> AWSResponse:
        """What Bedrock Converse and Comprehend DetectToxicContent would answer."""
        self.record(request)
        body = json.loads(request.body or b"{}")
        if "/converse" in request.url:
            text = json.dumps({"sentiment": "POSITIVE", "reason": "The reviewer praises the kettle."})
            document: dict[str, Any] = {
                "output": {"message": {"role": "assistant", "content": [{"text": text}]}},
                "stopReason": "end_turn",
                "usage": {"inputTokens": 120, "outputTokens": 18, "totalTokens": 138},
                "metrics": {"latencyMs": 240},
            }
        else:
            segment = {"Labels": [{"Name": "PROFANITY", "Score": 0.01}], "Toxicity": 0.02}
            document = {"ResultList": [segment for _ in body["TextSegments"]]}
        headers = {"Content-Type": "application/x-amz-json-1.1", "x-amzn-RequestId": "test"}
        return AWSResponse(request.url, 200, headers, _Body(json.dumps(document).encode()))  # type: ignore[arg-type]


def _real_session() -> boto3.Session:
    return boto3.Session(
        aws_access_key_id=REAL_KEY, aws_secret_access_key="user-secret", region_name=REAL_REGION
    )


@pytest.fixture
def emulation() -> Iterator[None]:
    moto_patches.apply()
    with mock_aws():
        yield


def test_canary_moto_answers_every_client_until_its_handler_is_removed(emulation: None) -> None:
    # botocore calls every before-send handler and uses the first answer: moto's comes first.
    wire = Wire()
    emulated = boto3.client("comprehend", region_name="us-east-1")
    emulated.meta.events.register("before-send", wire.answer_as_aws)
    with pytest.raises(NotImplementedError, match="detect_toxic_content"):  # moto's, not ours
        emulated.detect_toxic_content(TextSegments=[{"Text": "hi"}], LanguageCode="en")
    assert callable(moto_before_send_handler())

    bypassed = without_emulation(boto3.client("comprehend", region_name="us-east-1"))
    bypassed.meta.events.register("before-send", wire.answer_as_aws)
    answer = bypassed.detect_toxic_content(TextSegments=[{"Text": "hi"}], LanguageCode="en")
    assert answer["ResultList"][0]["Toxicity"] == pytest.approx(0.02)  # our hook answered, not moto
    assert [host for host, *_ in wire.seen] == ["comprehend.us-east-1.amazonaws.com"]


def test_capture_reads_the_users_credentials_and_region() -> None:
    real = RealAwsModels.capture(("bedrock-runtime", "comprehend"), session=_real_session())
    assert (real.access_key_id, real.region) == (REAL_KEY, REAL_REGION)
    assert "user-secret" not in repr(real)
    warning = real.warning()
    assert f"in {REAL_REGION}" in warning and "...0001" in warning and "user-secret" not in warning
    assert "Amazon Bedrock" in warning and "Amazon Comprehend" in warning and "billed" in warning


@dataclass
class _Session:
    """What ``capture`` reads of a boto3 session, for the cases a real one cannot be made to give."""

    credentials: Credentials | None
    region_name: str | None = REAL_REGION

    def get_credentials(self) -> Credentials | None:
        return self.credentials


def test_capture_refuses_in_one_line_without_credentials_or_region() -> None:
    with pytest.raises(
        CliError, match="--llm bedrock calls real AWS with your credentials, and none were found"
    ):
        RealAwsModels.capture(("bedrock-runtime",), session=_Session(None))
    no_region = _Session(Credentials(REAL_KEY, "s"), region_name=None)
    with pytest.raises(CliError, match="--toxicity comprehend needs an AWS region; set AWS_REGION"):
        RealAwsModels.capture(("comprehend",), session=no_region)
    with pytest.raises(ValueError, match="only bedrock-runtime, comprehend may reach AWS"):
        RealAwsModels.capture(("dynamodb",), session=_real_session())


def test_real_credentials_sign_only_the_two_model_clients_and_never_reach_the_emulation(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    moto_patches.apply()
    # Captured before moto starts, as ``reviewflow run`` does: moto fakes the environment's keys.
    real = RealAwsModels.capture(("bedrock-runtime", "comprehend"), session=_real_session())
    wire = Wire()
    with mock_aws():
        for variable, value in {
            EnvVar.LLM_PROVIDER: "bedrock",
            EnvVar.TOXICITY_PROVIDER: "comprehend",
            EnvVar.MODEL_ID: MODEL,
        }.items():
            monkeypatch.setenv(variable, value)
        get_settings.cache_clear()
        registry.reset()
        clients = real.install()
        for client in clients.values():
            client.meta.events.register("before-send", wire.answer_as_aws)  # after moto's, were it there
        emulated = [registry.aws_client(service) for service in ("dynamodb", "sns", "stepfunctions", "s3")]
        for client in emulated:
            client.meta.events.register_first("before-send", wire.observe)

        # The providers the handlers get from the registry, built from the function settings.
        score = registry.toxicity_provider().score(REVIEW.review_text, "en")
        sentiment = registry.sentiment_provider().detect(REVIEW)
        emulated[0].list_tables()
        emulated[1].list_topics()
        emulated[2].list_state_machines()
        emulated[3].list_buckets()

    assert score.provider == "comprehend" and score.score == pytest.approx(0.02)
    assert (sentiment.sentiment, sentiment.model_id) == ("POSITIVE", MODEL)
    real_hosts = {f"bedrock-runtime.{REAL_REGION}.amazonaws.com", f"comprehend.{REAL_REGION}.amazonaws.com"}
    by_key: dict[str, set[str]] = {}
    for host, key, region, _service in wire.seen:
        by_key.setdefault(key, set()).add(host)
        if host in real_hosts:
            assert region == REAL_REGION
    assert by_key[REAL_KEY] == real_hosts  # the user's key signed exactly the two model services
    emulated_hosts = {host for host, key, *_ in wire.seen if key != REAL_KEY}
    assert len(emulated_hosts) == 4 and not emulated_hosts & real_hosts
    emulated_keys = {key for host, key, *_ in wire.seen if host not in real_hosts}
    assert emulated_keys == {"FOOBARKEY"}  # moto's fake key: the emulation never saw the user's
    registry.reset()


def test_a_service_outside_the_two_is_never_given_the_real_credentials() -> None:
    real = RealAwsModels.capture(("comprehend",), session=_real_session())
    with pytest.raises(ValueError, match="bedrock-runtime stays in the emulation"):
        real.client("bedrock-runtime")
    with pytest.raises(ValueError, match="dynamodb stays in the emulation"):
        real.client("dynamodb")
