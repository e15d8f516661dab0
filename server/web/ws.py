"""`GET /ws`: authenticate, then read request frames one at a time and answer each with a reply.

Authentication, in order: `Authorization: Bearer` on the handshake; the session cookie (only from
an allowed Origin, against cross-site WebSocket hijacking); else a first frame `{"type":"auth"}`
within a few seconds. Anything else gets an `unauthorized` error and close code 4401.
Requests are handled in arrival order, so a person typing into wscat sees cause before effect.

A reconnecting client resumes with `/ws?last_seq=N&epoch=E` (or a `resume` request as its first frame):
the events it missed come first, then the live ones, each once.
"""
from __future__ import annotations

import asyncio
import logging

from aiohttp import WSMsgType, web
from aiohttp_session import SESSION_KEY

from protocol import ChatwireError, encode, parse_request, reply_error, reply_ok
from protocol.errors import BadRequest, InternalError, RateLimited, Unauthorized, Unavailable
from server import metrics
from server.domain.accounts import Identity
from server.domain.events import CLOSE_LOGGED_OUT
from storage.base import utcnow

from .connection import Connection
from .state import CONTEXT, Context
from .handlers import HANDLERS
from .identity import bearer_token, cookie_identity
from .middlewares import error_response
from .resume import resume

log = logging.getLogger("chatwire.ws")
CLOSE_TOO_MANY_SOCKETS = 4429  # the user has MAX_SOCKETS_PER_USER open on this instance


async def websocket(request: web.Request) -> web.StreamResponse:
    ctx = request.app[CONTEXT]
    settings = ctx.settings
    try:  # this route runs without the error middleware (see middlewares.passing_sockets)
        if ctx.draining:
            raise Unavailable("this server is shutting down; connect again (to another instance)")
        resume_from = _last_seq_param(request)
    except ChatwireError as exc:
        return error_response(exc)
    identity, user, failure = await _handshake_identity(request)
    # Made after the awaits above, not before: on CPython 3.11, responses that wait half-built
    # while others are prepared fall off the class's shared attribute keys, and every socket
    # from then on carries a full dict of its own (~0.8 KB).
    ws = web.WebSocketResponse(
        heartbeat=settings.ws_heartbeat_s or None,
        max_msg_size=settings.ws_max_frame_bytes,
        compress=settings.ws_compress,
    )
    await ws.prepare(request)
    if identity is None and failure is None:
        identity, user, failure = await _first_frame_identity(ctx, ws)
    if identity is None:
        await _refuse(ws, failure or Unauthorized("authentication required"))
        return ws

    conn = Connection(ws, identity, settings.ws_send_queue, request.headers.get("User-Agent", ""),
                      transport=request.transport)
    if not ctx.admit(conn, settings.max_sockets_per_user):
        limit = settings.max_sockets_per_user
        await _refuse(ws, RateLimited(f"at most {limit} open sockets per user; close one first",
                                      retry_after=5, limit="sockets"), CLOSE_TOO_MANY_SOCKETS)
        return ws
    try:
        if user is None:  # a cookie's session: its identity came without the user
            user = await ctx.services.accounts.me(identity)
        # Announced to the user's other sockets; this one's events start after it, so an idle
        # socket is sent nothing and keeps no writer task.
        await ctx.services.presence.connected(conn.user_id, conn.device(settings.instance_id))
        await ctx.services.broker.events.subscribe(conn)  # before reading the seq: no event falls between the two
        last_seq = await ctx.services.broker.events.current_seq(identity.user_id)
        conn.start_live(last_seq, settings.ws_resume_grace_s)
        await ws.send_frame(encode({"type": "hello", "connection_id": conn.id, "user": user,
                                    "last_seq": last_seq, "epoch": ctx.services.broker.events.epoch,
                                    "server_time": utcnow(),
                                    "max_frame_bytes": settings.ws_max_frame_bytes}),
                            WSMsgType.TEXT)
        del user  # this frame lives as long as the socket: keep nothing it does not need
        if resume_from is not None:
            await resume(ctx, conn, resume_from, request.query.get("epoch") or None)
        async for msg in ws:  # inline, not a helper: one coroutine frame less per idle socket
            if msg.type == WSMsgType.TEXT:
                conn.send(await _answer(ctx, conn, msg.data))
            elif msg.type == WSMsgType.BINARY:
                conn.send(reply_error(None, BadRequest("binary frames are not supported; send JSON text")))
            elif msg.type == WSMsgType.ERROR:
                log.info("socket %s closed with an error: %s", conn.id, ws.exception(),
                         extra={"connection_id": conn.id, "user_id": conn.user_id})
                break
    finally:
        await ctx.services.broker.events.unsubscribe(conn)
        ctx.discharge(conn)
        await ctx.services.presence.disconnected(conn.user_id, conn.id)
        await conn.finish()
        if not ws.closed:
            await ws.close()
    return ws


