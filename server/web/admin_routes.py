"""Admin REST: deposits and adjustments to a user's credits, idempotent on `Idempotency-Key`."""
from __future__ import annotations

from aiohttp import web

from protocol.errors import BadRequest, Forbidden
from protocol.schema import Field, Str

from .auth_routes import json_dumps, read_json
from .state import CONTEXT
from .identity import require_identity

DEPOSIT = {"amount": Field("int", required=True, min_value=-(10**15), max_value=10**15),
           "note": Str(500, nullable=True), "kind": Str(20, nullable=True)}


async def deposit(request: web.Request) -> web.Response:
    """`POST /api/v1/admin/users/{id}/deposits` {"amount": micro-credits, "note"?, "kind"?}.

    The same Idempotency-Key with the same body answers the first result (200) and writes
    nothing; with a different body, 409 `conflict`.
    """
    identity = await require_identity(request, changes_state=True)
    if not identity.is_admin:
        raise Forbidden("only an admin can change credits")
    body = await read_json(request, "deposit", DEPOSIT)
    key = request.headers.get("Idempotency-Key")
    if key is not None and not 1 <= len(key) <= 200:
        raise BadRequest("Idempotency-Key must be 1 to 200 characters")
    row, account, replayed = await request.app[CONTEXT].services.ledger.credit(
        request.match_info["user_id"], body["amount"], kind=body.get("kind") or "deposit",
        note=body.get("note") or "", idempotency_key=key, created_by=identity.user_id)
    return web.json_response({"transaction": row, **account}, status=200 if replayed else 201,
                             dumps=json_dumps)


async def presence(request: web.Request) -> web.Response:
    """`GET /api/v1/admin/presence`: users online across every instance, sockets on this one."""
    identity = await require_identity(request)
    if not identity.is_admin:
        raise Forbidden("only an admin can see who is online")
    ctx = request.app[CONTEXT]
    return web.json_response({"online_users": await ctx.services.presence.online_users(),
                              "sockets_here": len(ctx.sockets)}, dumps=json_dumps)


def add_routes(app: web.Application) -> None:
    app.router.add_post("/api/v1/admin/users/{user_id}/deposits", deposit)
    app.router.add_get("/api/v1/admin/presence", presence)
