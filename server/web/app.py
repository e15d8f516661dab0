"""Assemble the aiohttp application: storage, broker and services for its lifetime, then routes."""
from __future__ import annotations

import asyncio
import hashlib
import logging
from pathlib import Path
from typing import AsyncIterator

from aiohttp import web
from aiohttp_session.cookie_storage import EncryptedCookieStorage

from server import services
from server.config import Settings
from server.domain.recovery import Recovery
from server.malloc import trim_periodically

from . import (account_routes, admin_keys_routes, admin_models_routes, admin_routes, admin_usage_routes, auth_routes, billing_routes,
               chat_routes, file_routes, health, mail_routes, openai_routes, openapi, share_routes)
from . import admin_orders_routes, admin_packs_routes
from .state import CONTEXT, SETTINGS, Context
from .identity import COOKIE_NAME
from .middlewares import (
    WS_PATH,
    WS_ROUTE,
    answer_headers,
    cors_middleware,
    error_middleware,
    passing_sockets,
    request_ids,
    sessions,
)
from .ws import websocket

log = logging.getLogger("chatwire")

STATIC_DIR = Path(__file__).resolve().parent.parent.parent / "static"
# chatwire-client, the JavaScript library the web client is built on, served as it is published.
CLIENT_DIR = STATIC_DIR.parent / "clients" / "js" / "src"
SESSION_COOKIE = "chatwire_session"


async def _lifespan(app: web.Application) -> AsyncIterator[None]:
    settings = app[SETTINGS]
    built = await services.build(settings)
    # SQLite with one process is the one instance there is; PostgreSQL, or several workers on
    # one SQLite file, may have others streaming beside it.
    several = settings.is_postgres or settings.workers > 1
    try:
        await built.recovery.at_start(single_instance=not several)
    except BaseException:
        await built.close()
        raise
    app[CONTEXT] = Context(built)
    sweeper = asyncio.create_task(_sweep(built.recovery)) if several else None
    trimmer = (asyncio.create_task(trim_periodically(settings.malloc_trim_s))
               if settings.malloc_trim_s > 0 else None)
    yield
    for task in (sweeper, trimmer):
        if task is not None:
            task.cancel()
    try:
        await drain(app, grace_s=0.0)
    except Exception:
        log.exception("shutting down: draining failed; carrying on")
    await built.close()


async def drain(app: web.Application, grace_s: float | None = None) -> None:
    """Shut down without surprising anyone.

    At once: `/readyz` answers 503, new sockets and new replies are refused (`unavailable`).
    Replies already streaming get up to `SHUTDOWN_GRACE_S` to finish; the rest end `interrupted`
    (text kept, nothing charged). Then every socket closes with 1001, after what is queued for it,
    so clients reconnect — to another instance behind the load balancer — and resume.
    """
    ctx = app[CONTEXT]
    ctx.start_draining()
    streams = ctx.services.streams
    await streams.drain(ctx.settings.shutdown_grace_s if grace_s is None else grace_s)
    await streams.close()
    for conn in list(ctx.sockets):
        conn.close_soon(1001, "server shutting down")
    for _ in range(50):  # the writers flush their queues, then close
        if not ctx.sockets:
            break
        await asyncio.sleep(0.05)


async def _close_sockets(app: web.Application) -> None:
    """aiohttp waits for every request handler before the cleanup context runs, and a socket's
    handler only ends when the socket closes: so sockets are closed here, at shutdown's start."""
    if CONTEXT in app:
        await drain(app, grace_s=0.0)


async def _sweep(recovery: Recovery, every_s: float = 30.0) -> None:
    """With several instances: mark orphans of instances that died and never came back."""
    while True:
        await asyncio.sleep(every_s)
        try:
            await recovery.sweep()
        except Exception:
            log.exception("sweeping orphaned generations failed")


async def favicon(request: web.Request) -> web.FileResponse:
    return web.FileResponse(STATIC_DIR / "favicon.svg", headers={"Content-Type": "image/svg+xml"})


async def index(request: web.Request) -> web.FileResponse:
    response = web.FileResponse(STATIC_DIR / "index.html")
    response.headers["Content-Security-Policy"] = (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
        "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
    )
    return response


def create_app(settings: Settings) -> web.Application:
    cookies = EncryptedCookieStorage(
        hashlib.sha256(settings.secret_key.encode()).digest(),
        cookie_name=SESSION_COOKIE, httponly=True, samesite="Lax",
        secure=settings.cookie_secure, max_age=settings.refresh_token_ttl_s,
    )
    app = web.Application(
        middlewares=[passing_sockets(m) for m in (request_ids, cors_middleware, error_middleware)]
        + [sessions(cookies)],
        client_max_size=(settings.max_upload_mb + 1) * 1024 * 1024)
    app[SETTINGS] = settings
    app[COOKIE_NAME] = SESSION_COOKIE
    app.cleanup_ctx.append(_lifespan)
    app.on_shutdown.append(_close_sockets)
    app.on_response_prepare.append(answer_headers)
    auth_routes.add_routes(app)
    mail_routes.add_routes(app)
    admin_routes.add_routes(app)
    admin_usage_routes.add_routes(app)
    admin_models_routes.add_routes(app)
    admin_keys_routes.add_routes(app)
    admin_orders_routes.add_routes(app)
    admin_packs_routes.add_routes(app)
    file_routes.add_routes(app)
    chat_routes.add_routes(app)
    share_routes.add_routes(app)
    account_routes.add_routes(app)
    billing_routes.add_routes(app, index)
    health.add_routes(app)
    openapi.add_routes(app)
    openai_routes.add_routes(app)
    app.router.add_get(WS_PATH, websocket, name=WS_ROUTE)
    app.router.add_get("/", index)
    app.router.add_get("/favicon.ico", favicon)  # what browsers and tools ask for unprompted
    app.router.add_static("/static/chatwire-client/", CLIENT_DIR)  # before /static/: its prefix
    app.router.add_static("/static/", STATIC_DIR)
    return app