def _last_seq_param(request: web.Request) -> int | None:
    if "last_seq" not in request.rel_url.raw_query_string:  # most sockets: no query parsed or kept
        return None
    raw = request.query.get("last_seq")
    if raw is None:
        return None
    if not (raw.isascii() and raw.isdigit()) or len(raw) > 16:  # "²".isdigit() is True
        raise BadRequest("last_seq must be a non-negative integer", field="last_seq")
    return int(raw)


Who = tuple[Identity | None, dict | None, ChatwireError | None]  # identity, user if read, refusal


async def _handshake_identity(request: web.Request) -> Who:
    try:
        token = bearer_token(request)
        if token is not None:
            return *await request.app[CONTEXT].services.accounts.token_user(token), None
    except ChatwireError as exc:
        return None, None, exc
    identity = await cookie_identity(request, require_origin=True)
    # The loaded session would live as long as the socket, and nothing here writes it back.
    request.pop(SESSION_KEY, None)
    return identity, None, None


async def _first_frame_identity(ctx: Context, ws: web.WebSocketResponse) -> Who:
    try:
        msg = await ws.receive(timeout=ctx.settings.ws_auth_timeout_s)
    except asyncio.TimeoutError:
        return None, None, Unauthorized(
            "authenticate within a few seconds: send {\"type\":\"auth\",\"token\":\"…\"}")
    if msg.type != WSMsgType.TEXT:
        return None, None, Unauthorized("authentication required")
    try:
        req = parse_request(msg.data)
        if req.type != "auth":
            raise Unauthorized("authenticate first: send {\"type\":\"auth\",\"token\":\"…\"}")
        identity, user = await ctx.services.accounts.token_user(req.params["token"])
    except ChatwireError as exc:
        if exc.code != "unauthorized":
            exc = Unauthorized(f"authenticate first: {exc.message}")
        return None, None, exc
    await ws.send_frame(encode(reply_ok(req.id, {"user": user})), WSMsgType.TEXT)
    return identity, user, None


async def _refuse(ws: web.WebSocketResponse, error: ChatwireError,
                  code: int = CLOSE_LOGGED_OUT) -> None:
    if not ws.closed:
        await ws.send_frame(encode({"type": "error", "error": error.as_dict()}), WSMsgType.TEXT)
        await ws.close(code=code, message=error.code.encode())


async def _answer(ctx: Context, conn: Connection, data: str) -> dict:
    rid = None
    try:
        req = parse_request(data)
        rid = req.id
        if req.type != "resume":
            conn.release()  # the client did not ask for history: live events flow now
        return reply_ok(rid, await HANDLERS[req.type](ctx, conn, req.params))
    except ChatwireError as exc:
        metrics.ERRORS.labels(exc.code, "ws").inc()
        return reply_error(rid if rid is not None else exc.request_id, exc)
    except Exception:
        log.exception("request failed on socket %s", conn.id,
                      extra={"connection_id": conn.id, "user_id": conn.user_id})
        metrics.ERRORS.labels("internal", "ws").inc()
        return reply_error(rid, InternalError("internal error"))
