"""The OpenAI-compatible HTTP face: `GET /v1/models`, `POST /v1/chat/completions`.

Authenticated with a personal API key (`Authorization: Bearer cwk-...`), answered in OpenAI's
shapes — errors included (`{"error": {"message", "type", "param", "code"}}` with OpenAI's
statuses), so the official SDKs raise the exceptions their users already handle: a bad key 401
(`AuthenticationError`), out of credits or past the key's cap 429 `insufficient_quota`
(`RateLimitError`, marked not worth retrying), a rate limit 429 `rate_limit_exceeded` with
Retry-After. A streamed reply's headers are sent with its first token, so a call that fails
before it (the provider refused, or is down) still gets its proper status; a failure after it
ends the stream with an error event, as OpenAI's does.
"""
from __future__ import annotations

from typing import Any

import orjson
from aiohttp import web

from protocol import errors as e
from server import errors, metrics
from server.domain.api_keys import KeyIdentity
from server.domain.completions import Call, usage_body
from server.domain.openai_api import parse

from .auth_routes import read_body
from .identity import bearer_token
from .state import CONTEXT, SETTINGS

# OpenAI's error `type` per our code; the status is ours (server/errors.py) but for credits.
TYPES = {"unauthorized": "invalid_request_error", "forbidden": "invalid_request_error",
         "not_found": "invalid_request_error", "bad_request": "invalid_request_error",
         "too_large": "invalid_request_error", "conflict": "invalid_request_error",
         "insufficient_balance": "insufficient_quota", "rate_limited": "requests",
         "account_disabled": "invalid_request_error", "spend_cap_reached": "insufficient_quota"}
CODES = {"unauthorized": "invalid_api_key", "insufficient_balance": "insufficient_quota",
         "rate_limited": "rate_limit_exceeded", "spend_cap_reached": "insufficient_quota"}
# Out of credits and over a spend cap alike: 429, so the SDKs raise their quota error.
QUOTA = (e.InsufficientBalance, e.SpendCapReached)
SSE_HEADERS = {"Content-Type": "text/event-stream; charset=utf-8", "Cache-Control": "no-cache",
               "X-Accel-Buffering": "no"}
DONE = b"data: [DONE]\n\n"


def error_body(error: e.ChatwireError) -> dict[str, Any]:
    details = error.details
    return {"error": {"message": error.message,
                      "type": TYPES.get(error.code, "api_error" if error.code != "internal"
                                        else "server_error"),
                      "param": details.get("field"),
                      "code": details.get("openai_code") or CODES.get(error.code, error.code)}}


def error_response(error: e.ChatwireError) -> web.Response:
    metrics.ERRORS.labels(error.code, "v1").inc()
    status = 429 if isinstance(error, QUOTA) else errors.http_status(error)
    response = web.json_response(error_body(error), status=status, dumps=_dumps)
    if isinstance(error, e.RateLimited):
        response.headers["Retry-After"] = str(error.retry_after)
    if isinstance(error, QUOTA):
        response.headers["x-should-retry"] = "false"  # the SDKs' cue: waiting will not help
    if isinstance(error, e.Unauthorized):
        response.headers["WWW-Authenticate"] = "Bearer"
    return response


def _dumps(value: Any) -> str:
    return orjson.dumps(value).decode()


async def _key(request: web.Request) -> KeyIdentity:
    token = bearer_token(request)
    if token is None:
        raise e.Unauthorized("no API key: send 'Authorization: Bearer <API key>' (create one "
                             "in the account settings, or with apikey.create)")
    return await request.app[CONTEXT].services.api_keys.authenticate(token)


async def models(request: web.Request) -> web.Response:
    try:
        key = await _key(request)
    except e.ChatwireError as exc:
        return error_response(exc)
    listed = request.app[CONTEXT].services.completions.usable_models(key)
    return web.json_response({"object": "list", "data": [
        {"id": m.id, "object": "model", "created": 0, "owned_by": m.provider} for m in listed]},
        dumps=_dumps)


