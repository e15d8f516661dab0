"""Local HTTP servers that speak OpenAI's, Anthropic's and Gemini's streaming wire formats.

The real SDKs talk to these over loopback. Each server follows a `Script` (tokens, pace, usage)
and can fail on cue: an HTTP status, a hang before the first token, a dropped connection
mid-stream, a malformed line. Every request is recorded so tests can see what the model was sent.
"""
from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

import orjson
from aiohttp import web


@dataclass
class Script:
    tokens: list[str] = field(default_factory=lambda: ["Hello", ",", " world", "!"])
    delay: float = 0.0  # between tokens
    first_delay: float = 0.0  # before the first token
    status: int = 200  # anything else: an error response of the vendor's shape
    fail_times: int = 10**9  # how many requests `status` applies to, then success
    drop_after: int | None = None  # close the connection after this many tokens
    malformed_after: int | None = None  # send a broken line after this many tokens
    pause_after: int | None = None  # after this many tokens, go silent for `pause_s` once
    pause_s: float = 0.0
    prompt_tokens: int = 11  # the whole prompt, its cached parts included
    cached_tokens: int = 0  # of the prompt: read from the cache
    cache_write_tokens: int = 0  # of the prompt: written to the cache (Anthropic)
    reasoning_tokens: int = 0  # thinking, billed as output (OpenAI reasoning, Gemini thoughts)
    report_usage: bool = True
    gzip: bool = False  # send the event stream gzip-encoded (Content-Encoding: gzip)
    # Placeholder -> the JSON text put in its place (OpenAI): what orjson will not write, such as
    # an escaped lone surrogate ("\\ud800") that a real vendor's JSON can still carry.
    raw: dict[str, bytes] = field(default_factory=dict)


