"""ComprehendToxicity against a Stubber-wrapped client: exact requests, valid canned responses."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ConnectTimeoutError, EndpointConnectionError, ReadTimeoutError
from botocore.stub import Stubber

from reviewflow.errors import ProviderError, ProviderThrottledError, ProviderTimeoutError
from reviewflow.providers.comprehend import ComprehendToxicity

ALL_LABELS = (
    "GRAPHIC",
    "HARASSMENT_OR_ABUSE",
    "HATE_SPEECH",
    "INSULT",
    "PROFANITY",
    "SEXUAL",
    "VIOLENCE_OR_THREAT",
)


def result(toxicity: float, **labels: float) -> dict[str, Any]:
    """One ResultList entry shaped like the service's: every label, low unless given."""
    return {
        "Labels": [{"Name": name, "Score": labels.get(name, 0.01)} for name in ALL_LABELS],
        "Toxicity": toxicity,
    }


def expect_call(stubber: Stubber, segments: list[str], results: list[dict[str, Any]]) -> None:
    stubber.add_response(
        "detect_toxic_content",
        {"ResultList": results},
        expected_params={"TextSegments": [{"Text": s} for s in segments], "LanguageCode": "en"},
    )


def sentence_of_100_bytes(index: int) -> str:
    """A distinct sentence of exactly 100 UTF-8 bytes (with 2-byte characters in it)."""
    body = f"Line {index:03d}: the café blender works, the lid is fine and"
    while len(body.encode()) + 5 <= 99:
        body += " good"
    body += "o" * (99 - len(body.encode()))
    sentence = body + "."
    assert len(sentence.encode()) == 100
    return sentence


def test_short_review_is_one_call_with_the_text_as_one_segment(comprehend, sent_segments) -> None:
    client, stubber = comprehend
    text = "Lovely kettle, boils fast. The lid squeaks a little."
    expect_call(stubber, [text], [result(0.12, INSULT=0.05, PROFANITY=0.03)])

    score = ComprehendToxicity(client).score(text, "en")

    assert score.scorable is True
    assert score.provider == "comprehend"
    assert score.score == pytest.approx(0.12)
    assert score.labels["INSULT"] == pytest.approx(0.05)
    assert set(score.labels) == set(ALL_LABELS)
    assert (score.segments, score.calls) == (1, 1)
    assert sent_segments == [[text]]


def test_25_kb_review_is_scored_in_batches_of_ten_with_max_aggregation(comprehend, sent_segments) -> None:
    client, stubber = comprehend
    sentences = [sentence_of_100_bytes(i) for i in range(250)]
    text = " ".join(sentences)
    assert 25_000 < len(text.encode()) < 26_000
    # 10 sentences + 9 spaces = 1,009 bytes fit in 1 KB; an 11th would not. 25 segments.
    expected = [" ".join(sentences[i : i + 10]) for i in range(0, 250, 10)]
    low = result(0.02)
    batch_results = [
        [low] * 4 + [result(0.70, PROFANITY=0.66)] + [low] * 5,
        [low] * 3 + [result(0.91, INSULT=0.88, PROFANITY=0.40)] + [low] * 6,
        [low] * 4 + [result(0.35, VIOLENCE_OR_THREAT=0.31, PROFANITY=0.72)],
    ]
    expect_call(stubber, expected[0:10], batch_results[0])
    expect_call(stubber, expected[10:20], batch_results[1])
    expect_call(stubber, expected[20:25], batch_results[2])

    score = ComprehendToxicity(client).score(text, "en")

    assert sent_segments == [expected[0:10], expected[10:20], expected[20:25]]
    assert all(len(segment.encode()) <= 1_024 for batch in sent_segments for segment in batch)
    assert (score.segments, score.calls) == (25, 3)
    # The text's score is the max segment score; each label is its own max, from any segment.
    assert score.score == pytest.approx(0.91)
    assert score.labels["INSULT"] == pytest.approx(0.88)
    assert score.labels["PROFANITY"] == pytest.approx(0.72)
    assert score.labels["VIOLENCE_OR_THREAT"] == pytest.approx(0.31)
    assert score.labels["SEXUAL"] == pytest.approx(0.01)


@pytest.mark.parametrize(
    ("text", "expected_segments"),
    [
        ("漢" * 341, ["漢" * 341]),  # 1,023 bytes
        ("a" + "漢" * 341, ["a" + "漢" * 341]),  # 1,024 bytes
        ("ab" + "漢" * 341, ["ab" + "漢" * 340, "漢"]),  # 1,025 bytes: cut before the last character
    ],
    ids=["1023-bytes", "1024-bytes", "1025-bytes"],
)
def test_multibyte_text_at_the_1_kb_boundary(comprehend, sent_segments, text, expected_segments) -> None:
    client, stubber = comprehend
    expect_call(stubber, expected_segments, [result(0.05) for _ in expected_segments])

    score = ComprehendToxicity(client).score(text, "en")

    assert sent_segments == [expected_segments]
    assert [len(s.encode()) <= 1_024 for s in sent_segments[0]] == [True] * len(expected_segments)
    assert (score.segments, score.calls, score.score) == (len(expected_segments), 1, 0.05)


