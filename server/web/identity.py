"""Who is calling: a Bearer access token, or the web client's encrypted session cookie.

The cookie is only honoured from our own origin (or one listed in CORS_ORIGINS): a page on another
site can make the browser send it, but cannot make the browser lie about the Origin.
"""
from __future__ import annotations

from aiohttp import web
from aiohttp_session import get_session

from protocol.errors import AccountDisabled, Unauthorized
from server.domain.accounts import Identity

from .state import CONTEXT
from .middlewares import origin_allowed

COOKIE_NAME: web.AppKey[str] = web.AppKey("chatwire_cookie_name", str)
SESSION_USER = "uid"
SESSION_ID = "sid"


def bearer_token(request: web.Request) -> str | None:
    """The bearer token, or None without an Authorization header.

    A request that sends the header stands or falls by it: a malformed one never falls back to
    the cookie.
    """
    header = request.headers.get("Authorization")
    if header is None:
        return None
    scheme, _, token = header.strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("Authorization must be 'Bearer <access_token>'")
    return token.strip()


async def cookie_identity(request: web.Request, *, require_origin: bool) -> Identity | None:
    """The identity in the session cookie, if there is one and the origin may use it."""
    if request.cookies.get(request.app[COOKIE_NAME]) is None:
        return None
    origin = request.headers.get("Origin")
    usable = not require_origin if origin is None else origin_allowed(request, origin)
    if not usable:
        return None
    session = await get_session(request)
    if SESSION_USER not in session:
        return None
    try:
        return await request.app[CONTEXT].services.accounts.authenticate_session(
            session.get(SESSION_USER), session.get(SESSION_ID))
    except (Unauthorized, AccountDisabled):  # a disabled account's cookie signs the browser out
        session.invalidate()
        return None


async def require_identity(request: web.Request, *, changes_state: bool = False) -> Identity:
    """A request that changes something (upload, delete) honours the cookie only with our Origin:
    browsers always send Origin on such requests, and a foreign page cannot forge it."""
    token = bearer_token(request)
    if token is not None:
        return await request.app[CONTEXT].services.accounts.authenticate_access_token(token)
    identity = await cookie_identity(request, require_origin=changes_state)
    if identity is None:
        raise Unauthorized("log in first: send 'Authorization: Bearer <access_token>'")
    return identity


async def remember(request: web.Request, identity: Identity) -> None:
    session = await get_session(request)
    session[SESSION_USER] = identity.user_id
    session[SESSION_ID] = identity.session_id


async def forget(request: web.Request) -> None:
    session = await get_session(request)
    session.invalidate()

