"""The hot streaming call, prepared once per provider from its SDK client and sent with aiohttp.

An SDK builds and sends a streamed request for ~1.8 ms of CPU where aiohttp sends the same one for
~0.8 ms (docs/BENCHMARKS.md, item 17): per request it copies its options, merges headers, walks
the body, builds an httpx request and hands it to its aiohttp transport. Only the reply's
streaming call comes here; the SDK client stays the source of its settings and does everything
else. What we take from the client, once:

- the URL: the client's `base_url` (its path ends with "/") joined to the endpoint's path;
- the headers: the client's public `auth_headers` and `default_headers` — the key, User-Agent,
  `X-Stainless-*`, `OpenAI-Organization`/`-Project`, `anthropic-version`, the headers a provider
  was built with (YandexGPT's `x-folder-id`) — plus the per-attempt `x-stainless-retry-count` the
  SDK adds in `_build_headers`. They are read inside the running loop on the first request,
  because `X-Stainless-Async` names the async library running at the time;
- `max_retries`, and the SDK's retry policy and back-off (`RetryPolicy`, below);
- the timeouts the providers set for streams: a connect limit, no read limit (the runner bounds
  a stream's silence).

google-genai's client has neither `base_url` nor `auth_headers`: Gemini passes its versioned
base URL and a reader of the client's resolved headers instead, and a `RetryPolicy` of its own
(google-genai's tenacity policy: its statuses, connection errors only, additive jitter, 200 only).

The session: our own `aiohttp.ClientSession`, one per provider, made in the running loop on the
first request and closed by `aclose()`. The SDK's transport does hold one, but only behind private
attributes (`client._client._transport.client`, created on the SDK's own first request), and it
is made with `auto_decompress=False` for httpx to decode, which our reader would then have to do.
Ours has the same connection limit and keep-alive as the SDK's transport and the TLS context
httpx2 builds for it (`httpx2.create_ssl_context`, honouring SSL_CERT_FILE), and, like httpx,
honours the proxy environment variables (HTTPS_PROXY, NO_PROXY: read once, at the first request).

What is not the SDK's: redirects are not followed (a 3xx is a `provider_error` like any status we
do not expect; the SDK's default client followed them, POST body dropped on 302/303); the body is
decompressed by aiohttp as it arrives, so a gzip-encoded event stream reads as a plain one.
"""
from __future__ import annotations

import asyncio
import email.utils
import math
import random
import time
from dataclasses import dataclass
from typing import Any, Callable, Mapping

import aiohttp
import httpx2
from aiohttp.helpers import get_env_proxy_for_url
from yarl import URL

from protocol.errors import ChatwireError

from .base import error_for_status, unreachable
from .sse import loads as read_json

# The SDKs' back-off (openai/_constants.py and anthropic/_constants.py: INITIAL_RETRY_DELAY,
# MAX_RETRY_DELAY) and OpenAI's limit on a server-asked wait (MAX_RETRY_AFTER_DELAY).
INITIAL_RETRY_DELAY = 0.5
MAX_RETRY_DELAY = 8.0
OPENAI_MAX_RETRY_AFTER = 120.0
# A wait the Anthropic SDK caps at (what `time.sleep` takes on every platform).
ANTHROPIC_MAX_RETRY_AFTER = 4_294_967.0
# How much of an error response is read for its message.
ERROR_BODY_LIMIT = 64 * 1024
# As the SDKs' DEFAULT_CONNECTION_LIMITS (1000 connections) and httpx's keep-alive expiry (5 s).
CONNECTION_LIMIT = 1000
KEEPALIVE_S = 5.0
RETRY_COUNT = "x-stainless-retry-count"
# What the SDK sends per request that is the SDK's own business: its response-parsing marker.
NOT_SENT = frozenset({"x-stainless-raw-response"})


def retry_after(headers: Mapping[str, str] | None) -> float | None:
    """Seconds a response asks us to wait, or None: `retry-after-ms`, then `retry-after` as
    seconds (floats allowed), then as an HTTP date — the SDKs' `_parse_retry_after_header`."""
    if not headers:
        return None
    for name, divisor in (("retry-after-ms", 1000), ("retry-after", 1)):
        value = headers.get(name)
        if value is None:
            continue
        try:
            return float(value) / divisor
        except ValueError:
            continue
    value = headers.get("retry-after")
    try:
        parsed = email.utils.parsedate_tz(value) if value else None
        return float(email.utils.mktime_tz(parsed) - time.time()) if parsed else None
    except (TypeError, ValueError, OverflowError, OSError):
        return None


