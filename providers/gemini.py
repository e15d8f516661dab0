"""Google Gemini: google-genai's client settings, the streaming request prepared once, its event
stream read by us.

The reply's `streamGenerateContent` request is built from the google-genai client once (its base
URL and API version, the `x-goog-api-key`, `user-agent` and `x-goog-api-client` headers) and
sent with aiohttp (`providers/prepared.py`): google-genai builds a request through pydantic
models and converters and decodes every chunk into them, ~260 µs a chunk. The body is what
google-genai sends for the same call (tests/providers/test_prepared_gemini.py compares them):
camelCase fields, but an image's `inline_data` as its Blob model dumps it (`mime_type`, the
data in URL-safe base64), which Google's JSON parser takes as it takes the camelCase names.
The retries are google-genai's as we configure them (`HttpRetryOptions`, run by tenacity):
before the first byte only, the same statuses, connection errors and back-off. The client
stays for anything else.

The stream as google-genai reads it: `data: {chunk}` lines, and any other line as raw JSON
(how an error may come), complete when its braces balance; no end marker, `finishReason` on
the last chunk, `usageMetadata` (the counts so far) on every chunk.
"""
from __future__ import annotations

import asyncio
import base64
import random
from dataclasses import dataclass
from typing import Any, AsyncIterator, Mapping

import aiohttp
import httpx2
import orjson
from google import genai
from google.genai import types

from .base import (GenerationRequest, Provider, StreamEnd, StreamItem, Usage, error_for_status,
                   malformed, unreachable)
from .prepared import PreparedStream, RetryPolicy
from .sse import DataLines, EventReader, _payload
from .sse import loads as read_json

FINISH = {"STOP": "stop", "MAX_TOKENS": "length", "SAFETY": "content_filter"}

# What the OpenAI and Anthropic SDKs retry, with their back-off (0.5 s doubling, at most 8 s).
RETRIED = [408, 409, 429, 500, 502, 503, 504, 529]


def retry_options(max_retries: int) -> types.HttpRetryOptions:
    """Before the first byte only: a stream cut midway is an error, never a silent retry."""
    return types.HttpRetryOptions(attempts=1 + max_retries, initial_delay=0.5, max_delay=8.0,
                                  exp_base=2, jitter=0.25, http_status_codes=RETRIED)


@dataclass(frozen=True)
class GeminiRetry(RetryPolicy):
    """google-genai's retries (`_api_client.retry_args`, tests check ours against it): a status
    in `http_status_codes`, a connection error or a timeout (httpx's ConnectError and
    TimeoutException: not a connection the server closed, not a stream cut) is tried again after
    `initial * exp_base ** n + uniform(0, jitter)` s, at most `max_delay`; a `retry-after` is not
    looked at. Only a 200 is streamed from: google-genai raises on any other status."""

    codes: frozenset[int] = frozenset()
    initial: float = 1.0
    max_delay: float = 60.0
    exp_base: float = 2.0
    jitter: float = 1.0

    @classmethod
    def of(cls, options: types.HttpRetryOptions) -> GeminiRetry:
        def given(value: float | None, default: float) -> float:
            return default if value is None else float(value)

        return cls(max(0, (options.attempts or 5) - 1), None,
                   frozenset(options.http_status_codes or (408, 429, 500, 502, 503, 504)),
                   given(options.initial_delay, 1.0), given(options.max_delay, 60.0),
                   given(options.exp_base, 2.0), given(options.jitter, 1.0))

    def should_retry(self, status: int, headers: Mapping[str, str]) -> bool:
        return status in self.codes

    def delay(self, retries_taken: int, headers: Mapping[str, str] | None = None) -> float:
        jitter = random.uniform(0, self.jitter)
        try:
            wait = self.initial * self.exp_base ** retries_taken + jitter
        except OverflowError:
            wait = self.max_delay
        return max(0.0, min(wait, self.max_delay))

    def accepts(self, status: int) -> bool:
        return status == 200

    def retries_error(self, exc: BaseException) -> bool:
        return isinstance(exc, (aiohttp.ClientConnectorError, asyncio.TimeoutError))


def error_message(body: Any) -> str:
    """An error's message as google-genai's APIError reads it (`message`, or `error.message`)."""
    if isinstance(body, list) and len(body) == 1:
        body = body[0]
    if not isinstance(body, dict):
        return ""
    error = body.get("error")
    found = body.get("message", error.get("message") if isinstance(error, dict) else None)
    return str(found or "")[:200]


