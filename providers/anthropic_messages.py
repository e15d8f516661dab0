"""Anthropic's Messages API: the `anthropic` SDK's client settings, the event stream decoded by us.

The reply's streaming request is built once from the SDK client (its URL, key and default headers,
`anthropic-version` among them) and sent with aiohttp, retried as the SDK retries
(`providers/prepared.py`); the SDK client stays for anything else.

Events: message_start (input tokens), content_block_delta (text_delta), message_delta (stop reason,
output tokens), message_stop; `ping` and block start/stop carry nothing we need. Anthropic's
`input_tokens` leaves out the prompt's cached part: cache reads and cache writes come as their own
counts, and the prompt is the three together.
"""
from __future__ import annotations

import asyncio
from typing import Any, AsyncIterator

import aiohttp
import anthropic
import httpx2
import orjson

from .base import (ChatMessage, GenerationRequest, Provider, StreamEnd, StreamItem, Usage, error_for_status,
                   malformed, unreachable)
from .prepared import PreparedStream, RetryPolicy
from .sse import EventReader
from .sse import loads as read_json

OVERLOADED = {"overloaded_error": 529, "api_error": 500, "rate_limit_error": 429,
              "authentication_error": 401, "permission_error": 403, "invalid_request_error": 400}


def _content(message: ChatMessage) -> str | list[dict[str, Any]]:
    """Plain text, or image blocks (base64 source) followed by the text, as Anthropic advises."""
    if not message.images:
        return message.text
    return [{"type": "image", "source": {"type": "base64", "media_type": i.mime,
                                         "data": i.base64()}} for i in message.images] + [
        {"type": "text", "text": message.text}]


class AnthropicProvider(Provider):
    name = "anthropic"

    def __init__(self, api_key: str, base_url: str | None = None, *, connect_timeout: float = 10.0,
                 idle_timeout: float = 60.0, max_retries: int = 2) -> None:
        self.client = anthropic.AsyncAnthropic(
            api_key=api_key, base_url=base_url, max_retries=max_retries,
            timeout=httpx2.Timeout(idle_timeout, connect=connect_timeout),
            http_client=anthropic.DefaultAioHttpClient(),  # cheaper per chunk than h11/anyio
        )
        # As for OpenAI: the caller bounds a stream's silence, not a timer re-armed per chunk.
        # `x-stainless-timeout` is the stream's read timeout as the SDK sent it (none: "None").
        self.prepared = PreparedStream(
            self.name, self.client, "v1/messages", connect_timeout=connect_timeout,
            policy=RetryPolicy(self.client.max_retries, max_retry_after=None),
            extra_headers={"x-stainless-timeout": "None"})

    def _body(self, request: GenerationRequest) -> dict[str, Any]:
        body: dict[str, Any] = {
            "model": request.model, "max_tokens": request.max_tokens, "stream": True,
            "messages": [{"role": m.role, "content": _content(m)} for m in request.messages]}
        if request.system:
            body["system"] = request.system
        sampling = request.sampling()
        if "stop" in sampling:
            body["stop_sequences"] = sampling.pop("stop")
        body.update(sampling)
        return body

    async def stream(self, request: GenerationRequest) -> AsyncIterator[StreamItem]:
        events = _Events(self.name)
        response = await self.prepared.open(orjson.dumps(self._body(request)))
        try:
            async for data in response.content.iter_any():
                for item in events.feed(data):
                    yield item
                if events.done:
                    return
            for text in events.rest():
                yield text
        except (aiohttp.ClientError, asyncio.TimeoutError, OSError) as exc:
            raise unreachable(self.name, f"stopped answering: {type(exc).__name__}") from None
        finally:
            response.release()
        yield events.finish()

    async def aclose(self) -> None:
        await self.prepared.aclose()
        await self.client.close()


class _Events(EventReader):
    """Messages API events: text deltas, then usage and the stop reason."""

    __slots__ = ("counts", "stop_reason")

    def __init__(self, provider: str) -> None:
        super().__init__(provider)
        self.counts: dict[str, int] = {}
        self.stop_reason = "stop"

    def _count(self, usage: dict[str, Any]) -> None:
        """Counts as they come: message_start has them all, message_delta the final ones
        (output always, the others on newer API versions)."""
        for key in ("input_tokens", "output_tokens", "cache_creation_input_tokens",
                    "cache_read_input_tokens"):
            if usage.get(key) is not None:
                self.counts[key] = int(usage[key])

    def usage(self) -> Usage:
        c = self.counts
        read, written = c.get("cache_read_input_tokens", 0), c.get("cache_creation_input_tokens", 0)
        return Usage(c.get("input_tokens", 0) + read + written, c.get("output_tokens", 0),
                     cached_tokens=read, cache_write_tokens=written)

    def read(self, payload: bytes) -> str | Usage:
        try:
            event = read_json(payload)
            kind = event["type"]
        except (orjson.JSONDecodeError, KeyError, TypeError):
            raise malformed(self.provider, "an event is not JSON with a type") from None
        if kind == "content_block_delta":
            delta = event.get("delta") or {}
            if delta.get("type") == "text_delta":
                return delta.get("text") or ""
        elif kind == "message_start":
            self._count((event.get("message") or {}).get("usage") or {})
            return self.usage()  # the prompt's real count, before any text
        elif kind == "message_delta":
            self.stop_reason = (event.get("delta") or {}).get("stop_reason") or self.stop_reason
            self._count(event.get("usage") or {})
        elif kind == "message_stop":
            self.done = True
        elif kind == "error":
            error = event.get("error") or {}
            raise error_for_status(self.provider, OVERLOADED.get(error.get("type"), 500),
                                   str(error.get("message", ""))[:200])
        return ""

    def end(self) -> StreamEnd:
        return StreamEnd(self.usage(), self.stop_reason)

    def finish(self) -> StreamEnd:
        if not self.done:
            raise unreachable(self.provider, "ended the stream before message_stop")
        return self.end()
