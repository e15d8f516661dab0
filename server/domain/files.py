"""Uploaded files: kept under a random name, owned by one user, inside a quota.

The transport streams the upload into a temporary file under UPLOAD_DIR (with the size cap) and
hands it over; everything after that — what the file is, where it lives (the blob store: that
directory, or an S3 bucket), who may see it, what a model gets from it — is decided here.
"""
from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from protocol import shapes
from protocol.errors import BadRequest, NotFound, TooLarge
from providers.base import ImageData
from providers.registry import Model
from storage import Database, new_id, utcnow
from storage.base import private_file
from storage import files as file_rows
from storage import ledger as account_rows

from . import cursors
from .blobs import Blob, BlobMissing, BlobStore
from .events import EventSink
from .filetypes import clean_name
from .limits import Limits
from .parsing import Parser

log = logging.getLogger("chatwire.files")


@dataclass(frozen=True)
class FileSettings:
    upload_dir: Path
    max_upload_bytes: int = 20 * 1024 * 1024
    quota_bytes: int = 200 * 1024 * 1024
    max_image_pixels: int = 25_000_000


@dataclass(frozen=True)
class Attachment:
    """What a model gets from one attached file: an image's bytes or a document's text."""

    name: str
    kind: str
    image: ImageData | None = None
    text: str | None = None


class Files:
    def __init__(self, db: Database, events: EventSink, settings: FileSettings,
                 limits: Limits, parser: Parser, blobs: BlobStore) -> None:
        self.db = db
        self.events = events
        self.settings = settings
        self.blobs = blobs
        self.limits = limits
        self.parser = parser  # inspects each upload in a limited process of its own
        self.incoming = settings.upload_dir / ".incoming"

    def temp_path(self) -> Path:
        """Where the transport streams an upload before it is checked."""
        return private_file(self.incoming / secrets.token_hex(16))  # 0600: the user's bytes

    async def check_room(self, user_id: str, size: int) -> None:
        """Refuse early an upload that cannot fit (or one too many), before its body is read."""
        await self.limits.upload(user_id)
        if size > self.settings.max_upload_bytes:
            raise TooLarge(f"files may be at most {self.settings.max_upload_bytes // (1024 * 1024)} MB")
        used = await file_rows.used_bytes(self.db, user_id)
        if used + size > self.settings.quota_bytes:
            raise self._over_quota(used)

    async def store(self, user_id: str, temp: Path, raw_name: str | None, size: int,
                    sha256: str) -> dict[str, Any]:
        """Check the uploaded bytes and keep them; on any refusal (or a storage that does not
        answer: `unavailable`) nothing stays behind. The bytes go first and the row after, so a
        row never names bytes that are not there."""
        file_id, stored = new_id(), secrets.token_hex(16)
        key = f"{stored[:2]}/{stored}"
        try:
            name = clean_name(raw_name)
            found = await self.parser.inspect(temp, name,
                                              max_image_pixels=self.settings.max_image_pixels)
            await self.blobs.put(key, temp, found.mime, sha256)
        finally:
            temp.unlink(missing_ok=True)
        try:
            async with self.db.transaction() as tx:
                await account_rows.lock_account(tx, user_id)  # one quota decision at a time
                used = await file_rows.used_bytes(tx, user_id)
                if used + size > self.settings.quota_bytes:
                    raise self._over_quota(used)
                await file_rows.insert(tx, id=file_id, user_id=user_id, name=name, mime=found.mime,
                                       kind=found.kind, size=size, sha256=sha256,
                                       storage_path=key, text=found.text, now=utcnow())
                row = await file_rows.get(tx, user_id, file_id)
        except BaseException:
            await self.blobs.delete_many([key])
            raise
        assert row is not None
        shaped = shapes.file(row)
        await self.events.publish(user_id, "file.created", {"file": shaped})
        return {"file": shaped}

    def _over_quota(self, used: int) -> TooLarge:
        quota_mb = self.settings.quota_bytes // (1024 * 1024)
        return TooLarge(f"your files would exceed your {quota_mb} MB storage quota "
                        f"({used // (1024 * 1024)} MB used); delete some first")

    async def locate(self, user_id: str, file_id: str) -> tuple[dict[str, Any], str, Path | None]:
        """The owner's file, its blob key, and its path when the bytes are on this disk."""
        row = await self._row(user_id, file_id)
        return shapes.file(row), row["storage_path"], self.blobs.local_path(row["storage_path"])

    async def open(self, key: str, first: int = 0, last: int | None = None) -> Blob:
        """The bytes of a file found by `locate` (BlobMissing when they are gone)."""
        return await self.blobs.open(key, first, last)

    async def list(self, user_id: str, *, cursor: str | None = None, limit: int = 50) -> dict[str, Any]:
        rows = await file_rows.list_page(self.db, user_id, after=cursors.decode(cursor), limit=limit + 1)
        page, more = rows[:limit], len(rows) > limit
        next_cursor = cursors.encode(page[-1]["created_at"], page[-1]["id"]) if more else None
        return {"files": [shapes.file(r) for r in page], "next_cursor": next_cursor}

    async def delete(self, user_id: str, file_id: str) -> dict[str, Any]:
        """The file goes; messages it was attached to keep their text but lose the attachment.
        The bytes first: a storage that does not answer refuses (`unavailable`) with the row
        still there, so the user can delete it again and nothing is left behind unseen."""
        row = await self._row(user_id, file_id)
        await self.blobs.delete(row["storage_path"])
        if await file_rows.delete(self.db, user_id, file_id) is None:
            raise NotFound(f"file {file_id} does not exist", file_id=file_id)
        await self.events.publish(user_id, "file.deleted", {"file_id": file_id})
        return {"file_id": file_id, "deleted": True}

    async def _row(self, user_id: str, file_id: str) -> dict[str, Any]:
        row = await file_rows.get(self.db, user_id, file_id)
        if row is None:
            raise NotFound(f"file {file_id} does not exist", file_id=file_id)
        return row

    # -- attachments --

    async def attachable(self, user_id: str, file_ids: list[str], model: Model) -> list[dict[str, Any]]:
        """The files, in the order given, once every id is the user's own file and images only go
        to a model that can see them."""
        rows = await file_rows.get_many(self.db, user_id, file_ids)
        for file_id in file_ids:
            if file_id not in rows:
                raise NotFound(f"file {file_id} does not exist", file_id=file_id, field="file_ids")
            if rows[file_id]["kind"] == "image" and not model.vision:
                raise BadRequest(f"{model.id} cannot read images; pick a model with vision",
                                 field="file_ids", file_id=file_id)
        return [rows[file_id] for file_id in file_ids]

    async def load(self, rows: list[dict[str, Any]]) -> list[Attachment]:
        """What the model gets from files already read (by `attachable`)."""
        return [await self._attachment(row) for row in rows]

    async def attachments(self, message_ids: list[str]) -> dict[str, list[Attachment]]:
        rows = await file_rows.attached(self.db, message_ids)
        return {message_id: [await self._attachment(row) for row in files]
                for message_id, files in rows.items()}

    async def _attachment(self, row: dict[str, Any]) -> Attachment:
        if row["kind"] == "image":
            try:
                data = await self.blobs.read(row["storage_path"])
            except BlobMissing:  # a storage that does not answer refuses the turn: `unavailable`
                log.warning("file %s is missing from the %s storage", row["id"], self.blobs.kind)
                return Attachment(row["name"], "document", text="(this image is no longer available)")
            return Attachment(row["name"], "image", image=ImageData(row["mime"], data))
        return Attachment(row["name"], "document", text=row["text"] or "")

