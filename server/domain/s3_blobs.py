"""Uploads in an S3-compatible bucket (AWS S3, Cloudflare R2, MinIO, Backblaze B2, …), through
aiobotocore (aiohttp underneath, like the rest of the server; this module never imports it).

Objects are written once under `S3_PREFIX` + the file's random storage path, never public: the
server reads them and serves them to their owner itself. Uploads stream from the checked temp file
(one PUT with the file as its body, read piece by piece); downloads stream the object's body.
Credentials come from AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY (+ AWS_SESSION_TOKEN) when set,
else from botocore's usual chain (~/.aws, an instance or task role); they are never logged.

A storage that does not answer (or refuses) raises `Unavailable` (`unavailable`, service
`storage`) and logs the S3 error code; a key that is not there raises `BlobMissing`.
"""
from __future__ import annotations

import asyncio
import base64
import contextlib
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, AsyncIterator, NoReturn

from aiobotocore.session import get_session
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from .blobs import CHUNK, Blob, BlobMissing, storage_down

log = logging.getLogger("chatwire.files")
# botocore logs each signed request's headers at DEBUG — the access key id and the session token
# among them: with LOG_LEVEL=DEBUG those must still stay out of the logs.
for _name in ("botocore", "aiobotocore"):
    logging.getLogger(_name).setLevel(logging.INFO)

MISSING = {"NoSuchKey", "404", "NotFound"}
DELETE_BATCH = 1000  # DeleteObjects takes at most this many keys
FAILURES = (ClientError, BotoCoreError, OSError, asyncio.TimeoutError)


@dataclass(frozen=True)
class S3Settings:
    bucket: str
    endpoint_url: str | None = None
    region: str | None = None
    prefix: str = ""
    access_key_id: str | None = field(default=None, repr=False)
    secret_access_key: str | None = field(default=None, repr=False)
    session_token: str | None = field(default=None, repr=False)
    connect_timeout_s: float = 5.0
    read_timeout_s: float = 30.0
    max_attempts: int = 2  # one retry (botocore standard mode: jittered backoff)


class StorageConfigError(Exception):
    """The bucket cannot be used as configured (the message says why, without secrets)."""


