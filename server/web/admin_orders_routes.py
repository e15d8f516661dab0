"""Admin REST for orders: everyone's orders (filtered by status, with the count of flagged ones
the console shows as its alert), and a flagged order resolved — credited once through the
ledger, or dismissed — with a note, audit-logged."""
from __future__ import annotations

from aiohttp import web

from protocol.schema import Str

from .admin_routes import _admin, _json, _query
from .auth_routes import read_json
from .state import CONTEXT

LIST = {"status": Str(20, nullable=True), "cursor": Str(200, nullable=True)}
RESOLVE = {"action": Str(20, required=True), "note": Str(500, required=True, not_blank=True)}


async def orders(request: web.Request) -> web.Response:
    """`GET /api/v1/admin/orders?status=&cursor=`: newest first, and `flagged` (a count)."""
    await _admin(request)
    query = _query(request, "orders", LIST)
    return _json(await request.app[CONTEXT].services.order_review.orders(
        status=query.get("status"), cursor=query.get("cursor")))


async def resolve(request: web.Request) -> web.Response:
    """`POST /api/v1/admin/orders/{id}/resolve` {action: credit | dismiss, note}."""
    actor = await _admin(request, changes_state=True)
    body = await read_json(request, "resolve", RESOLVE)
    return _json(await request.app[CONTEXT].services.order_review.resolve(
        actor, request.match_info["order_id"], body["action"], body["note"]))


def add_routes(app: web.Application) -> None:
    app.router.add_get("/api/v1/admin/orders", orders)
    app.router.add_post("/api/v1/admin/orders/{order_id}/resolve", resolve)
