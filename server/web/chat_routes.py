"""REST for chats as files: `GET /api/v1/chats/{chat_id}/export?format=md|json` (a download) and
`POST /api/v1/chats/import` (our JSON export or ChatGPT's conversations.json, as the body or as a
multipart field named `file`)."""
from __future__ import annotations

import asyncio
import re
from typing import Awaitable, Callable
from urllib.parse import quote

import aiohttp
import orjson
from aiohttp import web

from protocol.errors import BadRequest, TooLarge

from .auth_routes import json_dumps
from .file_routes import CHUNK, MULTIPART_SLACK, file_part, next_chunk, stalled
from .identity import require_identity
from .state import CONTEXT

FORMATS = ("md", "json")


def _filename(title: str, extension: str) -> str:
    """Content-Disposition for a download named after the chat (ASCII fallback, UTF-8 name)."""
    name = re.sub(r"[\x00-\x1f\\/:*?\"<>|]+", " ", title).strip()[:80] or "chat"
    ascii_name = re.sub(r"[^A-Za-z0-9 ._-]+", "", name).strip() or "chat"
    return (f'attachment; filename="{ascii_name}.{extension}"; '
            f"filename*=UTF-8''{quote(name)}.{extension}")


async def export(request: web.Request) -> web.Response:
    identity = await require_identity(request)
    fmt = request.query.get("format", "md")
    if fmt not in FORMATS:
        raise BadRequest("format must be md or json", field="format")
    exports = request.app[CONTEXT].services.exports
    chat_id = request.match_info["chat_id"]
    if fmt == "json":
        body = await exports.as_json(identity.user_id, chat_id)
        title = body["chat"]["title"] or "chat"
        return web.Response(body=orjson.dumps(body, option=orjson.OPT_INDENT_2),
                            content_type="application/json",
                            headers={"Content-Disposition": _filename(title, "json")})
    lang = "ru" if request.query.get("lang", "").lower().startswith("ru") else "en"
    title, text = await exports.as_markdown(identity.user_id, chat_id, lang)
    return web.Response(text=text, content_type="text/markdown", charset="utf-8",
                        headers={"Content-Disposition": _filename(title, "md")})


async def import_chats(request: web.Request) -> web.Response:
    """201 {"chats": [{id, title, message_count}], "skipped": n}: all of the file, or nothing."""
    identity = await require_identity(request, changes_state=True)
    ctx = request.app[CONTEXT]
    await ctx.services.limits.upload(identity.user_id)
    data = await _body(request, ctx.settings.import_max_mb, ctx.settings.upload_idle_timeout_s)
    result = await ctx.services.importer.run(identity.user_id, data)
    return web.json_response(result, status=201, dumps=json_dumps)


async def _body(request: web.Request, max_mb: int, idle_s: float) -> bytes:
    """The file, read a piece at a time and refused as soon as it passes the cap: a huge body is
    never held (aiohttp's own client_max_size is the upload one, and only for request.read())."""
    cap, multipart = max_mb * 1024 * 1024, request.content_type.startswith("multipart/")
    too_large = TooLarge(f"an import may be at most {max_mb} MB (IMPORT_MAX_MB)")
    if request.content_length is not None and request.content_length > cap + (
            MULTIPART_SLACK if multipart else 0):
        raise too_large
    read: Callable[[], Awaitable[bytes]]
    if multipart:
        try:
            async with asyncio.timeout(idle_s):
                part = await file_part(request)
        except TimeoutError:
            raise stalled(idle_s) from None
        read = lambda: next_chunk(part, idle_s)  # noqa: E731
    else:
        async def read() -> bytes:
            try:
                async with asyncio.timeout(idle_s):
                    return await request.content.read(CHUNK)
            except TimeoutError:
                raise stalled(idle_s) from None
    data = bytearray()
    try:
        while chunk := await read():
            if len(data) + len(chunk) > cap:
                raise too_large
            data += chunk
        if multipart and not part.at_eof():
            raise BadRequest("the upload was cut short", field="file")
    except (aiohttp.ClientPayloadError, ValueError, ConnectionError):
        raise BadRequest("the upload was cut short or malformed", field="file") from None
    return bytes(data)


def add_routes(app: web.Application) -> None:
    app.router.add_post("/api/v1/chats/import", import_chats)
    app.router.add_get("/api/v1/chats/{chat_id}/export", export)