class _ConnectLimit(httpx2.AsyncBaseTransport):
    """google-genai applies its one timeout to the whole request — a healthy reply was cut at
    connect + idle seconds — and sends it to Google as the request's deadline. Without one, this
    transport still bounds connecting (and writing the request) for the client's other calls."""

    def __init__(self, connect_timeout: float) -> None:
        self._inner = httpx2.AsyncHTTPTransport()
        self._limits = {"connect": connect_timeout, "read": None, "write": connect_timeout,
                        "pool": connect_timeout}

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        request.extensions = {**request.extensions, "timeout": self._limits}
        return await self._inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self._inner.aclose()


def _settings(client: genai.Client) -> dict[str, Any]:
    """The client's resolved options: base URL, API version, headers. google-genai has no public
    accessor for them; its API client's read-only copy is what `_build_request` starts from."""
    return client._api_client.get_read_only_http_options()


def _versioned_base(client: genai.Client) -> str:
    """`{base_url}/{api_version}/`, joined as google-genai's `join_url_path` joins them."""
    options = _settings(client)
    base, version = options["base_url"].rstrip("/"), options.get("api_version")
    return f"{base}/{version}/" if version else f"{base}/"


def _client_headers(client: genai.Client) -> dict[str, str]:
    return {k: v for k, v in (_settings(client).get("headers") or {}).items()
            if isinstance(v, str)}


def _model_path(model: str) -> str:
    """google-genai's `t_model`: a bare name is under models/."""
    name = model if model.startswith(("models/", "tunedModels/")) else f"models/{model}"
    return f"{name}:streamGenerateContent?alt=sse"


class GeminiProvider(Provider):
    name = "gemini"

    def __init__(self, api_key: str, base_url: str | None = None, *, connect_timeout: float = 10.0,
                 idle_timeout: float = 60.0, max_retries: int = 2) -> None:
        self.http = httpx2.AsyncClient(transport=_ConnectLimit(connect_timeout))
        retries = retry_options(max_retries)
        options: dict[str, Any] = {"httpx_async_client": self.http, "retry_options": retries}
        if base_url:
            options["base_url"] = base_url
        self.client = genai.Client(api_key=api_key, http_options=types.HttpOptions(**options))
        # The reply's stream, as for the other providers: the caller bounds its silence.
        self.prepared = PreparedStream(self.name, self.client, "", connect_timeout=connect_timeout,
                                       policy=GeminiRetry.of(retries), message=error_message,
                                       headers=_client_headers,
                                       base_url=_versioned_base(self.client), retry_count=None)
        self._urls: dict[str, str] = {}

    def _url(self, model: str) -> str:
        url = self._urls.get(model)
        if url is None:
            url = self._urls[model] = self.prepared.url + _model_path(model)
        return url

    @staticmethod
    def _body(request: GenerationRequest) -> dict[str, Any]:
        contents = [{"parts": [*({"inlineData": {
            "data": base64.urlsafe_b64encode(i.data).decode("ascii"), "mime_type": i.mime}}
            for i in m.images), {"text": m.text}],
            "role": "model" if m.role == "assistant" else "user"} for m in request.messages]
        body: dict[str, Any] = {"contents": contents}
        if request.system:
            body["systemInstruction"] = {"parts": [{"text": request.system}], "role": "user"}
        config: dict[str, Any] = {"maxOutputTokens": request.max_tokens}
        if request.temperature is not None:
            config["temperature"] = request.temperature
        if request.top_p is not None:
            config["topP"] = request.top_p
        if request.stop:
            config["stopSequences"] = list(request.stop)
        body["generationConfig"] = config
        return body

    async def stream(self, request: GenerationRequest) -> AsyncIterator[StreamItem]:
        chunks = _Chunks(self.name)
        response = await self.prepared.open(orjson.dumps(self._body(request)),
                                            self._url(request.model))
        try:
            async for data in response.content.iter_any():
                for item in chunks.feed(data):
                    yield item
            for item in chunks.rest():
                yield item
        except (aiohttp.ClientError, asyncio.TimeoutError, OSError) as exc:
            raise unreachable(self.name, f"stopped answering: {type(exc).__name__}") from None
        finally:
            response.release()
        yield chunks.finish()

    async def aclose(self) -> None:
        await self.prepared.aclose()
        try:
            await self.client.aio.aclose()
        except AttributeError:
            pass
        await self.http.aclose()