class S3Blobs:
    kind = "s3"

    def __init__(self, settings: S3Settings) -> None:
        self.settings = settings
        self.bucket = settings.bucket
        self._stack = contextlib.AsyncExitStack()
        self._client: Any = None

    async def start(self) -> None:
        """Open the client and check the bucket is there and ours to use: a missing bucket, wrong
        credentials or an endpoint that does not answer stop the start with the reason."""
        s = self.settings
        config = Config(connect_timeout=s.connect_timeout_s, read_timeout=s.read_timeout_s,
                        retries={"total_max_attempts": s.max_attempts, "mode": "standard"},
                        signature_version="s3v4",
                        # The upload's SHA-256 is known (computed as it arrived) and sent as its
                        # checksum, which the storage verifies: botocore need not hash the body
                        # again, on the event loop (≈180 ms for 20 MB, every socket waiting).
                        s3={"payload_signing_enabled": False})
        credentials = ({"aws_access_key_id": s.access_key_id,
                        "aws_secret_access_key": s.secret_access_key,
                        "aws_session_token": s.session_token} if s.access_key_id else {})
        self._client = await self._stack.enter_async_context(get_session().create_client(
            "s3", endpoint_url=s.endpoint_url, region_name=s.region, config=config, **credentials))
        try:
            await self._client.head_bucket(Bucket=self.bucket)
        except ClientError as exc:
            await self.close()
            code = _code(exc)
            if code in ("404", "NoSuchBucket", "NotFound"):
                raise StorageConfigError(f"S3_BUCKET={self.bucket}: no such bucket at "
                                         f"{s.endpoint_url or 'AWS S3'}; create it first") from None
            if code in ("403", "AccessDenied", "InvalidAccessKeyId", "SignatureDoesNotMatch"):
                raise StorageConfigError(
                    f"S3_BUCKET={self.bucket}: access denied ({code}); check AWS_ACCESS_KEY_ID, "
                    f"AWS_SECRET_ACCESS_KEY and the key's rights on the bucket") from None
            raise StorageConfigError(f"S3_BUCKET={self.bucket}: the bucket answered {code}") from None
        except (BotoCoreError, OSError, asyncio.TimeoutError) as exc:
            await self.close()
            raise StorageConfigError(
                f"S3 storage at {s.endpoint_url or 'AWS S3'} does not answer "
                f"({type(exc).__name__}); check S3_ENDPOINT_URL and S3_REGION") from None

    def local_path(self, key: str) -> None:
        return None

    def _key(self, key: str) -> str:
        return self.settings.prefix + key

    async def put(self, key: str, source: Path, mime: str, sha256: str) -> None:
        try:
            size = source.stat().st_size
            with source.open("rb") as body:  # read piece by piece as it is sent
                await self._client.put_object(
                    Bucket=self.bucket, Key=self._key(key), Body=body, ContentLength=size,
                    ContentType=mime, ChecksumSHA256=base64.b64encode(bytes.fromhex(sha256)).decode())
        except FAILURES as exc:
            self._failed("store", key, exc)

    async def open(self, key: str, first: int = 0, last: int | None = None) -> Blob:
        ranged = ({"Range": f"bytes={first}-{'' if last is None else last}"}
                  if first or last is not None else {})
        try:
            response = await self._client.get_object(Bucket=self.bucket, Key=self._key(key), **ranged)
        except FAILURES as exc:
            self._failed("read", key, exc)
        body, length = response["Body"], int(response["ContentLength"])
        total = _total(response.get("ContentRange"), length)
        return Blob(total=total, start=first if ranged else 0, length=length,
                    body=self._chunks(key, body), closer=body.close)

    async def _chunks(self, key: str, body: Any) -> AsyncIterator[bytes]:
        try:
            async for chunk in body.iter_chunks(CHUNK):
                yield chunk
        except Exception as exc:  # noqa: BLE001 — a body cut midway surfaces as the transport's
            self._failed("read", key, exc)  # own error (aiohttp's), unwrapped by aiobotocore

    async def read(self, key: str) -> bytes:
        blob = await self.open(key)
        try:
            return b"".join([chunk async for chunk in blob.chunks()])
        finally:
            await blob.close()

    async def delete(self, key: str) -> None:
        try:
            await self._client.delete_object(Bucket=self.bucket, Key=self._key(key))
        except FAILURES as exc:
            self._failed("delete", key, exc)

    async def delete_many(self, keys: list[str]) -> list[str]:
        failed: list[str] = []
        for at in range(0, len(keys), DELETE_BATCH):
            batch = keys[at:at + DELETE_BATCH]
            try:
                answer = await self._client.delete_objects(Bucket=self.bucket, Delete={
                    "Objects": [{"Key": self._key(k)} for k in batch], "Quiet": True})
            except FAILURES as exc:
                log.warning("S3: could not delete %d objects (%s)", len(batch), _reason(exc))
                failed.extend(batch)
                continue
            prefix = len(self.settings.prefix)
            failed.extend(error["Key"][prefix:] for error in answer.get("Errors", []))
        return failed

    async def ping(self) -> bool:
        try:
            await self._client.head_bucket(Bucket=self.bucket)
        except FAILURES:
            return False
        return True

    async def close(self) -> None:
        self._client = None
        await self._stack.aclose()

    def _failed(self, what: str, key: str, exc: BaseException) -> NoReturn:
        if isinstance(exc, ClientError) and _code(exc) in MISSING:
            raise BlobMissing(key) from None
        log.warning("S3: could not %s %s in bucket %s (%s)", what, key, self.bucket, _reason(exc))
        raise storage_down() from None


def _code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", "unknown"))


def _reason(exc: BaseException) -> str:
    return _code(exc) if isinstance(exc, ClientError) else type(exc).__name__


def _total(content_range: str | None, length: int) -> int:
    """The object's whole size from `bytes 10-19/2048`, or the body's length without a range."""
    if content_range and "/" in content_range:
        tail = content_range.rsplit("/", 1)[1]
        if tail.isdigit():
            return int(tail)
    return length

