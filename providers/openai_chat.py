"""OpenAI chat completions, and every endpoint that speaks them (Ollama, vLLM, OpenRouter, YandexGPT).

The `openai` SDK client holds the settings (base URL, key, default headers, retries); the reply's
streaming request is built from them once and sent with aiohttp (`providers/prepared.py`): the
SDK's per-request building and sending cost about twice aiohttp's (docs/BENCHMARKS.md). The
retries and the errors are the SDK's: before the first byte only, the same statuses and back-off,
the same typed errors. We read the raw event stream ourselves and decode each `data:` line with
orjson: the SDK's per-chunk objects cost ~170 µs a token.
"""
from __future__ import annotations

import asyncio
from typing import Any, AsyncIterator

import aiohttp
import httpx2
import openai
import orjson

from .base import (ChatMessage, GenerationRequest, Provider, StreamEnd, StreamItem, Usage, error_for_status,
                   malformed, unreachable)
from .prepared import PreparedStream, RetryPolicy, json_message
from .sse import EventReader
from .sse import loads as read_json


def _content(message: ChatMessage) -> str | list[dict[str, Any]]:
    """Plain text, or text and images as content parts (images as base64 data URLs)."""
    if not message.images:
        return message.text
    return [{"type": "text", "text": message.text}] + [
        {"type": "image_url", "image_url": {"url": f"data:{i.mime};base64,{i.base64()}"}}
        for i in message.images]


class OpenAIChatProvider(Provider):
    def __init__(self, name: str, api_key: str, base_url: str | None = None, *,
                 connect_timeout: float = 10.0, idle_timeout: float = 60.0, max_retries: int = 2,
                 model_prefix: str = "", headers: dict[str, str] | None = None) -> None:
        self.name = name
        self.model_prefix = model_prefix
        # The SDK client: the settings, and any call but the reply's stream.
        self.client = openai.AsyncOpenAI(
            api_key=api_key, base_url=base_url, max_retries=max_retries,
            timeout=httpx2.Timeout(idle_timeout, connect=connect_timeout),
            default_headers=headers,
            # The SDK's own aiohttp transport: its h11/anyio default costs several times more CPU
            # per streamed chunk (bench/relay.py).
            http_client=openai.DefaultAioHttpClient(),
        )
        # The reply's stream: built once from the client. It carries no read timeout: the caller
        # bounds silence (the runner's watchdog, one assignment per token) where the HTTP client
        # would re-arm a timer per chunk.
        self.prepared = PreparedStream(name, self.client, "chat/completions",
                                       connect_timeout=connect_timeout,
                                       policy=RetryPolicy(self.client.max_retries),
                                       message=json_message)

    def _body(self, request: GenerationRequest) -> dict[str, Any]:
        messages: list[dict[str, Any]] = []
        if request.system:
            messages.append({"role": "system", "content": request.system})
        messages += [{"role": m.role, "content": _content(m)} for m in request.messages]
        return {"model": self.model_prefix + request.model, "messages": messages,
                "max_tokens": request.max_tokens, "stream": True,
                "stream_options": {"include_usage": True}, **request.sampling()}

    async def stream(self, request: GenerationRequest) -> AsyncIterator[StreamItem]:
        chunks = _Chunks(self.name)
        response = await self.prepared.open(orjson.dumps(self._body(request)))
        try:
            async for data in response.content.iter_any():
                for item in chunks.feed(data):
                    yield item
                if chunks.done:
                    return
            for text in chunks.rest():
                yield text
        except (aiohttp.ClientError, asyncio.TimeoutError, OSError) as exc:
            raise unreachable(self.name, f"stopped answering: {type(exc).__name__}") from None
        finally:
            response.release()
        yield chunks.finish()

    async def aclose(self) -> None:
        await self.prepared.aclose()
        await self.client.close()


class _Chunks(EventReader):
    """Chat-completion chunks: their text, then the finish reason and usage."""

    __slots__ = ("usage", "finish_reason")

    def __init__(self, provider: str) -> None:
        super().__init__(provider)
        self.usage = Usage()
        self.finish_reason: str | None = None

    def read(self, payload: bytes) -> str:
        if payload == b"[DONE]":
            self.done = True
            return ""
        try:
            chunk = read_json(payload)
        except orjson.JSONDecodeError:
            raise malformed(self.provider, "a data line is not JSON") from None
        if not isinstance(chunk, dict):
            raise malformed(self.provider, "a chunk is not an object")
        if "error" in chunk:
            raise error_for_status(self.provider, 500, str(chunk["error"])[:200])
        text = ""
        for choice in chunk.get("choices") or ():
            text += (choice.get("delta") or {}).get("content") or ""
            if choice.get("finish_reason"):
                self.finish_reason = choice["finish_reason"]
        if chunk.get("usage"):
            self.usage = _usage(chunk["usage"])
        return text

    def end(self) -> StreamEnd:
        return StreamEnd(self.usage, self.finish_reason or "stop")

    def finish(self) -> StreamEnd:
        if not self.done and self.finish_reason is None:
            raise unreachable(self.provider, "ended the stream before finishing the reply")
        return self.end()  # some compatible servers omit [DONE]


def _usage(u: dict[str, Any]) -> Usage:
    """Chat-completions usage: cached reads are inside `prompt_tokens`, reasoning inside
    `completion_tokens` (each counted once, the cached part priced apart)."""
    prompt_details = u.get("prompt_tokens_details") or {}
    completion_details = u.get("completion_tokens_details") or {}
    return Usage(int(u.get("prompt_tokens") or 0), int(u.get("completion_tokens") or 0),
                 cached_tokens=int(prompt_details.get("cached_tokens") or 0),
                 reasoning_tokens=int(completion_details.get("reasoning_tokens") or 0))

