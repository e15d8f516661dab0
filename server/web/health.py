"""Liveness and readiness for load balancers and orchestrators."""
from __future__ import annotations

from aiohttp import web

from .context import CONTEXT


async def healthz(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


async def readyz(request: web.Request) -> web.Response:
    """Ready when the database and the broker answer; 503 names what does not."""
    ctx = request.app[CONTEXT]
    if ctx.draining:
        return web.json_response({"ready": False, "draining": True}, status=503)
    checks: dict[str, bool] = {}
    for name, probe in (("database", ctx.db.ping), ("broker", ctx.broker.ping)):
        try:
            checks[name] = await probe()
        except Exception:
            checks[name] = False
    ready = all(checks.values())
    return web.json_response({"ready": ready, "checks": checks}, status=200 if ready else 503)


def add_routes(app: web.Application) -> None:
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
