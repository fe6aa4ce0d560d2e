"""The evaluation bucket in S3 (``EvaluationStore``): datasets, case results, reports.

A dataset is read by version: the ETag ``PrepareEvaluation`` saw is sent as ``IfMatch`` by every
later read, so an object overwritten mid-evaluation fails the reads instead of mixing two golden
sets in one report. Results are read with a small thread pool, because an evaluation of 1,000
cases and several candidates leaves thousands of small objects.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from reviewflow.errors import InvalidInputError, ProviderError
from reviewflow.models.evaluation import DatasetLocation
from reviewflow.providers.aws_errors import ErrorCodes, error_code, translate

S3_CODES = ErrorCodes(
    throttling=frozenset({"SlowDown", "Throttling", "ThrottlingException", "RequestLimitExceeded"}),
    transient=frozenset({"InternalError", "ServiceUnavailable", "RequestTimeout", "500", "503"}),
    misconfigured=frozenset({"NoSuchBucket", "AccessDenied", "AllAccessDisabled", "403"}),
    check="the evaluation bucket and the function's grants on its folders",
)
_MISSING = frozenset({"NoSuchKey", "404"})
_CHANGED = frozenset({"PreconditionFailed", "412"})
#: A golden set of 1,000 cases is about 1 MB; anything far larger is not a dataset.
MAX_DATASET_BYTES = 64 * 1024 * 1024
READERS = 16


def _wrap(exc: ClientError | BotoCoreError, what: str) -> Exception:
    return translate(exc, f"S3 {what}", S3_CODES, ProviderError)


class S3EvaluationStore:
    def __init__(self, client: Any, bucket: str, *, readers: int = READERS) -> None:
        self._s3 = client
        self.bucket = bucket
        self._readers = readers

    def read_dataset(self, location: DatasetLocation, *, etag: str | None = None) -> tuple[str, str]:
        if location.bucket != self.bucket:
            raise InvalidInputError("the dataset must be in the evaluation bucket")
        params: dict[str, Any] = {"Bucket": location.bucket, "Key": location.key}
        if etag:
            params["IfMatch"] = etag
        try:
            answer = self._s3.get_object(**params)
        except ClientError as exc:
            code = error_code(exc)
            if code in _MISSING:
                raise InvalidInputError("no dataset at the given key of the evaluation bucket") from None
            if code in _CHANGED:
                raise InvalidInputError("the dataset object changed since the evaluation started") from None
            raise _wrap(exc, "GetObject (dataset)") from exc
        except BotoCoreError as exc:
            raise _wrap(exc, "GetObject (dataset)") from exc
        if int(answer.get("ContentLength") or 0) > MAX_DATASET_BYTES:
            raise InvalidInputError(f"the dataset is larger than {MAX_DATASET_BYTES // 1024 // 1024} MB")
        body = answer["Body"].read()
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            raise InvalidInputError("the dataset is not UTF-8 text") from None
        return text, str(answer["ETag"])

    def put(self, key: str, body: str, *, content_type: str) -> None:
        try:
            self._s3.put_object(
                Bucket=self.bucket, Key=key, Body=body.encode("utf-8"), ContentType=content_type
            )
        except (ClientError, BotoCoreError) as exc:
            raise _wrap(exc, "PutObject") from exc

    def read_all(self, prefix: str) -> dict[str, str]:
        keys = self._keys(prefix)
        with ThreadPoolExecutor(max_workers=self._readers) as pool:
            texts = list(pool.map(self._read, keys))
        return dict(zip(keys, texts, strict=True))

    def _keys(self, prefix: str) -> list[str]:
        try:
            pages = self._s3.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=prefix)
            return [item["Key"] for page in pages for item in page.get("Contents", [])]
        except (ClientError, BotoCoreError) as exc:
            raise _wrap(exc, "ListObjectsV2") from exc

    def _read(self, key: str) -> str:
        try:
            body: bytes = self._s3.get_object(Bucket=self.bucket, Key=key)["Body"].read()
        except (ClientError, BotoCoreError) as exc:
            raise _wrap(exc, "GetObject") from exc
        return body.decode("utf-8")
