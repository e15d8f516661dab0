"""Google Gemini through `google-genai` (the maintained successor of `google-generativeai`).

google-genai has no raw streaming response to read, so this provider iterates the SDK's own
chunks (~260 µs each in our measurements). That is fine at chat speeds; the relay benchmark's
CPU budget is measured on the OpenAI-compatible path.
"""
from __future__ import annotations

import asyncio
from typing import Any, AsyncIterator

import aiohttp
import httpx2
from google import genai
from google.genai import errors, types

from protocol.errors import ChatwireError

from .base import (ChatMessage, GenerationRequest, Provider, StreamEnd, StreamItem, Usage, error_for_status,
                   malformed, unreachable)

FINISH = {"STOP": "stop", "MAX_TOKENS": "length", "SAFETY": "content_filter"}


def _parts(message: ChatMessage) -> list[types.Part]:
    """Images as inline data, then the text."""
    images = [types.Part(inline_data=types.Blob(mime_type=i.mime, data=i.data)) for i in message.images]
    return [*images, types.Part(text=message.text)]


# What the OpenAI and Anthropic SDKs retry, with their back-off (0.5 s doubling, at most 8 s).
RETRIED = [408, 409, 429, 500, 502, 503, 504, 529]


class _ConnectLimit(httpx2.AsyncBaseTransport):
    """google-genai applies its one timeout to the whole request — a healthy reply was cut at
    connect + idle seconds — and sends it to Google as the request's deadline. Without one, this
    transport still bounds connecting (and writing the request); a stream's silence is bounded
    by the runner's first-token and idle limits, as for the other providers."""

    def __init__(self, connect_timeout: float) -> None:
        self._inner = httpx2.AsyncHTTPTransport()
        self._limits = {"connect": connect_timeout, "read": None, "write": connect_timeout,
                        "pool": connect_timeout}

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        request.extensions = {**request.extensions, "timeout": self._limits}
        return await self._inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self._inner.aclose()


def _usage(meta: types.GenerateContentResponseUsageMetadata) -> Usage:
    """Gemini's counts: the prompt includes its cached part; thinking is billed as output but
    counted apart from the candidates, so the completion is both."""
    thoughts = meta.thoughts_token_count or 0
    return Usage((meta.prompt_token_count or 0) + (meta.tool_use_prompt_token_count or 0),
                 (meta.candidates_token_count or 0) + thoughts,
                 cached_tokens=meta.cached_content_token_count or 0, reasoning_tokens=thoughts)


class GeminiProvider(Provider):
    name = "gemini"

    def __init__(self, api_key: str, base_url: str | None = None, *, connect_timeout: float = 10.0,
                 idle_timeout: float = 60.0, max_retries: int = 2) -> None:
        self.http = httpx2.AsyncClient(transport=_ConnectLimit(connect_timeout))
        options: dict[str, Any] = {
            "httpx_async_client": self.http,
            # Before the first byte only: a stream cut midway is an error, never a silent retry.
            "retry_options": types.HttpRetryOptions(
                attempts=1 + max_retries, initial_delay=0.5, max_delay=8.0, exp_base=2,
                jitter=0.25, http_status_codes=RETRIED)}
        if base_url:
            options["base_url"] = base_url
        self.client = genai.Client(api_key=api_key, http_options=types.HttpOptions(**options))

    async def stream(self, request: GenerationRequest) -> AsyncIterator[StreamItem]:
        contents = [types.Content(role="model" if m.role == "assistant" else "user", parts=_parts(m))
                    for m in request.messages]
        config = types.GenerateContentConfig(system_instruction=request.system or None,
                                             max_output_tokens=request.max_tokens,
                                             temperature=request.temperature,
                                             top_p=request.top_p,
                                             stop_sequences=list(request.stop) or None)
        usage, finish = Usage(), None
        try:
            chunks = await self.client.aio.models.generate_content_stream(
                model=request.model, contents=contents, config=config)
            async for chunk in chunks:
                for candidate in chunk.candidates or ():
                    for part in (candidate.content.parts if candidate.content else None) or ():
                        if part.text:
                            yield part.text
                    if candidate.finish_reason:
                        name = getattr(candidate.finish_reason, "value", str(candidate.finish_reason))
                        finish = FINISH.get(name, name.lower())
                meta = chunk.usage_metadata
                if meta is not None:  # on every chunk: the counts so far
                    usage = _usage(meta)
                    yield usage
        except ChatwireError:
            raise
        except errors.UnknownApiResponseError:
            raise malformed(self.name, "a chunk is not JSON") from None
        except errors.APIError as exc:
            raise error_for_status(self.name, int(exc.code or 500), str(exc.message or "")[:200]) from None
        except (httpx2.TransportError, aiohttp.ClientError, asyncio.TimeoutError, OSError) as exc:
            raise unreachable(self.name, f"stopped answering: {type(exc).__name__}") from None
        if finish is None:
            raise unreachable(self.name, "ended the stream before finishing the reply")
        yield StreamEnd(usage, finish)

    async def aclose(self) -> None:
        try:
            await self.client.aio.aclose()
        except AttributeError:
            pass
        await self.http.aclose()