@pytest.mark.parametrize("code", ["ThrottlingException", "TooManyRequestsException"])
def test_throttling_raises_the_retryable_throttled_error(comprehend, code: str) -> None:
    client, stubber = comprehend
    stubber.add_client_error("detect_toxic_content", service_error_code=code, http_status_code=400)

    with pytest.raises(ProviderThrottledError) as caught:
        ComprehendToxicity(client).score("Fine kettle.", "en")

    assert caught.value.retryable is True
    assert code in str(caught.value)


@pytest.mark.parametrize(
    ("code", "status"),
    [("InternalServerException", 500), ("ServiceUnavailable", 503), ("SomethingNew", 502)],
)
def test_server_faults_raise_the_retryable_timeout_error(comprehend, code: str, status: int) -> None:
    client, stubber = comprehend
    stubber.add_client_error("detect_toxic_content", service_error_code=code, http_status_code=status)

    with pytest.raises(ProviderTimeoutError):
        ComprehendToxicity(client).score("Fine kettle.", "en")


class _RaisingClient:
    def __init__(self, error: Exception) -> None:
        self.error = error
        self.calls = 0

    def detect_toxic_content(self, **_: Any) -> dict[str, Any]:
        self.calls += 1
        raise self.error


@pytest.mark.parametrize(
    "error",
    [
        ReadTimeoutError(endpoint_url="https://comprehend.us-east-1.amazonaws.com/"),
        ConnectTimeoutError(endpoint_url="https://comprehend.us-east-1.amazonaws.com/"),
        EndpointConnectionError(endpoint_url="https://comprehend.us-east-1.amazonaws.com/"),
    ],
    ids=lambda error: type(error).__name__,
)
def test_network_timeouts_raise_the_retryable_timeout_error(error: Exception) -> None:
    client = _RaisingClient(error)

    with pytest.raises(ProviderTimeoutError) as caught:
        ComprehendToxicity(client).score("Fine kettle.", "en")

    assert caught.value.__cause__ is error
    assert client.calls == 1


@pytest.mark.parametrize(
    "code", ["InvalidRequestException", "TextSizeLimitExceededException", "AccessDeniedException"]
)
def test_other_client_errors_raise_a_non_retryable_provider_error(comprehend, code: str) -> None:
    client, stubber = comprehend
    stubber.add_client_error("detect_toxic_content", service_error_code=code, http_status_code=400)

    with pytest.raises(ProviderError) as caught:
        ComprehendToxicity(client).score("Fine kettle.", "en")

    assert type(caught.value) is ProviderError
    assert caught.value.retryable is False
    assert "Fine kettle" not in str(caught.value)


@pytest.mark.parametrize("language", ["de", "fr", "ja", "zh"])
def test_other_languages_are_unscorable_without_any_call(comprehend, language: str) -> None:
    client, _ = comprehend  # nothing queued: any call would fail the test

    score = ComprehendToxicity(client).score("Der Wasserkocher ist großartig.", language)

    assert score.scorable is False
    assert score.score is None
    assert score.provider == "comprehend"
    assert (score.segments, score.calls) == (0, 0)
    assert score.note == f"language '{language}' is not supported by Comprehend toxicity detection"


def test_service_refusing_the_language_gives_an_unscorable_result(comprehend) -> None:
    client, stubber = comprehend
    stubber.add_client_error(
        "detect_toxic_content", service_error_code="UnsupportedLanguageException", http_status_code=400
    )

    score = ComprehendToxicity(client).score("Fine kettle.", "en")

    assert score.scorable is False
    assert score.score is None
    assert score.calls == 1
    assert score.note == "language 'en' is not supported by Comprehend toxicity detection"


def test_a_short_result_list_is_an_error_not_a_low_score(comprehend) -> None:
    client, stubber = comprehend
    expect_call(stubber, ["Fine kettle."], [])

    with pytest.raises(ProviderError, match="0 results for 1 segments"):
        ComprehendToxicity(client).score("Fine kettle.", "en")


def test_whitespace_only_text_is_unscorable_without_any_call(comprehend) -> None:
    client, _ = comprehend

    score = ComprehendToxicity(client).score(" \n\t ", "en")

    assert (score.scorable, score.score, score.calls) == (False, None, 0)
