"""OpenAI chat completions, and every endpoint that speaks them (Ollama, vLLM, OpenRouter, YandexGPT).

The `openai` SDK builds the request, authenticates, retries failed connections and maps HTTP errors,
over its aiohttp transport. The request goes through the client's documented raw `post` (its
answer to endpoints and parameters beyond the typed methods) with a plain JSON body: the typed
`create` walks every parameter's type annotation per request, about a third of the SDK's CPU per
reply (bench/relay.py). We read the raw event stream ourselves and decode each `data:` line with
orjson: the SDK's per-chunk objects cost ~170 µs a token.
"""
from __future__ import annotations

from contextlib import aclosing
from typing import Any, AsyncIterator

import aiohttp
import httpx2
import openai
import orjson

from protocol.errors import ChatwireError

from .base import (ChatMessage, GenerationRequest, Provider, StreamEnd, StreamItem, Usage, error_for_status,
                   malformed, unreachable)
from .sse import EventReader, body
from .sse import loads as read_json


def _retry_after(exc: openai.APIStatusError) -> int | None:
    value = exc.response.headers.get("retry-after")
    try:
        return max(1, int(float(value))) if value else None
    except ValueError:
        return None


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
        # Streams carry no read timeout of their own: the caller bounds silence (the runner's
        # watchdog, one assignment per token) where the HTTP client would re-arm a timer per chunk.
        self.stream_timeout = httpx2.Timeout(None, connect=connect_timeout, pool=connect_timeout)
        self.client = openai.AsyncOpenAI(
            api_key=api_key, base_url=base_url, max_retries=max_retries,
            timeout=httpx2.Timeout(idle_timeout, connect=connect_timeout),
            default_headers=headers,
            # The SDK's own aiohttp transport: its h11/anyio default costs several times more CPU
            # per streamed chunk (bench/relay.py).
            http_client=openai.DefaultAioHttpClient(),
        )

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
        try:
            response = await self.client.post(
                "/chat/completions", body=self._body(request), cast_to=httpx2.Response,
                stream=True, options={"timeout": self.stream_timeout})
            async with aclosing(response):
                async for data in body(response):
                    for item in chunks.feed(data):
                        yield item
                    if chunks.done:
                        return
                for text in chunks.rest():
                    yield text
        except ChatwireError:
            raise
        except openai.APIStatusError as exc:
            raise error_for_status(self.name, exc.status_code, _message(exc),
                                   _retry_after(exc)) from None
        except (openai.APIConnectionError, httpx2.TransportError, aiohttp.ClientError) as exc:
            raise unreachable(self.name, f"stopped answering: {type(exc).__name__}") from None
        yield chunks.finish()

    async def aclose(self) -> None:
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


def _message(exc: openai.APIStatusError) -> str:
    body = exc.body if isinstance(exc.body, dict) else {}
    error = body.get("error", body)
    return str(error.get("message", "") if isinstance(error, dict) else error)[:200]
