"""REST for one chat: `GET /api/v1/chats/{chat_id}/export?format=md|json` (a download)."""
from __future__ import annotations

import re
from urllib.parse import quote

import orjson
from aiohttp import web

from protocol.errors import BadRequest

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


def add_routes(app: web.Application) -> None:
    app.router.add_get("/api/v1/chats/{chat_id}/export", export)
