"""Admin REST under /api/v1/admin/: users (list, one, change, end sessions), credits (deposits
and adjustments, idempotent on `Idempotency-Key`), the audit log and who is online.

Every call is authorised here, on every request: the caller's role is read with their session
(never trusted from a token), and a non-admin gets `forbidden` before anything is read or written.
"""
from __future__ import annotations

from aiohttp import web

from protocol.errors import BadRequest, Forbidden
from protocol.schema import Bool, Field, Str, validate

from server.domain.audit import Actor

from .auth_routes import json_dumps, read_json
from .forwarded import client_address
from .identity import require_identity
from .state import CONTEXT

MAX_AMOUNT = 10**15  # a billion credits: anything larger is a typo
DEPOSIT = {"amount": Field("int", required=True, min_value=-MAX_AMOUNT, max_value=MAX_AMOUNT),
           "note": Str(500, nullable=True), "kind": Str(20, nullable=True)}
CAP = Field("int", nullable=True, min_value=0, max_value=MAX_AMOUNT)
PATCH = {"role": Str(20), "disabled": Bool(), "daily_cap": CAP, "monthly_cap": CAP}
LIST = {"q": Str(200, nullable=True), "sort": Str(20, nullable=True),
        "cursor": Str(200, nullable=True), "days": Str(3, nullable=True)}
AUDIT = {"cursor": Str(200, nullable=True), "actor": Str(320, nullable=True),
         "action": Str(40, nullable=True)}


async def _admin(request: web.Request, *, changes_state: bool = False) -> Actor:
    identity = await require_identity(request, changes_state=changes_state)
    if not identity.is_admin:
        raise Forbidden("only an admin can do this")
    user = await request.app[CONTEXT].services.accounts.me(identity)
    return Actor(identity.user_id, user["email"], client_address(request))


def _query(request: web.Request, name: str, spec: dict[str, Field]) -> dict:
    return validate(name, spec, dict(request.query), ignore=frozenset())


def _json(body: object, status: int = 200) -> web.Response:
    return web.json_response(body, status=status, dumps=json_dumps)


async def users(request: web.Request) -> web.Response:
    """`GET /api/v1/admin/users?q=&sort=created|last_active|balance|spend&days=&cursor=`."""
    await _admin(request)
    query = _query(request, "users", LIST)
    days = query.get("days") or "30"
    if not days.isdigit():
        raise BadRequest("days must be a whole number of days, 1 to 400", field="days")
    return _json(await request.app[CONTEXT].services.admin.users(
        q=query.get("q"), sort=query.get("sort") or "created", days=int(days),
        cursor=query.get("cursor")))


async def user(request: web.Request) -> web.Response:
    await _admin(request)
    return _json(await request.app[CONTEXT].services.admin.user(request.match_info["user_id"]))


async def update(request: web.Request) -> web.Response:
    """`PATCH /api/v1/admin/users/{id}` {role?, disabled?, daily_cap?, monthly_cap?}."""
    actor = await _admin(request, changes_state=True)
    body = await read_json(request, "user", PATCH)
    return _json(await request.app[CONTEXT].services.admin.update(
        actor, request.match_info["user_id"], body))


async def revoke_sessions(request: web.Request) -> web.Response:
    """`DELETE /api/v1/admin/users/{id}/sessions`: every session of the user ends."""
    actor = await _admin(request, changes_state=True)
    return _json(await request.app[CONTEXT].services.admin.revoke_sessions(
        actor, request.match_info["user_id"]))


async def deposit(request: web.Request) -> web.Response:
    """`POST /api/v1/admin/users/{id}/deposits` {"amount": micro-credits, "note"?, "kind"?}.

    The same Idempotency-Key with the same body answers the first result (200) and writes
    nothing; with a different body, 409 `conflict`. An adjustment needs a note.
    """
    actor = await _admin(request, changes_state=True)
    body = await read_json(request, "deposit", DEPOSIT)
    key = request.headers.get("Idempotency-Key")
    if key is not None and not 1 <= len(key) <= 200:
        raise BadRequest("Idempotency-Key must be 1 to 200 characters")
    row, account, replayed = await request.app[CONTEXT].services.admin.deposit(
        actor, request.match_info["user_id"], body["amount"], kind=body.get("kind") or "deposit",
        note=body.get("note") or "", idempotency_key=key)
    return _json({"transaction": row, **account}, status=200 if replayed else 201)


async def audit(request: web.Request) -> web.Response:
    """`GET /api/v1/admin/audit?cursor=&actor=&action=`: newest first."""
    await _admin(request)
    query = _query(request, "audit", AUDIT)
    return _json(await request.app[CONTEXT].services.admin.audit(
        cursor=query.get("cursor"), actor=query.get("actor"), action=query.get("action")))


async def presence(request: web.Request) -> web.Response:
    """`GET /api/v1/admin/presence`: users online across every instance, sockets on this one."""
    await _admin(request)
    ctx = request.app[CONTEXT]
    return _json({"online_users": await ctx.services.presence.online_users(),
                  "sockets_here": len(ctx.sockets)})


def add_routes(app: web.Application) -> None:
    app.router.add_get("/api/v1/admin/users", users)
    app.router.add_get("/api/v1/admin/users/{user_id}", user)
    app.router.add_patch("/api/v1/admin/users/{user_id}", update)
    app.router.add_delete("/api/v1/admin/users/{user_id}/sessions", revoke_sessions)
    app.router.add_post("/api/v1/admin/users/{user_id}/deposits", deposit)
    app.router.add_get("/api/v1/admin/audit", audit)
    app.router.add_get("/api/v1/admin/presence", presence)
