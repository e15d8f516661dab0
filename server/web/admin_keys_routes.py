"""Admin REST for anyone's API keys: list a user's (revoked ones too), revoke one — it stops
working at once on every instance, and the audit log has it."""
from __future__ import annotations

from aiohttp import web

from protocol.errors import NotFound
from storage import users

from .admin_routes import _admin, _json
from .state import CONTEXT


async def api_keys(request: web.Request) -> web.Response:
    """`GET /api/v1/admin/users/{id}/api-keys`: every key of a user, revoked ones too."""
    await _admin(request)
    services = request.app[CONTEXT].services
    user_id = request.match_info["user_id"]
    if await users.get(services.db, user_id) is None:
        raise NotFound(f"user {user_id} does not exist", user_id=user_id)
    return _json(await services.api_keys.list_any(user_id))


async def revoke_api_key(request: web.Request) -> web.Response:
    """`DELETE /api/v1/admin/api-keys/{id}`: revoke anyone's key."""
    actor = await _admin(request, changes_state=True)
    revoked = await request.app[CONTEXT].services.api_keys.revoke_any(
        request.match_info["api_key_id"], actor)
    return _json({"api_key": revoked["api_key"]})


def add_routes(app: web.Application) -> None:
    app.router.add_get("/api/v1/admin/users/{user_id}/api-keys", api_keys)
    app.router.add_delete("/api/v1/admin/api-keys/{api_key_id}", revoke_api_key)
