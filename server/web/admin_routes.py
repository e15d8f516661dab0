"""Admin REST: deposits and adjustments to a user's credits, idempotent on `Idempotency-Key`;
who is online; anyone's API keys, listed and revoked (each revocation logged: there is no audit
table yet)."""
from __future__ import annotations

from aiohttp import web

import logging

from protocol.errors import BadRequest, Forbidden, NotFound
from protocol.schema import Field, Str
from storage import users

from .auth_routes import json_dumps, read_json
from .state import CONTEXT
from .identity import require_identity

log = logging.getLogger("chatwire.admin")

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


async def api_keys(request: web.Request) -> web.Response:
    """`GET /api/v1/admin/users/{id}/api-keys`: every key of a user, revoked ones too."""
    identity = await require_identity(request)
    if not identity.is_admin:
        raise Forbidden("only an admin can see other people's API keys")
    services = request.app[CONTEXT].services
    user_id = request.match_info["user_id"]
    if await users.get(services.db, user_id) is None:
        raise NotFound(f"user {user_id} does not exist", user_id=user_id)
    return web.json_response(await services.api_keys.list_any(user_id), dumps=json_dumps)


async def revoke_api_key(request: web.Request) -> web.Response:
    """`DELETE /api/v1/admin/api-keys/{id}`: revoke anyone's key; it stops working at once."""
    identity = await require_identity(request, changes_state=True)
    if not identity.is_admin:
        raise Forbidden("only an admin can revoke other people's API keys")
    revoked = await request.app[CONTEXT].services.api_keys.revoke_any(
        request.match_info["api_key_id"])
    log.info("admin %s revoked API key %s of user %s", identity.user_id,
             revoked["api_key"]["id"], revoked["user_id"])
    return web.json_response({"api_key": revoked["api_key"]}, dumps=json_dumps)


def add_routes(app: web.Application) -> None:
    app.router.add_post("/api/v1/admin/users/{user_id}/deposits", deposit)
    app.router.add_get("/api/v1/admin/presence", presence)
    app.router.add_get("/api/v1/admin/users/{user_id}/api-keys", api_keys)
    app.router.add_delete("/api/v1/admin/api-keys/{api_key_id}", revoke_api_key)