class _Lines(DataLines):
    """`data:` payloads, and the other lines as google-genai takes them: raw JSON, one chunk
    once its braces balance outside strings (`_RawJsonLineBuffer`)."""

    __slots__ = ("raw", "depth")

    def __init__(self) -> None:
        super().__init__()
        self.raw: list[bytes] = []
        self.depth = 0

    def feed(self, chunk: bytes) -> list[bytes]:
        if self.pending:
            chunk = self.pending + chunk
        lines = chunk.split(b"\n")
        self.pending = lines.pop()
        payloads = []
        for line in lines:
            if line.startswith(b"data:"):
                payloads.append(_payload(line))
            elif line.strip():
                self._raw(line, payloads)
        return payloads

    def _raw(self, line: bytes, payloads: list[bytes]) -> None:
        in_string = escaped = False
        depth = self.depth
        for c in line.decode("utf-8", "replace"):
            if in_string:
                if escaped:
                    escaped = False
                elif c == "\\":
                    escaped = True
                elif c == '"':
                    in_string = False
            elif c == '"':
                in_string = True
            elif c == "{":
                depth += 1
            elif c == "}":
                depth -= 1
        self.raw.append(line.strip())
        self.depth = depth
        if depth == 0:
            payloads.append(b"".join(self.raw))
            self.raw = []

    def end(self) -> list[bytes]:
        last, self.pending = self.pending, b""
        payloads: list[bytes] = []
        if last.startswith(b"data:"):
            payloads.append(_payload(last))
        elif last.strip():
            self._raw(last, payloads)
        if self.raw:
            payloads.append(b"".join(self.raw))
            self.raw, self.depth = [], 0
        return payloads


class _Chunks(EventReader):
    """GenerateContentResponse chunks: each one's text, the counts so far, the finish reason."""

    __slots__ = ("usage", "finish_reason")

    def __init__(self, provider: str) -> None:
        super().__init__(provider)
        self.lines = _Lines()
        self.usage = Usage()
        self.finish_reason: str | None = None

    def feed(self, chunk: bytes) -> list[StreamItem]:
        items: list[StreamItem] = []
        for payload in self.lines.feed(chunk):
            self.take(payload, items)
        return items

    def rest(self) -> list[StreamItem]:
        items: list[StreamItem] = []
        for payload in self.lines.end():
            self.take(payload, items)
        return items

    def take(self, payload: bytes, items: list[StreamItem]) -> None:
        try:
            chunk = read_json(payload)
        except orjson.JSONDecodeError:
            raise malformed(self.provider, "a chunk is not JSON") from None
        if not isinstance(chunk, dict):
            raise malformed(self.provider, "a chunk is not an object")
        if "error" in chunk:
            error = chunk["error"]
            code = error.get("code") if isinstance(error, dict) else None
            raise error_for_status(self.provider, code if isinstance(code, int) and code else 500,
                                   error_message(chunk))
        try:
            for candidate in chunk.get("candidates") or ():
                for part in (candidate.get("content") or {}).get("parts") or ():
                    text = part.get("text")
                    if text:
                        if not isinstance(text, str):
                            raise TypeError
                        items.append(text)
                reason = candidate.get("finishReason")
                if reason:
                    name = str(reason)
                    self.finish_reason = FINISH.get(name.upper(), name.lower())
            meta = chunk.get("usageMetadata")
            if meta is not None:  # on every chunk: the counts so far
                self.usage = _usage(meta)
                items.append(self.usage)
        except (AttributeError, TypeError, ValueError):
            raise malformed(self.provider, "a chunk is not a GenerateContentResponse") from None

    def finish(self) -> StreamEnd:
        if self.finish_reason is None:
            raise unreachable(self.provider, "ended the stream before finishing the reply")
        return StreamEnd(self.usage, self.finish_reason)


def _usage(meta: dict[str, Any]) -> Usage:
    """Gemini's counts: the prompt includes its cached part; thinking is billed as output but
    counted apart from the candidates, so the completion is both."""
    def count(key: str) -> int:
        return int(meta.get(key) or 0)

    thoughts = count("thoughtsTokenCount")
    return Usage(count("promptTokenCount") + count("toolUsePromptTokenCount"),
                 count("candidatesTokenCount") + thoughts,
                 cached_tokens=count("cachedContentTokenCount"), reasoning_tokens=thoughts)
