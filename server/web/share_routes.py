"""Share links over HTTP: the public page `GET /s/{share_id}` and its JSON
`GET /api/v1/shares/{share_id}` (no sign-in), and `POST /api/v1/shares/{share_id}/continue`
(signed in: copy the snapshot into a chat of one's own).

What anyone with a link may see is the snapshot alone, served so it stays out of search engines
(`X-Robots-Tag: noindex`), out of caches (a revoked link must stop working at once) and out of
other sites' Referer headers (the id is the secret).
"""
from __future__ import annotations

from pathlib import Path

from aiohttp import web

from protocol.errors import NotFound

from .identity import require_identity
from .state import CONTEXT

STATIC_DIR = Path(__file__).resolve().parent.parent.parent / "static"
PRIVATE = {"X-Robots-Tag": "noindex, nofollow", "Cache-Control": "no-store",
           "Referrer-Policy": "no-referrer"}
PAGE_CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
            "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'")
NOT_FOUND_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="robots" content="noindex, nofollow">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Not found · Chatwire</title><link rel="stylesheet" href="/static/app.css"></head>
<body><main class="share-missing"><h1>Chatwire</h1>
<p>This shared chat does not exist or is no longer shared.</p>
<p lang="ru">Такого общего чата нет, или доступ к нему закрыт.</p>
<p><a href="/">Chatwire</a></p></main></body></html>
"""


async def page(request: web.Request) -> web.StreamResponse:
    shares = request.app[CONTEXT].services.shares
    headers = {**PRIVATE, "Content-Security-Policy": PAGE_CSP}
    try:
        await shares.public(request.match_info["share_id"])
    except NotFound:
        return web.Response(status=404, text=NOT_FOUND_PAGE, content_type="text/html",
                            headers=headers)
    return web.FileResponse(STATIC_DIR / "share.html", headers=headers)


async def snapshot(request: web.Request) -> web.Response:
    body = await request.app[CONTEXT].services.shares.public(request.match_info["share_id"])
    return web.json_response(body, headers=PRIVATE)


async def continue_in_my_chats(request: web.Request) -> web.Response:
    identity = await require_identity(request, changes_state=True)
    ctx = request.app[CONTEXT]
    await ctx.services.limits.write(identity.user_id)
    body = await ctx.services.shares.continue_(identity.user_id, request.match_info["share_id"])
    return web.json_response(body, status=201)


def add_routes(app: web.Application) -> None:
    app.router.add_get("/s/{share_id}", page)
    app.router.add_get("/api/v1/shares/{share_id}", snapshot)
    app.router.add_post("/api/v1/shares/{share_id}/continue", continue_in_my_chats)
