"""WebSocket request types → domain calls. Each handler gets validated params and returns `data`.

Every handler acts as `conn.identity` and passes its user id down: ownership is enforced by the
domain's queries, never by trusting an id from the frame.
"""
from __future__ import annotations

from typing import Any, Awaitable, Callable

from protocol.errors import BadRequest
from storage.base import utcnow

from .connection import Connection
from .state import Context
from .resume import resume as resume_events

Handler = Callable[[Context, Connection, dict[str, Any]], Awaitable[Any]]


async def ping(ctx: Context, conn: Connection, p: dict[str, Any]) -> Any:
    return {"pong": True, "server_time": utcnow()}


async def auth(ctx: Context, conn: Connection, p: dict[str, Any]) -> Any:
    identity = await ctx.services.accounts.authenticate_access_token(p["token"])
    if identity.user_id != conn.user_id:
        raise BadRequest("this socket is already authenticated as another user")
    return {"user": await ctx.services.accounts.me(identity)}


async def resume(ctx: Context, conn: Connection, p: dict[str, Any]) -> Any:
    return await resume_events(ctx, conn, p["last_seq"], p.get("epoch") or None)


async def models_list(ctx: Context, conn: Connection, p: dict[str, Any]) -> Any:
    return ctx.services.generations.available_models()


def _user(fn: Callable[..., Awaitable[Any]]) -> Handler:
    """Adapt a domain method taking (user_id, **params)."""
    async def handler(ctx: Context, conn: Connection, p: dict[str, Any]) -> Any:
        return await fn(ctx)(conn.user_id, **p)
    return handler


def _writes(fn: Callable[..., Awaitable[Any]]) -> Handler:
    """`_user`, counted against the user's writes a minute first (RATE_WRITE_PER_MINUTE)."""
    async def handler(ctx: Context, conn: Connection, p: dict[str, Any]) -> Any:
        await ctx.services.limits.write(conn.user_id)
        return await fn(ctx)(conn.user_id, **p)
    return handler


def _identity(fn: Callable[..., Awaitable[Any]], *, writes: bool = False) -> Handler:
    """Adapt a domain method taking (identity, **params): the session matters (its own stays,
    others end), not just the user."""
    async def handler(ctx: Context, conn: Connection, p: dict[str, Any]) -> Any:
        if writes:
            await ctx.services.limits.write(conn.user_id)
        return await fn(ctx)(conn.identity, **p)
    return handler


def _verified(fn: Callable[..., Awaitable[Any]]) -> Handler:
    """`_user`, refused with `email_unverified` while REQUIRE_EMAIL_VERIFICATION is on and the
    account has not followed its mailed link: what costs (a reply) waits for a proven address."""
    async def handler(ctx: Context, conn: Connection, p: dict[str, Any]) -> Any:
        await ctx.services.mail_links.require_verified(conn.user_id)
        return await fn(ctx)(conn.user_id, **p)
    return handler


async def profile_analyze(ctx: Context, conn: Connection, p: dict[str, Any]) -> Any:
    await ctx.services.limits.analysis(conn.user_id)
    if p.get("apply"):
        await ctx.services.limits.write(conn.user_id)
    return await ctx.services.profiles.analyze(conn.user_id, **p)


async def account_delete(ctx: Context, conn: Connection, p: dict[str, Any]) -> Any:
    """Delete the account; this session's sockets (this one too) close once the answer is
    queued: the close is sent from a task that runs after this request's reply is."""
    await ctx.services.limits.write(conn.user_id)
    deletion = ctx.services.account_deletion
    answer = await deletion.delete(conn.identity, **p)
    ctx.spawn(deletion.close_caller(conn.identity))
    return answer


HANDLERS: dict[str, Handler] = {
    "auth": auth,
    "ping": ping,
    "resume": resume,
    "chat.list": _user(lambda ctx: ctx.services.chats.list),
    "chat.get": _user(lambda ctx: ctx.services.messages.chat_with_branch),
    "chat.create": _writes(lambda ctx: ctx.services.chats.create),
    "chat.update": _writes(lambda ctx: ctx.services.chats.update),
    "chat.delete": _writes(lambda ctx: ctx.services.chats.delete),
    "chat.restore": _writes(lambda ctx: ctx.services.chats.restore),
    "chat.purge": _writes(lambda ctx: ctx.services.chats.purge),
    "message.list": _user(lambda ctx: ctx.services.messages.list),
    "message.send": _verified(lambda ctx: ctx.services.generations.send),
    "message.stop": _user(lambda ctx: ctx.services.generations.stop),
    "message.regenerate": _verified(lambda ctx: ctx.services.generations.regenerate),
    "message.edit": _verified(lambda ctx: ctx.services.generations.edit),
    "message.switch": _writes(lambda ctx: ctx.services.messages.switch),
    "models.list": models_list,
    "balance.get": _user(lambda ctx: ctx.services.ledger.account),
    "transactions.list": _user(lambda ctx: ctx.services.ledger.transactions),
    "profile.get": _user(lambda ctx: ctx.services.profiles.get),
    "profile.update": _writes(lambda ctx: ctx.services.profiles.update),
    "profile.analyze": profile_analyze,
    "file.list": _user(lambda ctx: ctx.services.files.list),
    "file.delete": _writes(lambda ctx: ctx.services.files.delete),
    "presence.get": _user(lambda ctx: ctx.services.presence.get),
    "account.update": _identity(lambda ctx: ctx.services.account_settings.update, writes=True),
    "account.password": _identity(lambda ctx: ctx.services.accounts.change_password, writes=True),
    "account.delete": account_delete,
    "session.list": _identity(lambda ctx: ctx.services.account_settings.sessions),
    "session.revoke": _identity(lambda ctx: ctx.services.account_settings.revoke, writes=True),
    "folder.list": _user(lambda ctx: ctx.services.folders.list),
    "folder.create": _writes(lambda ctx: ctx.services.folders.create),
    "folder.update": _writes(lambda ctx: ctx.services.folders.update),
    "folder.delete": _writes(lambda ctx: ctx.services.folders.delete),
    "chat.share": _writes(lambda ctx: ctx.services.shares.share),
    "chat.unshare": _writes(lambda ctx: ctx.services.shares.unshare),
    "share.list": _user(lambda ctx: ctx.services.shares.list),
    "share.continue": _writes(lambda ctx: ctx.services.shares.continue_),
    "apikey.create": _writes(lambda ctx: ctx.services.api_keys.create),
    "apikey.list": _user(lambda ctx: ctx.services.api_keys.list),
    "apikey.revoke": _writes(lambda ctx: ctx.services.api_keys.revoke),
    "billing.packs": _user(lambda ctx: ctx.services.billing.list_packs),
    "billing.checkout": _verified(lambda ctx: ctx.services.billing.checkout),
    "billing.orders": _user(lambda ctx: ctx.services.billing.orders),
}