@dataclass(frozen=True)
class RetryPolicy:
    """When a request that got no reply body yet is tried again, and after how long.

    Replicates the SDKs' private `_should_retry` and `_calculate_retry_timeout` (openai 3.x and
    anthropic 2.x `_base_client.py`; tests/providers/test_prepared.py checks ours against theirs):
    `x-should-retry: true|false` decides if present; else 408, 409, 429 and 5xx are retried.
    The wait is what the server asked (`retry-after[-ms]`), else 0.5 s doubling per retry, at
    most 8 s, less up to 25% jitter. They differ in one thing: OpenAI's SDK does not retry when
    asked to wait over two minutes (and ignores such a wait), Anthropic's waits whatever it is
    asked (`max_retry_after=None`)."""

    max_retries: int
    max_retry_after: float | None = OPENAI_MAX_RETRY_AFTER

    def should_retry(self, status: int, headers: Mapping[str, str]) -> bool:
        if self.max_retry_after is not None:
            wait = retry_after(headers)
            if wait is not None and math.isfinite(wait) and wait > self.max_retry_after:
                return False
        verdict = headers.get("x-should-retry")
        if verdict in ("true", "false"):
            return verdict == "true"
        return status in (408, 409, 429) or status >= 500

    def delay(self, retries_taken: int, headers: Mapping[str, str] | None = None) -> float:
        wait = retry_after(headers)
        if wait is not None and math.isfinite(wait) and wait > 0:
            if self.max_retry_after is None:
                return min(wait, ANTHROPIC_MAX_RETRY_AFTER)
            if wait <= self.max_retry_after:
                return wait
        backoff = min(INITIAL_RETRY_DELAY * 2.0 ** min(retries_taken, 1000), MAX_RETRY_DELAY)
        return max(0.0, backoff * (1 - 0.25 * random.random()))

    def accepts(self, status: int) -> bool:
        """A status the SDK streams from."""
        return 200 <= status < 300

    def retries_error(self, exc: BaseException) -> bool:
        """Whether a request that failed with no response at all is tried again: the SDKs
        retry every connection error and timeout."""
        return True


def sdk_headers(client: Any) -> dict[str, str]:
    """The headers the SDK client sends on every request (its public `auth_headers`, then
    `default_headers`, which win, as in `_build_headers`), those it omits left out."""
    merged = {**client.auth_headers, **client.default_headers}
    return {k: v for k, v in merged.items() if isinstance(v, str) and k.lower() not in NOT_SENT}


def json_message(body: Any) -> str:
    """An error body's message as the OpenAI SDK's error carried it (`exc.body` is the JSON's
    `error` member, or the JSON, or the text) and as `openai_chat` read it: "" when there is
    none, as for an HTML page."""
    data = body.get("error", body) if isinstance(body, dict) else body
    found = data if isinstance(data, dict) else {}
    error = found.get("error", found)
    return str(error.get("message", "") if isinstance(error, dict) else error)[:200]


def no_message(body: Any) -> str:
    return ""


