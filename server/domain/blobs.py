"""Where uploaded files' bytes live: one small interface, two engines.

`LocalBlobs` keeps them on disk under UPLOAD_DIR (the embedded default, the same paths as ever);
`S3Blobs` (server/domain/s3_blobs.py) in an S3-compatible bucket when S3_BUCKET is set, so every
instance reaches every file. A key is the file row's `storage_path` ("ab/ab12…", random).

Bytes move in pieces, never a whole file at once, except `read`: an image handed to a model,
which the model needs whole anyway (and which the upload cap bounds). A key that is not there
raises `BlobMissing`; storage that does not answer raises `protocol.errors.Unavailable`.
"""
from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import AsyncIterator, BinaryIO, Callable, Protocol

from protocol.errors import Unavailable
from storage.base import private_dir

log = logging.getLogger("chatwire.files")

CHUNK = 64 * 1024  # a piece of a streamed body
FILE_BLOCK = 256 * 1024  # a read from a file on disk (off the event loop)


class BlobMissing(Exception):
    """No bytes under this key (deleted, or lost)."""


def storage_down() -> Unavailable:
    """What a user is told when the file storage does not answer (the reason goes to the log)."""
    return Unavailable("file storage is not answering; try again in a moment", service="storage")


@dataclass
class Blob:
    """One read of a blob, open: `length` bytes from `start` (all of it unless a range was
    asked) of `total`. Iterate `chunks()` once, then `close()` (also after an early stop)."""

    total: int
    start: int
    length: int
    body: AsyncIterator[bytes]
    closer: Callable[[], object] | None = None  # what releases the file or the connection

    def chunks(self) -> AsyncIterator[bytes]:
        return self.body

    async def close(self) -> None:
        if self.closer is not None:
            result = self.closer()
            if asyncio.iscoroutine(result):
                await result


class BlobStore(Protocol):
    kind: str  # "disk" or "s3"

    def local_path(self, key: str) -> Path | None:
        """The blob's file when it is on this machine's disk (served as a file), else None."""

    async def put(self, key: str, source: Path, mime: str, sha256: str) -> None:
        """Keep `source`'s bytes (whose SHA-256, hex, is `sha256`) under `key`; `source` may be
        gone afterwards (the caller removes what is left)."""

    async def open(self, key: str, first: int = 0, last: int | None = None) -> Blob:
        """The blob's bytes `first`..`last` (inclusive; None: to the end), to stream."""

    async def read(self, key: str) -> bytes:
        """The whole blob (an image for a model)."""

    async def delete(self, key: str) -> None:
        """Remove the blob; a key already gone is not an error."""

    async def delete_many(self, keys: list[str]) -> list[str]:
        """Remove many (an account's); returns the keys that could not be removed."""

    async def ping(self) -> bool:
        """The storage answers (readiness)."""

    async def close(self) -> None: ...


class LocalBlobs:
    """Files under a directory on this machine, as Chatwire always kept them."""

    kind = "disk"

    def __init__(self, root: Path) -> None:
        self.root = root

    def local_path(self, key: str) -> Path:
        return self.root / key

    async def put(self, key: str, source: Path, mime: str, sha256: str) -> None:
        final = self.root / key
        private_dir(final.parent)
        source.replace(final)  # the incoming folder is under the same root: a rename

    async def open(self, key: str, first: int = 0, last: int | None = None) -> Blob:
        path = self.root / key
        try:
            source = await asyncio.to_thread(path.open, "rb")
        except OSError:
            raise BlobMissing(key) from None
        total = await asyncio.to_thread(lambda: path.stat().st_size)
        end = total - 1 if last is None else min(last, total - 1)
        return Blob(total=total, start=first, length=max(0, end - first + 1),
                    body=_file_chunks(source, first, end - first + 1), closer=source.close)

    async def read(self, key: str) -> bytes:
        try:
            return await asyncio.to_thread((self.root / key).read_bytes)
        except OSError:
            raise BlobMissing(key) from None

    async def delete(self, key: str) -> None:
        try:
            await asyncio.to_thread((self.root / key).unlink, missing_ok=True)
        except OSError:
            log.warning("file %s could not be removed from %s", key, self.root)

    async def delete_many(self, keys: list[str]) -> list[str]:
        def remove() -> list[str]:
            failed = []
            for key in keys:
                try:
                    (self.root / key).unlink(missing_ok=True)
                except OSError:
                    failed.append(key)
            return failed
        return await asyncio.to_thread(remove)

    async def ping(self) -> bool:
        return True

    async def close(self) -> None:
        return None


async def _file_chunks(source: BinaryIO, start: int, length: int) -> AsyncIterator[bytes]:
    if start:
        await asyncio.to_thread(source.seek, start)
    left = length
    while left > 0 and (block := await asyncio.to_thread(source.read, min(FILE_BLOCK, left))):
        left -= len(block)
        yield block