async def model(request: web.Request) -> web.Response:
    try:
        key = await _key(request)
        wanted = request.match_info["model"]
        found = [m for m in request.app[CONTEXT].services.completions.usable_models(key)
                 if m.id == wanted]
        if not found:
            raise e.NotFound(f"the model '{wanted}' does not exist", field="model",
                             openai_code="model_not_found")
    except e.ChatwireError as exc:
        return error_response(exc)
    return web.json_response({"id": found[0].id, "object": "model", "created": 0,
                              "owned_by": found[0].provider}, dumps=_dumps)


async def chat_completions(request: web.Request) -> web.StreamResponse:
    completions = request.app[CONTEXT].services.completions
    try:
        key = await _key(request)
        raw = await read_body(request, request.app[SETTINGS].max_upload_mb * 1024 * 1024)
        try:
            body = orjson.loads(raw)
        except orjson.JSONDecodeError:
            raise e.BadRequest("the body is not valid JSON", openai_code="invalid_json") from None
        asked = parse(body)
        call = await completions.start(key, asked)
    except e.ChatwireError as exc:
        return error_response(exc)
    pieces = completions.stream(call)
    if not asked.stream:
        try:
            async for _ in pieces:
                pass
        except e.ChatwireError as exc:
            return error_response(exc)
        finally:
            await pieces.aclose()  # settled already, unless this handler was cancelled midway
        return web.json_response(completions.as_response(call), dumps=_dumps)
    try:
        first = await anext(pieces, None)
    except e.ChatwireError as exc:
        return error_response(exc)
    return await _sse(request, call, first, pieces, asked.include_usage)


async def _sse(request: web.Request, call: Call, first: str | None, pieces: Any,
               include_usage: bool) -> web.StreamResponse:
    """The reply as OpenAI's chunks; the client leaving closes `pieces` (charged for what was
    generated)."""
    response = web.StreamResponse(headers=SSE_HEADERS)
    base = {"id": f"chatcmpl-{call.id}", "object": "chat.completion.chunk",
            "created": call.created, "model": call.model.id}
    extra = {"usage": None} if include_usage else {}
    # Every delta is this prefix, the text as JSON, this suffix: one dumps per token.
    head = orjson.dumps({**base, "choices": [{"index": 0, "delta": {"content": "\x00"},
                                              "logprobs": None, "finish_reason": None}],
                         **extra})
    prefix, _, suffix = head.partition(b'"\\u0000"')
    prefix, suffix = b"data: " + prefix, suffix + b"\n\n"
    try:
        await response.prepare(request)
        opening = {**base, "choices": [{"index": 0, "delta": {"role": "assistant",
                                                              "content": first or ""},
                                        "logprobs": None, "finish_reason": None}], **extra}
        await response.write(b"data: " + orjson.dumps(opening) + b"\n\n")
        async for piece in pieces:
            await response.write(prefix + orjson.dumps(piece) + suffix)
        closing = {**base, "choices": [{"index": 0, "delta": {}, "logprobs": None,
                                        "finish_reason": call.finish_reason}], **extra}
        tail = b"data: " + orjson.dumps(closing) + b"\n\n"
        if include_usage:
            tail += b"data: " + orjson.dumps({**base, "choices": [],
                                              "usage": usage_body(call.usage)}) + b"\n\n"
        await response.write(tail + DONE)
    except e.ChatwireError as exc:  # mid-stream: OpenAI's error event, then the end
        metrics.ERRORS.labels(exc.code, "v1").inc()
        try:
            await response.write(b"data: " + orjson.dumps(error_body(exc)) + b"\n\n")
        except ConnectionError:
            pass
    except ConnectionError:  # the client went away
        pass
    finally:
        await pieces.aclose()
    return response


def add_routes(app: web.Application) -> None:
    app.router.add_get("/v1/models", models)
    app.router.add_get("/v1/models/{model}", model)
    app.router.add_post("/v1/chat/completions", chat_completions)
