"""REST for links sent by mail: asking for and confirming a password reset, verifying an email
address and asking for another verification mail. (Whether mail is on at all, the login screen
reads from `GET /api/v1/auth/session`.)

The mail's language is the body's `lang` ("en" or "ru": the web client sends its interface
language), else the request's Accept-Language, else English — no language is stored per account.
"""
from __future__ import annotations

from aiohttp import web

from protocol.schema import Str

from .auth_routes import json_dumps, read_json
from .forwarded import client_address
from .identity import require_identity
from .state import CONTEXT
from server.domain.mail_texts import pick_language

LANG = Str(16, nullable=True)
TOKEN = Str(128, required=True, min_len=1)
RESET = {"email": Str(320, required=True), "lang": LANG}
CONFIRM = {"token": TOKEN, "password": Str(1024, required=True)}
VERIFY = {"token": TOKEN}
RESEND = {"lang": LANG}


def _lang(request: web.Request, body: dict) -> str:
    return pick_language(body.get("lang"), request.headers.get("Accept-Language"))


async def password_reset(request: web.Request) -> web.Response:
    """202 and the same body whether or not an account has this email; the mail goes out in the
    background."""
    body = await read_json(request, "password-reset", RESET)
    answer = await request.app[CONTEXT].services.mail_links.request_reset(
        body["email"], client_address(request), _lang(request, body))
    return web.json_response(answer, status=202, dumps=json_dumps)


async def password_reset_confirm(request: web.Request) -> web.Response:
    ctx = request.app[CONTEXT]
    await ctx.services.limits.auth(client_address(request))
    body = await read_json(request, "password-reset/confirm", CONFIRM)
    answer = await ctx.services.mail_links.confirm_reset(body["token"], body["password"])
    return web.json_response(answer, dumps=json_dumps)


async def verify_email(request: web.Request) -> web.Response:
    """The mailed link's token (the link opens the app, which posts it here): no session needed."""
    ctx = request.app[CONTEXT]
    await ctx.services.limits.auth(client_address(request))
    body = await read_json(request, "verify-email", VERIFY)
    return web.json_response(await ctx.services.mail_links.verify(body["token"]), dumps=json_dumps)


async def verify_email_resend(request: web.Request) -> web.Response:
    identity = await require_identity(request, changes_state=True)
    body = await read_json(request, "verify-email/resend", RESEND, optional=True)
    answer = await request.app[CONTEXT].services.mail_links.resend(
        identity.user_id, client_address(request), _lang(request, body))
    return web.json_response(answer, status=202 if answer["sent"] else 200, dumps=json_dumps)


def add_routes(app: web.Application) -> None:
    app.router.add_post("/api/v1/auth/password-reset", password_reset)
    app.router.add_post("/api/v1/auth/password-reset/confirm", password_reset_confirm)
    app.router.add_post("/api/v1/auth/verify-email", verify_email)
    app.router.add_post("/api/v1/auth/verify-email/resend", verify_email_resend)
