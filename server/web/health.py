"""Liveness and readiness for load balancers and orchestrators."""
from __future__ import annotations

import hmac
import ipaddress

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from protocol.errors import Forbidden, Unauthorized
from server import metrics

from .middlewares import error_middleware
from .state import CONTEXT, SETTINGS


async def healthz(request: web.Request) -> web.Response:
    """Alive; under `serve --workers N`, also which worker (1..N) answered."""
    worker = request.app[SETTINGS].worker
    return web.json_response({"status": "ok", "worker": worker} if worker else {"status": "ok"})


async def readyz(request: web.Request) -> web.Response:
    """Ready when the database and the broker answer (and the bucket, with uploads in object
    storage); 503 names what does not."""
    ctx = request.app[CONTEXT]
    if ctx.draining:
        return web.json_response({"ready": False, "draining": True}, status=503)
    checks: dict[str, bool] = {}
    probes = [("database", ctx.services.db.ping), ("broker", ctx.services.broker.ping)]
    if ctx.services.files.blobs.kind != "disk":
        probes.append(("storage", ctx.services.files.blobs.ping))
    for name, probe in probes:
        try:
            checks[name] = await probe()
        except Exception:
            checks[name] = False
    ready = all(checks.values())
    return web.json_response({"ready": ready, "checks": checks}, status=200 if ready else 503)


async def metrics_route(request: web.Request) -> web.Response:
    """Prometheus text format. With METRICS_TOKEN set, only `Authorization: Bearer <token>`.

    Without one it is open on the embedded default (a machine of one's own), but a deployment on
    PostgreSQL — a server others reach, through a proxy — answers only a scraper on the same host
    (loopback) until METRICS_TOKEN is set: counts of users, errors and spend are not public.
    """
    ctx = request.app[CONTEXT]
    token = ctx.settings.metrics_token
    if token and not hmac.compare_digest(request.headers.get("Authorization", ""), f"Bearer {token}"):
        raise Unauthorized("metrics need 'Authorization: Bearer <METRICS_TOKEN>'")
    if not token and ctx.settings.is_postgres and not _same_host(request):
        raise Forbidden("set METRICS_TOKEN to read /metrics from another host")
    metrics.OPEN_SOCKETS.set(len(ctx.sockets))
    response = web.Response(body=generate_latest())
    response.content_type = "text/plain"
    response.headers["Content-Type"] = CONTENT_TYPE_LATEST
    return response


def _same_host(request: web.Request) -> bool:
    """A scraper on this host: a loopback peer, and not a proxy relaying someone (a proxy on the
    same host is a loopback peer too, but it says whom it forwards)."""
    if "X-Forwarded-For" in request.headers or "Forwarded" in request.headers:
        return False
    try:
        return request.remote is not None and ipaddress.ip_address(request.remote).is_loopback
    except ValueError:
        return False


def metrics_app(main: web.Application) -> web.Application:
    """`/metrics` alone, of the process serving `main` (its context, its rules above), for a
    port of its own (METRICS_PORT_BASE): with several workers on one port, a scrape of the shared
    port reaches one worker at random, so each is scraped at its own port."""
    app = web.Application(middlewares=[error_middleware])
    app[CONTEXT] = main[CONTEXT]
    app.router.add_get("/metrics", metrics_route)
    return app


def add_routes(app: web.Application) -> None:
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    app.router.add_get("/metrics", metrics_route)
