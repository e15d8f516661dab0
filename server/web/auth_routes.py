"""REST auth: register, login, refresh, logout, me, and the session probe. Bodies are validated by the protocol's schema."""
from __future__ import annotations

from typing import Any

import orjson
from aiohttp import web

from protocol.errors import BadRequest, TooLarge, Unauthorized
from protocol.schema import Field, Str, validate

from server.domain.mail_texts import pick_language

from .state import CONTEXT
from .forwarded import client_address
from .identity import forget, remember, require_identity

MAX_BODY = 16 * 1024

REGISTER = {"email": Str(320, required=True), "password": Str(1024, required=True),
            "display_name": Str(200, nullable=True), "lang": Str(16, nullable=True)}
LOGIN = {"email": Str(320, required=True), "password": Str(1024, required=True)}
REFRESH = {"refresh_token": Str(512, required=True, min_len=1)}
LOGOUT = {"refresh_token": Str(512, nullable=True)}


async def read_body(request: web.Request, limit: int = MAX_BODY) -> bytes:
    """The whole body, refusing it as soon as it passes `limit` (never buffering more)."""
    if request.content_length is not None and request.content_length > limit:
        raise TooLarge(f"request body is over {limit} bytes")
    chunks: list[bytes] = []
    size = 0
    while chunk := await request.content.read(limit + 1 - size):
        chunks.append(chunk)
        size += len(chunk)
        if size > limit:
            raise TooLarge(f"request body is over {limit} bytes")
    return b"".join(chunks)


async def read_json(request: web.Request, name: str, spec: dict[str, Field],
                    optional: bool = False) -> dict[str, Any]:
    raw = await read_body(request)
    if not raw.strip() and optional:
        return {}
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise BadRequest("request body must be a JSON object") from None
    if not isinstance(body, dict):
        raise BadRequest("request body must be a JSON object")
    return validate(name, spec, body, ignore=frozenset())


def _user_agent(request: web.Request) -> str:
    return request.headers.get("User-Agent", "")


async def register(request: web.Request) -> web.Response:
    await request.app[CONTEXT].services.limits.auth(client_address(request))
    body = await read_json(request, "register", REGISTER)
    services = request.app[CONTEXT].services
    tokens, identity = await services.accounts.register(
        body["email"], body["password"], body.get("display_name"), _user_agent(request))
    services.mail_links.after_sign_up(tokens["user"], pick_language(
        body.get("lang"), request.headers.get("Accept-Language")))
    await remember(request, identity)
    return web.json_response(tokens, status=201, dumps=json_dumps)


async def login(request: web.Request) -> web.Response:
    await request.app[CONTEXT].services.limits.auth(client_address(request))
    body = await read_json(request, "login", LOGIN)
    tokens, identity = await request.app[CONTEXT].services.accounts.login(
        body["email"], body["password"], _user_agent(request))
    await remember(request, identity)
    return web.json_response(tokens, dumps=json_dumps)


async def refresh(request: web.Request) -> web.Response:
    body = await read_json(request, "refresh", REFRESH)
    tokens, _ = await request.app[CONTEXT].services.accounts.refresh(body["refresh_token"],
                                                            _user_agent(request))
    return web.json_response(tokens, dumps=json_dumps)


async def logout(request: web.Request) -> web.Response:
    identity = await require_identity(request, changes_state=True)
    body = await read_json(request, "logout", LOGOUT, optional=True)
    await request.app[CONTEXT].services.accounts.logout(identity, body.get("refresh_token"))
    await forget(request)
    return web.Response(status=204)


async def me(request: web.Request) -> web.Response:
    identity = await require_identity(request)
    return web.json_response(await request.app[CONTEXT].services.accounts.me(identity), dumps=json_dumps)


async def session(request: web.Request) -> web.Response:
    """Who this browser is signed in as, or `null`: the web client's first question. Unlike
    `/me` it answers 200 either way, so a signed-out first visit logs no failed request. It also
    says what the login screen may offer: `mail` (a password reset by email) and
    `email_verification` (whether new accounts must confirm their address)."""
    services = request.app[CONTEXT].services
    public = services.mail_links.public_config()
    try:
        identity = await require_identity(request)
    except Unauthorized:
        return web.json_response({"user": None, **public})
    user = await services.accounts.me(identity)
    return web.json_response({"user": user, **public}, dumps=json_dumps)


def json_dumps(obj: Any) -> str:
    return orjson.dumps(obj).decode()


def add_routes(app: web.Application) -> None:
    app.router.add_post("/api/v1/auth/register", register)
    app.router.add_post("/api/v1/auth/login", login)
    app.router.add_post("/api/v1/auth/refresh", refresh)
    app.router.add_post("/api/v1/auth/logout", logout)
    app.router.add_get("/api/v1/auth/me", me)
    app.router.add_get("/api/v1/auth/session", session)
