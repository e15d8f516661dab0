"""Admin REST for the credit packs: list every pack (disabled ones too), add one, change one —
each change reaches every instance without a restart (`PackCatalogue`); orders already made
keep the price they were made at."""
from __future__ import annotations

from dataclasses import replace

from aiohttp import web

from protocol.schema import Bool, Field, Str

from .admin_routes import _admin
from .auth_routes import json_dumps, read_json
from .state import CONTEXT

EDITABLE = {
    "title": Str(100, strip=True),
    "price": Field("int", min_value=1, max_value=10**12),  # the currency's minor unit
    "currency": Str(3, min_len=3, strip=True),
    "credits": Field("int", min_value=1, max_value=10**15),  # micro-credits
    "enabled": Bool(),
}
NEW_PACK = {
    "id": Str(64, required=True, min_len=1, strip=True),
    **{k: replace(v, required=True) if k in ("price", "currency", "credits") else v
       for k, v in EDITABLE.items()},
}


async def list_packs(request: web.Request) -> web.Response:
    await _admin(request)
    return web.json_response(await request.app[CONTEXT].services.packs.list_all(),
                             dumps=json_dumps)


async def add_pack(request: web.Request) -> web.Response:
    actor = await _admin(request, changes_state=True)
    body = await read_json(request, "pack", NEW_PACK)
    created = await request.app[CONTEXT].services.packs.create(body, actor)
    return web.json_response(created, status=201, dumps=json_dumps)


async def change_pack(request: web.Request) -> web.Response:
    actor = await _admin(request, changes_state=True)
    body = await read_json(request, "pack", EDITABLE)
    changed = await request.app[CONTEXT].services.packs.update(request.match_info["pack_id"],
                                                               body, actor)
    return web.json_response(changed, dumps=json_dumps)


def add_routes(app: web.Application) -> None:
    app.router.add_get("/api/v1/admin/packs", list_packs)
    app.router.add_post("/api/v1/admin/packs", add_pack)
    app.router.add_patch("/api/v1/admin/packs/{pack_id}", change_pack)