class PreparedStream:
    """One provider's streaming POST: built once, sent per reply, retried as its SDK would.

    `open(body)` answers the 2xx response whose body the caller reads (`response.content`) and
    releases; every failure before that is raised as the protocol's typed error, after the
    retries the policy allows. Nothing is retried once a 2xx response has arrived."""

    def __init__(self, provider: str, client: Any, path: str, *, connect_timeout: float,
                 policy: RetryPolicy, extra_headers: Mapping[str, str] | None = None,
                 message: Callable[[Any], str] = no_message,
                 headers: Callable[[Any], dict[str, str]] = sdk_headers,
                 base_url: str | None = None, retry_count: str | None = RETRY_COUNT) -> None:
        """`path` is joined to the client's `base_url`, or to `base_url` when the client has
        none (google-genai); `headers(client)` are the client's own; `retry_count` names the
        header that counts the retries taken (None: there is none)."""
        self.provider = provider
        self.client = client
        if base_url is None:
            base = client.base_url  # as the SDK's `_prepare_url` joins a relative path to it
            self.url = str(base.copy_with(raw_path=base.raw_path + path.lstrip("/").encode()))
        else:
            self.url = base_url + path.lstrip("/")
        self.policy = policy
        self.extra_headers = dict(extra_headers or {})
        self.message = message
        self.client_headers = headers
        self.retry_count = retry_count
        # connect: getting a connection (the SDK's `pool`); sock_connect: the TCP/TLS connect.
        self.timeout = aiohttp.ClientTimeout(total=None, connect=connect_timeout,
                                             sock_connect=connect_timeout, sock_read=None)
        self.headers: dict[str, str] | None = None
        self.proxy: Any = None
        self.proxy_auth: aiohttp.BasicAuth | None = None
        self.session: aiohttp.ClientSession | None = None

    def _start(self) -> aiohttp.ClientSession:
        headers = self.client_headers(self.client)
        headers.update(self.extra_headers)
        if self.retry_count:
            headers[self.retry_count] = "0"
        self.headers = headers
        # The proxy environment, read once: a session's own `trust_env` reads it (and ~/.netrc)
        # in a worker thread on every request, two thread hops that cost more CPU than the rest.
        try:
            self.proxy, self.proxy_auth = get_env_proxy_for_url(URL(self.url))
        except LookupError:
            self.proxy, self.proxy_auth = None, None
        connector = aiohttp.TCPConnector(limit=CONNECTION_LIMIT, keepalive_timeout=KEEPALIVE_S,
                                         ssl=httpx2.create_ssl_context(trust_env=True))
        self.session = aiohttp.ClientSession(connector=connector, auto_decompress=True)
        return self.session

    async def open(self, body: bytes, url: str | None = None) -> aiohttp.ClientResponse:
        """`url`: another endpoint on the same server (Gemini's names the model)."""
        session = self.session if self.session is not None else self._start()
        headers = self.headers
        assert headers is not None
        policy = self.policy
        retries = policy.max_retries
        for taken in range(retries + 1):
            sent = headers if taken == 0 or not self.retry_count else {
                **headers, self.retry_count: str(taken)}
            try:
                response = await session.post(url or self.url, data=body, headers=sent,
                                              allow_redirects=False, timeout=self.timeout,
                                              proxy=self.proxy, proxy_auth=self.proxy_auth)
            except (aiohttp.ClientError, asyncio.TimeoutError, OSError) as exc:
                if taken < retries and policy.retries_error(exc):
                    await asyncio.sleep(policy.delay(taken))
                    continue
                raise unreachable(self.provider, f"stopped answering: {type(exc).__name__}") from None
            status = response.status
            if policy.accepts(status):
                return response
            try:
                if taken < retries and status >= 400 and policy.should_retry(
                        status, response.headers):
                    wait = policy.delay(taken, response.headers)
                    response.close()
                    await asyncio.sleep(wait)
                    continue
                raise await self._error(response)
            finally:
                response.release()
        raise AssertionError("unreachable")  # the loop returns or raises

    async def _error(self, response: aiohttp.ClientResponse) -> ChatwireError:
        """The typed error for a status we do not stream from: its message read from a JSON
        body as the SDK path read it, nothing from any other page."""
        detail = ""
        try:
            raw = await _read_some(response, ERROR_BODY_LIMIT)
            if raw.strip():
                detail = self.message(read_json(raw.strip()))
        except (aiohttp.ClientError, asyncio.TimeoutError, OSError, ValueError):
            detail = ""  # an unreadable or non-JSON page: the status alone
        wait = retry_after(response.headers)
        hint = max(1, int(wait)) if wait is not None and math.isfinite(wait) and wait > 0 else None
        error = error_for_status(self.provider, response.status, detail, hint)
        assert isinstance(error, ChatwireError)
        return error

    async def aclose(self) -> None:
        if self.session is not None:
            session, self.session = self.session, None
            await session.close()


async def _read_some(response: aiohttp.ClientResponse, limit: int) -> bytes:
    """Up to `limit` bytes of a body: an error page may be large, or endless."""
    parts: list[bytes] = []
    size = 0
    while size < limit:
        chunk = await response.content.read(limit - size)
        if not chunk:
            break
        parts.append(chunk)
        size += len(chunk)
    return b"".join(parts)
