"""REST for billing: the providers' webhooks and the page a provider sends the user back to.

A webhook body is read raw (the signature covers its exact bytes) and capped at 64 KiB. It is
answered 2xx only once what it means is committed; 400 when it is not the provider's; 503 when
it cannot be settled yet (the provider retries). The return page is the web client itself: it
shows "payment pending" until `balance.updated` arrives — the return never credits anything.
"""
from __future__ import annotations

from aiohttp import web

from protocol.errors import NotFound

from .auth_routes import json_dumps, read_body
from .forwarded import client_address
from .state import CONTEXT

WEBHOOK_MAX_BYTES = 64 * 1024
PROVIDERS = ("stripe", "yookassa")


async def webhook(request: web.Request) -> web.Response:
    provider = request.match_info["provider"]
    if provider not in PROVIDERS:
        raise NotFound(f"no webhook for {provider}")
    raw = await read_body(request, WEBHOOK_MAX_BYTES)
    outcome = await request.app[CONTEXT].services.billing.webhook(
        provider, raw, request.headers, client_address(request))
    return web.json_response({"received": True, "outcome": outcome}, dumps=json_dumps)


def add_routes(app: web.Application, index: web.RequestHandler) -> None:
    app.router.add_post("/api/v1/billing/webhooks/{provider}", webhook)
    app.router.add_get("/billing/return", index)
