"""Toxicity from Amazon Comprehend ``DetectToxicContent``: the AWS adapter of ``ToxicityProvider``.

The API takes at most 10 segments of at most 1 KB each per call and, per its API reference,
scores English only (the SDK's ``LanguageCode`` enum lists more languages, but the service
rejects them). Text in any other language is returned unscorable without a call, so the
workflow sends it to a person instead of guessing.

Errors become the typed errors the workflow's Retry/Catch match on, chosen by error code:
throttling is retried with backoff, server faults and network timeouts are retried as timeouts,
and everything else fails the task without a retry.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectionClosedError,
    ConnectTimeoutError,
    EndpointConnectionError,
    ReadTimeoutError,
)

from reviewflow.domain.segmentation import batch_segments, split_segments
from reviewflow.domain.toxicity import SegmentMaxima, unsupported_language
from reviewflow.errors import ProviderError, ProviderThrottledError, ProviderTimeoutError
from reviewflow.models.events import ToxicityScore

SERVICE = "Comprehend"
SUPPORTED_LANGUAGES: frozenset[str] = frozenset({"en"})

THROTTLING_CODES = frozenset(
    {"ThrottlingException", "TooManyRequestsException", "Throttling", "RequestLimitExceeded"}
)
UNAVAILABLE_CODES = frozenset(
    {
        "InternalServerException",
        "InternalFailure",
        "ServiceUnavailable",
        "ServiceUnavailableException",
        "RequestTimeout",
        "RequestTimeoutException",
    }
)
_NETWORK_TIMEOUTS = (ReadTimeoutError, ConnectTimeoutError, EndpointConnectionError, ConnectionClosedError)


class _UnsupportedLanguage(Exception):
    """The service refused the language after all: an unscorable result, not a failure."""


class ComprehendToxicity:
    """``ToxicityProvider`` backed by a boto3 Comprehend client (built by the registry)."""

    name = "comprehend"

    def __init__(self, client: Any, supported_languages: frozenset[str] = SUPPORTED_LANGUAGES) -> None:
        self._client = client
        self.supported_languages = supported_languages

    def score(self, text: str, language: str) -> ToxicityScore:
        if language not in self.supported_languages:
            return unsupported_language(self.name, language, SERVICE)
        maxima = SegmentMaxima()
        calls = 0
        for batch in batch_segments(split_segments(text)):
            calls += 1
            try:
                response = self._detect(batch, language)
            except _UnsupportedLanguage:
                return unsupported_language(self.name, language, SERVICE, calls=calls)
            maxima.extend(_segment_results(response, expected=len(batch)))
        return maxima.result(self.name, calls)

    def _detect(self, batch: list[str], language: str) -> Mapping[str, Any]:
        try:
            return self._client.detect_toxic_content(  # type: ignore[no-any-return]
                TextSegments=[{"Text": segment} for segment in batch], LanguageCode=language
            )
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "")
            status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
            if code == "UnsupportedLanguageException":
                raise _UnsupportedLanguage from exc
            if code in THROTTLING_CODES:
                raise ProviderThrottledError(f"{SERVICE} throttled DetectToxicContent ({code})") from exc
            if code in UNAVAILABLE_CODES or status >= 500:
                raise ProviderTimeoutError(f"{SERVICE} is unavailable ({code or status})") from exc
            if code == "TextSizeLimitExceededException":
                sizes = [len(segment.encode("utf-8")) for segment in batch]
                raise ProviderError(
                    f"{SERVICE} rejected segment sizes {sizes} bytes as too large ({code})"
                ) from exc
            raise ProviderError(f"{SERVICE} DetectToxicContent failed ({code or status})") from exc
        except _NETWORK_TIMEOUTS as exc:
            raise ProviderTimeoutError(f"{SERVICE} did not answer in time ({type(exc).__name__})") from exc
        except BotoCoreError as exc:
            raise ProviderError(f"{SERVICE} call failed ({type(exc).__name__})") from exc


def _segment_results(response: Mapping[str, Any], expected: int) -> list[tuple[float, dict[str, float]]]:
    """(score, labels) per segment; a short or score-less answer is an error, never a zero."""
    results = response.get("ResultList") or []
    if len(results) != expected:
        raise ProviderError(f"{SERVICE} returned {len(results)} results for {expected} segments")
    parsed = []
    for result in results:
        if "Toxicity" not in result:
            raise ProviderError(f"{SERVICE} returned a result without a Toxicity score")
        labels: dict[str, float] = {}
        for label in result.get("Labels") or []:
            name, value = label.get("Name"), label.get("Score")
            if name is not None and value is not None:
                labels[name] = max(labels.get(name, value), float(value))
        parsed.append((float(result["Toxicity"]), labels))
    return parsed
