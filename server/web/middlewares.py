"""Middlewares: typed JSON errors for the API, CORS for allowed origins, security headers."""
from __future__ import annotations

import logging
from functools import lru_cache
from typing import Awaitable, Callable

from aiohttp import hdrs, web
from aiohttp_session import STORAGE_KEY, AbstractStorage, session_middleware

from protocol import errors as e
from server import errors, metrics
from server.logs import REQUEST_ID, REQUEST_ID_HEADER, request_id_for

from .forwarded import request_scheme
from .state import SETTINGS

log = logging.getLogger("chatwire.http")
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

def error_response(error: e.ChatwireError) -> web.Response:
    metrics.ERRORS.labels(error.code, "http").inc()
    response = web.json_response(errors.body(error), status=errors.http_status(error))
    if isinstance(error, e.RateLimited):
        response.headers["Retry-After"] = str(error.retry_after)
    return response


@web.middleware
async def request_ids(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Every log line of a request carries its id (`answer_headers` names it in the answer)."""
    request["request_id"] = request_id = request_id_for(request)
    REQUEST_ID.set(request_id)
    return await handler(request)


SECURITY_HEADERS = {"X-Content-Type-Options": "nosniff", "Referrer-Policy": "same-origin",
                    "X-Frame-Options": "DENY"}


async def answer_headers(request: web.Request, response: web.StreamResponse) -> None:
    """What every answer carries, set as its headers leave (`on_response_prepare`): its request
    id, for a bug report, and the security headers. A hook, not a middleware's last step: a
    streamed answer (the account export, /v1's events, a download) is prepared inside its
    handler, before a middleware sees it, and a raised HTTPException never returns through one."""
    if "request_id" in request:
        response.headers[REQUEST_ID_HEADER] = request["request_id"]
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)


@web.middleware
async def error_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except e.ChatwireError as exc:
        return error_response(exc)
    except web.HTTPException as exc:
        if not request.path.startswith("/api/") or exc.status < 400:
            raise
        error = errors.FROM_HTTP.get(exc.status, e.InternalError)(exc.reason or "request failed")
        response = web.json_response(errors.body(error), status=exc.status)
        if exc.status == 405 and "Allow" in exc.headers:
            response.headers["Allow"] = exc.headers["Allow"]
        return response
    except Exception:
        log.exception("unhandled error on %s %s", request.method, request.path)
        return error_response(e.InternalError("internal error"))


WS_PATH = "/ws"
WS_ROUTE = "ws"  # the route's name: matched routes are at hand, where a path would be one more cached
Middleware = Callable[[web.Request, Handler], Awaitable[web.StreamResponse]]


def passing_sockets(middleware: Middleware) -> Middleware:
    """A socket's handler runs for hours, and a middleware that awaits it keeps its own frame
    alive all that time — memory per idle socket. `/ws` needs none of these (it answers its own
    errors), so it is handed the route's coroutine itself, with no frame in between."""
    def wrapped(request: web.Request, handler: Handler) -> Awaitable[web.StreamResponse]:
        if request.match_info.route.name == WS_ROUTE:
            return handler(request)
        return middleware(request, handler)
    return web.middleware(wrapped)  # type: ignore[arg-type]


def sessions(storage: AbstractStorage) -> Middleware:
    """aiohttp-session's middleware, passing `/ws` by the same way (it only reads the cookie)."""
    full = session_middleware(storage)

    def wrapped(request: web.Request, handler: Handler) -> Awaitable[web.StreamResponse]:
        if request.match_info.route.name == WS_ROUTE:
            if hdrs.COOKIE in request.headers:  # a bearer socket keeps no session state
                request[STORAGE_KEY] = storage
            return handler(request)
        return full(request, handler)
    return web.middleware(wrapped)  # type: ignore[arg-type]


def origin_allowed(request: web.Request, origin: str | None) -> bool:
    """Our own origin — the request's scheme and host — or one listed in CORS_ORIGINS.

    The scheme counts: a page on http://our-host (anyone on the path can write one) must not
    ride the cookie of https://our-host.
    """
    if not origin:
        return False
    origin = origin.rstrip("/")
    if origin in request.app[SETTINGS].cors_origins:
        return True
    scheme, _, host = origin.partition("://")
    if host != request.host:
        return False
    ours = request_scheme(request)
    if scheme.lower() != ours:
        _warn_scheme(scheme.lower(), ours)
        return False
    return True


@lru_cache(maxsize=4)
def _warn_scheme(theirs: str, ours: str) -> None:
    """Once per pair: the likely cause is a TLS proxy whose X-Forwarded-Proto is not believed."""
    log.warning("refused the session cookie from an %s:// page on this host: the request came "
                "over %s; behind a TLS-terminating proxy, list it in FORWARDED_ALLOW_IPS so its "
                "X-Forwarded-Proto is believed", theirs, ours)


@web.middleware
async def cors_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    origin = request.headers.get("Origin")
    listed = origin is not None and origin.rstrip("/") in request.app[SETTINGS].cors_origins
    if request.method == "OPTIONS" and listed and request.path.startswith("/api/"):
        response: web.StreamResponse = web.Response(status=204)
        response.headers["Access-Control-Allow-Methods"] = "GET, POST, DELETE, OPTIONS"
        response.headers["Access-Control-Allow-Headers"] = (
            "Authorization, Content-Type, Idempotency-Key")
        response.headers["Access-Control-Max-Age"] = "600"
    else:
        response = await handler(request)
    if listed and not response.prepared:
        response.headers["Access-Control-Allow-Origin"] = origin.rstrip("/")
        response.headers["Access-Control-Allow-Credentials"] = "true"
        response.headers["Vary"] = "Origin"
    return response


