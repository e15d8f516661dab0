"""`GET /api/v1/admin/usage?from=&to=&group_by=model|day|user|provider[&format=csv]`: the usage
analytics of the operator's console, as JSON or as the table in CSV (for a spreadsheet or curl).

Authorised on every call like the other admin routes: a non-admin gets `forbidden` before
anything is read.
"""
from __future__ import annotations

from aiohttp import web

from protocol.errors import BadRequest
from protocol.schema import Str

from server.domain.usage import to_csv

from .admin_routes import _admin, _json, _query
from .state import CONTEXT

USAGE = {"from": Str(10, nullable=True), "to": Str(10, nullable=True),
         "group_by": Str(10, nullable=True), "format": Str(4, nullable=True)}


async def usage(request: web.Request) -> web.Response:
    await _admin(request)
    query = _query(request, "usage", USAGE)
    form = query.get("format") or "json"
    if form not in ("json", "csv"):
        raise BadRequest("format must be json or csv", field="format")
    report = await request.app[CONTEXT].services.usage.report(
        since=query.get("from"), until=query.get("to"), group_by=query.get("group_by"))
    if form == "json":
        return _json(report)
    name = f"usage-{report['group_by']}-{report['from']}-{report['to']}.csv"
    return web.Response(text=to_csv(report), content_type="text/csv", charset="utf-8",
                        headers={"Content-Disposition": f'attachment; filename="{name}"',
                                 "Cache-Control": "no-store"})


def add_routes(app: web.Application) -> None:
    app.router.add_get("/api/v1/admin/usage", usage)