class FakeVendor:
    def __init__(self) -> None:
        self.script = Script()
        # (marker, script): a request whose body mentions `marker` follows that script instead
        # (a chat's title call beside its reply, say).
        self.scripts_for: list[tuple[str, Script]] = []
        self.requests: list[dict[str, Any]] = []
        self.failures = 0
        self.app = web.Application()
        self.app.router.add_post("/v1/chat/completions", self.openai)
        self.app.router.add_post("/v1/messages", self.anthropic)
        self.app.router.add_post("/{version}/models/{model}:streamGenerateContent", self.gemini)

    async def _record(self, request: web.Request) -> dict[str, Any]:
        body = orjson.loads(await request.read())
        self.requests.append({"path": request.path, "headers": dict(request.headers), "body": body})
        return body

    def pick(self, body: dict[str, Any]) -> Script:
        text = orjson.dumps(body).decode()
        return next((script for marker, script in self.scripts_for if marker in text), self.script)

    def _should_fail(self, script: Script) -> bool:
        if script.status != 200 and self.failures < script.fail_times:
            self.failures += 1
            return True
        return False

    # -- OpenAI chat completions -----------------------------------------------------------

    async def openai(self, request: web.Request) -> web.StreamResponse:
        body = await self._record(request)
        script = self.pick(body)
        if self._should_fail(script):
            return web.json_response({"error": {"message": "scripted failure", "type": "x",
                                                "code": None}}, status=script.status,
                                     headers={"retry-after": "3"})
        base = {"id": "chatcmpl-1", "object": "chat.completion.chunk", "created": 1,
                "model": body["model"]}

        def chunk(**fields: Any) -> bytes:
            data = orjson.dumps({**base, **fields})
            for placeholder, text in script.raw.items():
                data = data.replace(placeholder.encode(), text)
            return b"data: " + data + b"\n\n"

        async def events():
            yield chunk(choices=[{"index": 0, "delta": {"role": "assistant", "content": ""},
                                  "finish_reason": None}])
            for text in script.tokens:
                yield None
                yield chunk(choices=[{"index": 0, "delta": {"content": text},
                                      "finish_reason": None}])
            yield chunk(choices=[{"index": 0, "delta": {}, "finish_reason": "stop"}])
            if script.report_usage:
                s = script
                yield chunk(choices=[], usage={
                    "prompt_tokens": s.prompt_tokens,
                    "completion_tokens": len(s.tokens) + s.reasoning_tokens, "total_tokens": 0,
                    "prompt_tokens_details": {"cached_tokens": s.cached_tokens, "audio_tokens": 0},
                    "completion_tokens_details": {"reasoning_tokens": s.reasoning_tokens,
                                                  "audio_tokens": 0}})
            yield b"data: [DONE]\n\n"

        return await self._serve(request, events(), script)

    # -- Anthropic messages ------------------------------------------------------------------

    async def anthropic(self, request: web.Request) -> web.StreamResponse:
        script = self.pick(await self._record(request))
        if self._should_fail(script):
            kind = {429: "rate_limit_error", 529: "overloaded_error", 401: "authentication_error"}
            return web.json_response({"type": "error", "error": {
                "type": kind.get(script.status, "api_error"), "message": "scripted failure"}},
                status=script.status)

        def event(name: str, data: dict) -> bytes:
            return f"event: {name}\n".encode() + b"data: " + orjson.dumps({"type": name, **data}) + b"\n\n"

        s = script

        async def events():
            yield event("message_start", {"message": {
                "id": "msg_1", "type": "message", "role": "assistant", "content": [],
                "model": "claude", "stop_reason": None, "stop_sequence": None,
                "usage": {"input_tokens": s.prompt_tokens - s.cached_tokens - s.cache_write_tokens,
                          "cache_creation_input_tokens": s.cache_write_tokens,
                          "cache_read_input_tokens": s.cached_tokens, "output_tokens": 1}}})
            yield event("content_block_start", {"index": 0,
                                                "content_block": {"type": "text", "text": ""}})
            yield event("ping", {})
            for text in script.tokens:
                yield None
                yield event("content_block_delta", {"index": 0,
                                                    "delta": {"type": "text_delta", "text": text}})
            yield event("content_block_stop", {"index": 0})
            yield event("message_delta", {"delta": {"stop_reason": "end_turn", "stop_sequence": None},
                                          "usage": {"output_tokens": len(script.tokens)}})
            yield event("message_stop", {})

        return await self._serve(request, events(), script)

    # -- Gemini streamGenerateContent --------------------------------------------------------

    async def gemini(self, request: web.Request) -> web.StreamResponse:
        script = self.pick(await self._record(request))
        if self._should_fail(script):
            return web.json_response({"error": {"code": script.status,
                                                "message": "scripted failure",
                                                "status": "UNAVAILABLE"}}, status=script.status)
        tokens = script.tokens

        def chunk(text: str, last: bool) -> bytes:
            candidate: dict[str, Any] = {"content": {"parts": [{"text": text}], "role": "model"},
                                         "index": 0}
            if last:
                candidate["finishReason"] = "STOP"
            data: dict[str, Any] = {"candidates": [candidate], "modelVersion": "gemini"}
            if script.report_usage:
                s = script
                data["usageMetadata"] = {"promptTokenCount": s.prompt_tokens,
                                         "candidatesTokenCount": len(tokens),
                                         "totalTokenCount": s.prompt_tokens + len(tokens)}
                if s.cached_tokens:
                    data["usageMetadata"]["cachedContentTokenCount"] = s.cached_tokens
                if s.reasoning_tokens:
                    data["usageMetadata"]["thoughtsTokenCount"] = s.reasoning_tokens
            return b"data: " + orjson.dumps(data) + b"\r\n\r\n"

        async def events():
            for i, text in enumerate(tokens):
                yield None
                yield chunk(text, i == len(tokens) - 1)

        return await self._serve(request, events(), script)

    # -- shared streaming loop ---------------------------------------------------------------

    async def _serve(self, request: web.Request, frames: Any, s: Script) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream",
                                               "Cache-Control": "no-cache"})
        if s.gzip:
            response.enable_compression(web.ContentCoding.gzip)
        await response.prepare(request)
        sent = 0
        first = True
        async for frame in frames:
            if frame is None:  # before each token: pace (time passing, scripted), and fail on cue
                await asyncio.sleep(s.first_delay if first else s.delay)
                first = False
                if s.pause_after is not None and sent == s.pause_after:
                    await asyncio.sleep(s.pause_s)
                if s.drop_after is not None and sent >= s.drop_after:
                    request.transport.close()
                    return response
                if s.malformed_after is not None and sent >= s.malformed_after:
                    await response.write(b"data: {this is not json\n\n")
                    await response.write_eof()
                    return response
                sent += 1
                continue
            await response.write(frame)
        await response.write_eof()
        return response
