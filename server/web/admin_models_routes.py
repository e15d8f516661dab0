"""Admin REST for the model catalogue: list every model (disabled ones too), add one for a
configured provider, change one — each change reaches every instance without a restart
(`Catalogue`)."""
from __future__ import annotations

from dataclasses import replace

from aiohttp import web

from protocol.schema import Bool, Field, Str

from .admin_routes import _admin
from .auth_routes import json_dumps, read_json
from .state import CONTEXT

PRICE = dict(min_value=0, max_value=10**12)  # micro-credits per 1M tokens
EDITABLE = {
    "name": Str(200, strip=True),
    "upstream": Str(200, min_len=1, strip=True),
    "input_price": Field("int", **PRICE),
    "output_price": Field("int", **PRICE),
    "cached_input_price": Field("int", nullable=True, **PRICE),
    "cache_write_price": Field("int", nullable=True, **PRICE),
    "context_window": Field("int", min_value=1, max_value=10**8),
    "max_output_tokens": Field("int", min_value=1, max_value=10**7),
    "vision": Bool(),
    "enabled": Bool(),
}
REQUIRED = ("upstream", "input_price", "output_price", "context_window", "max_output_tokens")
NEW_MODEL = {
    "id": Str(100, required=True, min_len=1, strip=True),
    "provider": Str(40, required=True, min_len=1, strip=True),
    **{k: replace(v, required=True) if k in REQUIRED else v
       for k, v in EDITABLE.items()},
}


async def list_models(request: web.Request) -> web.Response:
    await _admin(request)
    return web.json_response(await request.app[CONTEXT].services.catalogue.list_all(),
                             dumps=json_dumps)


async def add_model(request: web.Request) -> web.Response:
    actor = await _admin(request, changes_state=True)
    body = await read_json(request, "model", NEW_MODEL)
    created = await request.app[CONTEXT].services.catalogue.create(body, actor)
    return web.json_response(created, status=201, dumps=json_dumps)


async def change_model(request: web.Request) -> web.Response:
    actor = await _admin(request, changes_state=True)
    body = await read_json(request, "model", EDITABLE)
    changed = await request.app[CONTEXT].services.catalogue.update(request.match_info["model_id"],
                                                                   body, actor)
    return web.json_response({"model": changed["model"]}, dumps=json_dumps)


def add_routes(app: web.Application) -> None:
    app.router.add_get("/api/v1/admin/models", list_models)
    app.router.add_post("/api/v1/admin/models", add_model)
    app.router.add_patch("/api/v1/admin/models/{model_id}", change_model)
