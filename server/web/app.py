"""Assemble the aiohttp application: storage, broker and services for its lifetime, then routes."""
from __future__ import annotations

import asyncio
import hashlib
import logging
from pathlib import Path
from typing import AsyncIterator

from aiohttp import web
from aiohttp_session.cookie_storage import EncryptedCookieStorage

from server.broker import make_broker
from server.config import ConfigError, Settings
from server.domain.accounts import Accounts, AuthSettings
from providers import registry
from providers.base import Provider
from providers.factory import build_providers
from providers.registry import Model
from server.domain.analyzer import Analyzer
from server.domain.chats import Chats
from server.domain.files import Files, FileSettings
from server.domain.generation import GenerationSettings, Generations
from server.domain.ledger import Ledger
from server.domain.limits import Limits, LimitSettings
from server.domain.runner import StreamSettings
from server.domain.messages import Messages
from server.domain.presence import Presence
from server.domain.profile import Profiles
from server.malloc import trim_periodically
from storage import open_database
from storage.migrate import apply_migrations

from . import admin_routes, auth_routes, file_routes, health, openapi
from .state import CONTEXT, SETTINGS, Context
from .identity import COOKIE_NAME
from .middlewares import (
    WS_PATH,
    WS_ROUTE,
    cors_middleware,
    error_middleware,
    passing_sockets,
    request_ids,
    security_headers,
    sessions,
)
from .ws import websocket

log = logging.getLogger("chatwire")

STATIC_DIR = Path(__file__).resolve().parent.parent.parent / "static"
SESSION_COOKIE = "chatwire_session"


def auth_settings(settings: Settings) -> AuthSettings:
    return AuthSettings(
        jwt_secret=settings.jwt_secret_key,
        access_ttl_s=settings.access_token_ttl_s,
        refresh_ttl_s=settings.refresh_token_ttl_s,
        argon2_time_cost=settings.argon2_time_cost,
        argon2_memory_cost=settings.argon2_memory_cost,
        login_max_failures=settings.login_max_failures,
        login_window_s=settings.login_window_s,
        signup_credits=settings.signup_credits,
    )


async def _lifespan(app: web.Application) -> AsyncIterator[None]:
    settings = app[SETTINGS]
    if settings.migrate_on_start:
        applied = await asyncio.to_thread(apply_migrations, settings.database_url)
        if applied:
            log.info("applied migrations: %s", ", ".join(applied))
    db = await open_database(settings.database_url, pool_size=settings.db_pool_size)
    broker = make_broker(settings.redis_url, settings.instance_id, history=settings.event_history,
                         history_ttl_s=settings.event_history_ttl_s,
                         presence_ttl_s=settings.presence_ttl_s)
    try:
        await broker.start()
    except Exception:
        await db.close()
        raise
    ledger = Ledger(db, broker)
    accounts = Accounts(db, broker, ledger, auth_settings(settings), counter=broker)
    chats = Chats(db, broker)
    messages = Messages(db, chats)
    providers = build_providers(settings.providers)
    models = registry.load(settings.models_file)
    profiles = Profiles(db, broker, analyzer(settings, models, providers),
                        prompt_budget_tokens=settings.profile_prompt_tokens)
    limits = Limits(broker, LimitSettings(sends_per_minute=settings.rate_send_per_minute,
                                          uploads_per_hour=settings.rate_uploads_per_hour,
                                          auth_per_minute=settings.rate_auth_per_minute))
    files = Files(db, broker, file_settings(settings), limits)
    generations = Generations(db, broker, chats, messages, ledger, models, providers,
                              generation_settings(settings), personalize=profiles.personalize,
                              files=files, limits=limits)
    broker.on_stop = generations.stop_here
    await generations.recover(single_instance=not settings.is_postgres)
    app[CONTEXT] = Context(settings=settings, db=db, broker=broker, accounts=accounts,
                           chats=chats, messages=messages, generations=generations, ledger=ledger,
                           profiles=profiles, files=files, presence=Presence(broker.presence, broker),
                           limits=limits)
    sweeper = asyncio.create_task(_sweep(generations)) if settings.is_postgres else None
    trimmer = (asyncio.create_task(trim_periodically(settings.malloc_trim_s))
               if settings.malloc_trim_s > 0 else None)
    yield
    for task in (sweeper, trimmer):
        if task is not None:
            task.cancel()
    # Each step runs even if one before it failed: an unclosed database keeps its threads alive.
    for step in (lambda: drain(app, grace_s=0.0), *(p.aclose for p in providers.values()),
                 broker.stop, db.close):
        try:
            await step()
        except Exception:
            log.exception("shutting down: a step failed; carrying on")


