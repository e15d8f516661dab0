"""REST for files: upload (multipart, streamed to disk under a cap), download (a file on this disk, or
streamed from object storage) and delete, owner-only.

Listing and deleting also exist over the WebSocket (`file.list`, `file.delete`).
"""
from __future__ import annotations

import asyncio
import hashlib
from typing import Any
from urllib.parse import quote

import aiohttp
from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError

from protocol.errors import BadRequest, TooLarge, Unavailable
from server.domain.blobs import BlobMissing

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
    files = request.app[CONTEXT].services.files
    info, key, path = await files.locate(identity.user_id, request.match_info["file_id"])
    if path is not None:  # on this disk: aiohttp serves the file (ranges, validators, sendfile)
        if not path.is_file():
            raise web.HTTPGone()
        return _served_as(web.FileResponse(path), info)
    return await _stream(request, files, info, key)


def _served_as(response: web.StreamResponse, info: dict[str, Any]) -> web.StreamResponse:
    """The headers every download has, wherever its bytes come from."""
    response.content_type = SERVED_AS.get(info["mime"], info["mime"]).split(";")[0]
    if info["mime"] in SERVED_AS:
        response.charset = "utf-8"
    response.headers["Content-Disposition"] = _attachment(info["name"])
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response.headers["Cache-Control"] = "private, max-age=0, must-revalidate"
    return response


async def _stream(request: web.Request, files: Any, info: dict[str, Any],
                  key: str) -> web.StreamResponse:
    """A file in object storage, streamed through in pieces: one byte range (206) or all of it,
    the sha256 as a strong ETag (If-None-Match: 304)."""
    size, etag = info["size"], f'"{info["sha256"]}"'
    if etag in {tag.strip() for tag in request.headers.get("If-None-Match", "").split(",")}:
        return _served_as(web.Response(status=304, headers={"ETag": etag}), info)
    first, last = 0, None
    if "Range" in request.headers and request.headers.get("If-Range", etag) == etag:
        try:
            rng = request.http_range
        except ValueError:
            rng = None
        if rng is None or rng.start is not None and (rng.start >= size if rng.start >= 0 else size == 0):
            return _served_as(web.Response(status=416, headers={"Content-Range": f"bytes */{size}"}),
                              info)
        if rng.start is not None:
            first = max(0, size + rng.start) if rng.start < 0 else rng.start
            last = size - 1 if rng.stop is None or rng.start < 0 else min(rng.stop, size) - 1
    try:
        blob = await files.open(key, first, last)
    except BlobMissing:
        raise web.HTTPGone() from None
    try:
        partial = last is not None
        response = _served_as(web.StreamResponse(status=206 if partial else 200), info)
        response.headers.update({"ETag": etag, "Accept-Ranges": "bytes"})
        if partial:
            response.headers["Content-Range"] = f"bytes {first}-{first + blob.length - 1}/{blob.total}"
        response.content_length = blob.length
        await response.prepare(request)
        try:
            async for chunk in blob.chunks():
                await response.write(chunk)
        except Unavailable:  # the status line is out: cut the body short (logged by the store),
            response.force_close()  # so the client sees a broken download, never a whole one
            if request.transport is not None:
                request.transport.close()
            return response
        await response.write_eof()
        return response
    finally:
        await blob.close()


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



