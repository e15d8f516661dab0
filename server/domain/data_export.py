"""“Download my data”: one zip of everything the account holds, written as it is read.

The archive: README.txt (in the reader's language), profile.json (the user and their profile),
chats/<chat id>.json (each chat's whole tree, the chat export's JSON, trashed chats too),
transactions.json (every ledger row, newest first), files.json (the files' details) and
files/<file id>-<name> (each file's stored bytes).

`chunks` yields the zip's bytes piece by piece; zipfile writes to a sink that cannot seek (each
entry then carries its sizes after its data), and the sink is emptied after every piece. Chats,
transactions and files are read a page at a time, and a file's bytes a piece at a time from the
blob store (off the event loop on disk, streamed from the bucket on S3), so neither the archive nor
any one file is ever whole in memory. A storage that stops answering midway cuts the download
(logged), as any failure midway does.
"""
from __future__ import annotations

import io
import re
import time
import zipfile
from typing import Any, AsyncIterator

import orjson

from protocol import shapes
from protocol.errors import NotFound, Unauthorized
from storage import Database
from storage import chats as chat_rows
from storage import files as file_rows
from storage import users

from .blobs import BlobMissing, BlobStore
from .exports import Exports
from .ledger import Ledger
from .profile import Profiles

PAGE = 200
FORMAT = "chatwire.account/1"
README = {
    "en": """Your Chatwire data, as of {now} UTC ({email}).

profile.json       your account and the profile the assistant uses
chats/*.json       every chat (trashed ones too) with all its branches, models, usage and costs
transactions.json  every credit movement on your account, newest first (micro-credits:
                   1 credit = 1,000,000)
files.json         the details of the files you uploaded
files/             the files themselves, as you uploaded them

Each chat file is the same JSON as a chat's own "Download" (format chatwire.chat/1).
""",
    "ru": """Ваши данные в Chatwire на {now} UTC ({email}).

profile.json       ваш аккаунт и профиль, которым пользуется ассистент
chats/*.json       все чаты (и из корзины) со всеми ветками, моделями, расходом и стоимостью
transactions.json  все движения кредитов по счёту, новые сначала (в микрокредитах:
                   1 кредит = 1 000 000)
files.json         сведения о загруженных файлах
files/             сами файлы, как вы их загрузили

Файл каждого чата — тот же JSON, что и «Скачать» в самом чате (формат chatwire.chat/1).
""",
}


class _Sink(io.RawIOBase):
    """Where zipfile writes: kept until taken. It cannot seek, so zipfile streams."""

    def __init__(self) -> None:
        self._parts: list[bytes] = []

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        self._parts.append(bytes(data))
        return len(data)

    def take(self) -> bytes:
        out = b"".join(self._parts)
        self._parts.clear()
        return out


def _json(value: Any) -> bytes:
    return orjson.dumps(value, option=orjson.OPT_INDENT_2)


def _entry(name: str, compress: int = zipfile.ZIP_DEFLATED) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, time.gmtime()[:6])
    info.compress_type = compress
    return info


def _safe(name: str) -> str:
    return re.sub(r"[\x00-\x1f\\/:*?\"<>|]+", "_", name).strip(" .")[:120] or "file"


class DataExport:
    def __init__(self, db: Database, exports: Exports, ledger: Ledger, profiles: Profiles,
                 blobs: BlobStore) -> None:
        self.db = db
        self.exports = exports
        self.ledger = ledger
        self.profiles = profiles
        self.blobs = blobs

    async def user(self, user_id: str) -> dict[str, Any]:
        """The account being exported (checked before the first byte is sent)."""
        row = await users.get(self.db, user_id)
        if row is None:
            raise Unauthorized("this session has ended; log in again")
        return shapes.user(row)

    async def chunks(self, user: dict[str, Any], lang: str = "en") -> AsyncIterator[bytes]:
        user_id = user["id"]
        sink = _Sink()
        with zipfile.ZipFile(sink, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            now = time.strftime("%Y-%m-%d %H:%M", time.gmtime())
            archive.writestr(_entry("README.txt"),
                             README.get(lang, README["en"]).format(now=now, email=user["email"]))
            profile = await self.profiles.get(user_id)
            archive.writestr(_entry("profile.json"),
                             _json({"format": FORMAT, "user": user, **profile}))
            yield sink.take()
            async for chat_id in self._chat_ids(user_id):
                try:
                    chat = await self.exports.as_json(user_id, chat_id)
                except NotFound:  # purged while the export ran
                    continue
                archive.writestr(_entry(f"chats/{chat_id}.json"), _json(chat))
                yield sink.take()
            with archive.open(_entry("transactions.json"), "w", force_zip64=True) as entry:
                entry.write(b'{"transactions": [')
                cursor, first = None, True
                while True:
                    page = await self.ledger.transactions(user_id, cursor=cursor, limit=PAGE)
                    for row in page["transactions"]:
                        entry.write((b"\n" if first else b",\n") + orjson.dumps(row))
                        first = False
                    yield sink.take()
                    cursor = page["next_cursor"]
                    if cursor is None:
                        break
                entry.write(b"\n]}\n")
            details: list[dict[str, Any]] = []
            async for row in self._files(user_id):
                shaped = shapes.file(row)
                try:
                    source = await self.blobs.open(row["storage_path"])
                except BlobMissing:
                    details.append({**shaped, "missing": True})
                    continue
                details.append({**shaped, "path": f"files/{row['id']}-{_safe(row['name'])}"})
                compress = zipfile.ZIP_STORED if row["kind"] == "image" else zipfile.ZIP_DEFLATED
                try:
                    with archive.open(_entry(details[-1]["path"], compress), "w",
                                      force_zip64=True) as entry:
                        async for block in source.chunks():
                            entry.write(block)
                            yield sink.take()
                finally:
                    await source.close()
                yield sink.take()
            archive.writestr(_entry("files.json"), _json({"files": details}))
        yield sink.take()

    async def _chat_ids(self, user_id: str) -> AsyncIterator[str]:
        after = None
        while True:
            ids = await chat_rows.ids_page(self.db, user_id, after=after, limit=PAGE)
            for chat_id in ids:
                yield chat_id
            if len(ids) < PAGE:
                return
            after = ids[-1]

    async def _files(self, user_id: str) -> AsyncIterator[dict[str, Any]]:
        after = None
        while True:
            page = await file_rows.list_page(self.db, user_id, after=after, limit=PAGE)
            for row in page:
                yield row
            if len(page) < PAGE:
                return
            after = (page[-1]["created_at"], page[-1]["id"])