async def drain(app: web.Application, grace_s: float | None = None) -> None:
    """Shut down without surprising anyone.

    At once: `/readyz` answers 503, new sockets and new replies are refused (`unavailable`).
    Replies already streaming get up to `SHUTDOWN_GRACE_S` to finish; the rest end `interrupted`
    (text kept, nothing charged). Then every socket closes with 1001, after what is queued for it,
    so clients reconnect — to another instance behind the load balancer — and resume.
    """
    ctx = app[CONTEXT]
    ctx.draining = True
    await ctx.generations.drain(ctx.settings.shutdown_grace_s if grace_s is None else grace_s)
    await ctx.generations.close()
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


async def _sweep(generations: Generations, every_s: float = 30.0) -> None:
    """With several instances: mark orphans of instances that died and never came back."""
    while True:
        await asyncio.sleep(every_s)
        try:
            await generations.sweep()
        except Exception:
            log.exception("sweeping orphaned generations failed")


async def index(request: web.Request) -> web.FileResponse:
    response = web.FileResponse(STATIC_DIR / "index.html")
    response.headers["Content-Security-Policy"] = (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
        "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
    )
    return response


def analyzer(settings: Settings, models: dict[str, Model], providers: dict[str, Provider]) -> Analyzer:
    """The configured analysis model, or the offline rules (also for echo, which only repeats)."""
    chosen = settings.profile_analysis_model
    if not chosen or chosen == "echo":
        return Analyzer()
    model = models.get(chosen)
    if model is None or model.provider not in providers:
        raise ConfigError(f"PROFILE_ANALYSIS_MODEL={chosen} is not a configured model")
    return Analyzer(model, providers[model.provider],
                    idle_timeout_s=settings.providers.idle_timeout_s)


def file_settings(settings: Settings) -> FileSettings:
    return FileSettings(upload_dir=settings.upload_dir,
                        max_upload_bytes=settings.max_upload_mb * 1024 * 1024,
                        quota_bytes=settings.user_storage_mb * 1024 * 1024,
                        max_image_pixels=settings.max_image_pixels)


def generation_settings(settings: Settings) -> GenerationSettings:
    p = settings.providers
    return GenerationSettings(
        default_model=settings.default_model,
        max_concurrent_per_user=settings.max_concurrent_generations,
        instance_id=settings.instance_id,
        stream=StreamSettings(coalesce_s=settings.stream_coalesce_ms / 1000,
                              flush_s=settings.stream_flush_s,
                              first_token_timeout_s=p.first_token_timeout_s,
                              idle_timeout_s=p.idle_timeout_s),
    )


def create_app(settings: Settings) -> web.Application:
    cookies = EncryptedCookieStorage(
        hashlib.sha256(settings.secret_key.encode()).digest(),
        cookie_name=SESSION_COOKIE, httponly=True, samesite="Lax",
        secure=settings.cookie_secure, max_age=settings.refresh_token_ttl_s,
    )
    app = web.Application(
        middlewares=[passing_sockets(m) for m in (request_ids, security_headers, cors_middleware,
                                                 error_middleware)]
        + [sessions(cookies)],
        client_max_size=(settings.max_upload_mb + 1) * 1024 * 1024)
    app[SETTINGS] = settings
    app[COOKIE_NAME] = SESSION_COOKIE
    app.cleanup_ctx.append(_lifespan)
    app.on_shutdown.append(_close_sockets)
    auth_routes.add_routes(app)
    admin_routes.add_routes(app)
    file_routes.add_routes(app)
    health.add_routes(app)
    openapi.add_routes(app)
    app.router.add_get(WS_PATH, websocket, name=WS_ROUTE)
    app.router.add_get("/", index)
    app.router.add_static("/static/", STATIC_DIR)
    return app
