"""REST for files: upload (multipart, streamed to disk under a cap), download and delete, owner-only.

Listing and deleting also exist over the WebSocket (`file.list`, `file.delete`).
"""
from __future__ import annotations

import asyncio
import hashlib
from urllib.parse import quote

import aiohttp
from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError

from protocol.errors import BadRequest, TooLarge

from .auth_routes import json_dumps
from .state import CONTEXT
from .identity import require_identity

CHUNK = 64 * 1024
MULTIPART_SLACK = 64 * 1024  # boundaries and part headers around the file itself
MAX_PARTS = 8
SERVED_AS = {"text/markdown": "text/plain; charset=utf-8", "text/csv": "text/plain; charset=utf-8",
             "text/plain": "text/plain; charset=utf-8"}


async def upload(request: web.Request) -> web.Response:
    identity = await require_identity(request, changes_state=True)
    files = request.app[CONTEXT].services.files
    cap = files.settings.max_upload_bytes
    if request.content_length is not None and request.content_length > cap + MULTIPART_SLACK:
        raise TooLarge(f"files may be at most {cap // (1024 * 1024)} MB")
    idle_s = request.app[CONTEXT].settings.upload_idle_timeout_s
    try:
        async with asyncio.timeout(idle_s):
            part = await file_part(request)
    except TimeoutError:
        raise stalled(idle_s) from None
    await files.check_room(identity.user_id, 0)
    temp, size, digest = files.temp_path(), 0, hashlib.sha256()
    try:
        with temp.open("wb") as out:
            while chunk := await next_chunk(part, idle_s):
                size += len(chunk)
                if size > cap:
                    raise TooLarge(f"files may be at most {cap // (1024 * 1024)} MB")
                digest.update(chunk)
                out.write(chunk)
        if not part.at_eof():
            raise BadRequest("the upload was cut short", field="file")
    except (aiohttp.ClientPayloadError, ValueError, ConnectionError):
        temp.unlink(missing_ok=True)
        raise BadRequest("the upload was cut short or malformed", field="file") from None
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    stored = await files.store(identity.user_id, temp, part.filename, size, digest.hexdigest())
    return web.json_response(stored, status=201, dumps=json_dumps)


async def next_chunk(part: aiohttp.BodyPartReader, idle_s: float) -> bytes:
    """The next piece of the file; an upload whose body goes silent is refused, not held open."""
    try:
        async with asyncio.timeout(idle_s):
            return await part.read_chunk(CHUNK)
    except TimeoutError:
        raise stalled(idle_s) from None


def stalled(idle_s: float) -> BadRequest:
    return BadRequest(f"the upload sent nothing for {idle_s:g} s; send it again", field="file")


async def file_part(request: web.Request) -> aiohttp.BodyPartReader:
    """The multipart field named `file`; other fields before it are skipped (imports read it too)."""
    if not request.content_type.startswith("multipart/form-data"):
        raise BadRequest("send the file as multipart/form-data in a field named 'file'")
    try:
        reader = await request.multipart()
        for _ in range(MAX_PARTS):
            part = await reader.next()
            if part is None:
                break
            if isinstance(part, aiohttp.BodyPartReader) and part.name == "file":
                if "\\" in part.headers.get("Content-Disposition", ""):  # parsing drops a "\"
                    raise BadRequest("the file name must be a plain name, not a path", field="file")
                return part
            await part.release()
    except (aiohttp.ClientPayloadError, HttpProcessingError, ValueError, AssertionError):
        raise BadRequest("the multipart body is malformed or cut short") from None
    raise BadRequest("the multipart body has no field named 'file'", field="file")


async def download(request: web.Request) -> web.StreamResponse:
    identity = await require_identity(request)
    info, path = await request.app[CONTEXT].services.files.open(identity.user_id, request.match_info["file_id"])
    if not path.is_file():
        raise web.HTTPGone()
    response = web.FileResponse(path)
    response.content_type = SERVED_AS.get(info["mime"], info["mime"]).split(";")[0]
    if info["mime"] in SERVED_AS:
        response.charset = "utf-8"
    response.headers["Content-Disposition"] = _attachment(info["name"])
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response.headers["Cache-Control"] = "private, max-age=0, must-revalidate"
    return response


def _attachment(name: str) -> str:
    """Both forms: an ASCII fallback, and the real name per RFC 6266 / 5987."""
    fallback = "".join(ch if 32 <= ord(ch) < 127 and ch not in '"\\;' else "_" for ch in name)
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(name, safe='')}"


async def delete(request: web.Request) -> web.Response:
    identity = await require_identity(request, changes_state=True)
    result = await request.app[CONTEXT].services.files.delete(identity.user_id, request.match_info["file_id"])
    return web.json_response(result, dumps=json_dumps)


def add_routes(app: web.Application) -> None:
    app.router.add_post("/api/v1/files", upload)
    app.router.add_get("/api/v1/files/{file_id}", download)
    app.router.add_delete("/api/v1/files/{file_id}", delete)



