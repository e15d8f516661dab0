"""REST for one's own account: `GET /api/v1/account/export` ("download my data", one zip).

The zip is streamed (chunked) as the domain writes it: nothing holds the whole archive. Once the
first byte is out an error can no longer become a JSON answer; the download is cut short instead
(the zip then lacks its directory, so no reader takes it for whole).
"""
from __future__ import annotations

import logging
import time

from aiohttp import web

from protocol.errors import BadRequest

from .identity import require_identity
from .state import CONTEXT

log = logging.getLogger("chatwire.export")
LANGUAGES = ("en", "ru")


def _lang(request: web.Request) -> str:
    asked = request.query.get("lang")
    if asked is None:
        return "ru" if request.headers.get("Accept-Language", "").lower().startswith("ru") else "en"
    if asked not in LANGUAGES:
        raise BadRequest("lang must be en or ru", field="lang")
    return asked


async def export(request: web.Request) -> web.StreamResponse:
    identity = await require_identity(request)
    data_export = request.app[CONTEXT].services.data_export
    user, lang = await data_export.user(identity.user_id), _lang(request)
    name = f"chatwire-data-{time.strftime('%Y-%m-%d', time.gmtime())}.zip"
    resp = web.StreamResponse(headers={"Content-Type": "application/zip",
                                       "Content-Disposition": f'attachment; filename="{name}"',
                                       "Cache-Control": "no-store"})
    resp.enable_chunked_encoding()
    await resp.prepare(request)
    try:
        async for chunk in data_export.chunks(user, lang):
            if chunk:
                await resp.write(chunk)
    except ConnectionError:
        return resp  # the client went away; nothing to finish
    except Exception:  # the status line is out: cut the zip short (no last chunk), so the
        log.exception("the data export of user %s failed midway", identity.user_id)
        resp.force_close()  # client sees a broken download, never a whole-looking one — and is
        if request.transport is not None:  # not left waiting for the rest
            request.transport.close()
        return resp
    await resp.write_eof()
    return resp


def add_routes(app: web.Application) -> None:
    app.router.add_get("/api/v1/account/export", export)
