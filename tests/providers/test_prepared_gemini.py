"""Gemini's prepared streaming request (providers/gemini.py over providers/prepared.py): what it
sends, against what google-genai sends for the same reply, and how it fails, against the local
server speaking Gemini's format (the fixtures and helpers are test_prepared.py's)."""
import asyncio
import random
import socket
import time

import aiohttp
import httpx2
import pytest
from aiohttp import web
from google.genai import _api_client as genai_api
from google.genai import errors as genai_errors
from google.genai import types

from providers.base import ChatMessage, GenerationRequest, ImageData, Usage
from tests.providers.prepared_fakes import Front, collect, fails, fronted_vendor, status

MODEL = "gemini-2.5-flash"
PATH = f"/v1/models/{MODEL}:streamGenerateContent"
NOT_COMPARED = {"host", "content-length", "connection"}


class Targets(Front):
    """Front, also keeping each request's method, path and query."""

    def __init__(self) -> None:
        super().__init__()
        self.targets: list[str] = []

    @web.middleware
    async def middleware(self, request, handler):
        self.targets.append(f"{request.method} {request.path_qs}")
        return await super().middleware(request, handler)


@pytest.fixture
async def fake(aiohttp_server):
    return await fronted_vendor(aiohttp_server, Targets())


@pytest.fixture
async def build(fake):
    from providers.factory import build_providers
    from tests.helpers import vendor_providers

    built = []

    def make(**overrides):
        providers = build_providers(vendor_providers(fake.url, **overrides))
        built.append(providers)
        return providers["gemini"]

    yield make
    for providers in built:
        for provider in providers.values():
            await provider.aclose()


# Image bytes whose base64 has "+" and "/" (google-genai sends the URL-safe alphabet).
PIXEL = ImageData("image/png", b"\x89PNG\xfb\xff\xfe\x00\x3e\x3f")


def ask(text="Привет! What is 2+2?", **fields):
    values = dict(model=MODEL, system="Answer in Russian.", max_tokens=64, temperature=0.5,
                  top_p=0.9, stop=("\n\n",),
                  messages=[ChatMessage("user", "Look", images=(PIXEL,)),
                            ChatMessage("assistant", "A pixel."), ChatMessage("user", text)])
    values.update(fields)
    return GenerationRequest(**values)


async def sdk_request(provider, request):
    """The same reply asked through google-genai, as providers/gemini.py asked it before."""
    contents = [types.Content(role="model" if m.role == "assistant" else "user", parts=[
        *[types.Part(inline_data=types.Blob(mime_type=i.mime, data=i.data)) for i in m.images],
        types.Part(text=m.text)]) for m in request.messages]
    config = types.GenerateContentConfig(system_instruction=request.system or None,
                                         max_output_tokens=request.max_tokens,
                                         temperature=request.temperature, top_p=request.top_p,
                                         stop_sequences=list(request.stop) or None)
    async for _ in await provider.client.aio.models.generate_content_stream(
            model=request.model, contents=contents, config=config):
        pass


def seen(recorded):
    headers = {k.lower(): v for k, v in recorded["headers"].items()}
    return {k: v for k, v in headers.items() if k not in NOT_COMPARED}


@pytest.mark.parametrize("request_", [ask(), GenerationRequest(MODEL, [ChatMessage("user", "x")])],
                         ids=["everything", "bare"])
async def test_the_request_is_the_one_google_genai_sends(fake, build, request_):
    provider = build()
    text, ends = await collect(provider, request_)
    assert text == "Hello, world!" and len(ends) == 1
    await sdk_request(provider, request_)
    ours, sdks = fake.requests
    assert fake.front.targets == [f"POST {PATH}?alt=sse"] * 2
    assert ours["body"] == sdks["body"]
    assert seen(ours) == seen(sdks)
    assert seen(ours)["x-goog-api-key"] == "g-test-key"
    assert seen(ours)["user-agent"].startswith("google-genai-sdk/")
    if request_.system:
        assert ours["body"]["systemInstruction"] == {"parts": [{"text": "Answer in Russian."}],
                                                     "role": "user"}
        assert ours["body"]["generationConfig"] == {"maxOutputTokens": 64, "temperature": 0.5,
                                                    "topP": 0.9, "stopSequences": ["\n\n"]}
        assert ours["body"]["contents"][1] == {"parts": [{"text": "A pixel."}], "role": "model"}


def sse(*lines: bytes, content_type="text/event-stream"):
    return status(200, b"".join(lines), content_type=content_type)


GOOD = (b'data: {"candidates":[{"content":{"parts":[{"text":"Hi"}]},"finishReason":"STOP"}]}'
        b'\r\n\r\n')


async def test_the_api_version_and_a_base_path_are_the_sdk_s(fake, build, monkeypatch):
    """GOOGLE_GENAI_API_VERSION, and a base URL with a path of its own, as google-genai joins them."""
    monkeypatch.setenv("GOOGLE_GENAI_API_VERSION", "v1beta")
    provider = build(google_base_url=f"{fake.url}/gateway/")
    fake.front.then(sse(GOOD), sse(GOOD))
    assert (await collect(provider, ask()))[0] == "Hi"
    await sdk_request(provider, ask())
    assert fake.front.targets == [
        f"POST /gateway/v1beta/models/{MODEL}:streamGenerateContent?alt=sse"] * 2


async def test_a_429_then_success_is_retried_once_and_streams(fake, build):
    provider = build(max_retries=2)
    fake.front.then(status(429, b'{"error":{"code":429,"message":"slow down"}}'))
    text, _ = await collect(provider, ask())
    assert text == "Hello, world!"
    assert fake.front.paths == [PATH] * 2
    assert "x-stainless-retry-count" not in {k.lower() for k in fake.requests[0]["headers"]}


async def test_a_500_every_time_is_provider_unavailable_after_the_retries(fake, build):
    provider = build(max_retries=2)
    fake.front.then(*[status(500, b'{"error":{"code":500,"message":"boom"}}')] * 3)
    started = time.monotonic()
    error = await fails(provider, ask())
    assert error.code == "provider_unavailable"
    assert error.message == "gemini is unavailable (HTTP 500): boom"
    assert len(fake.front.paths) == 3 and fake.requests == []
    assert 0.5 + 1.0 <= time.monotonic() - started < 3.0  # 0.5 s, then 1 s (+ up to 0.25 each)


async def test_a_status_google_genai_does_not_retry_is_not_retried(fake, build):
    provider = build(max_retries=2)
    fake.front.then(status(501, b'{"error":{"code":501,"message":"not implemented"}}'))
    error = await fails(provider, ask())
    assert error.code == "provider_unavailable" and len(fake.front.paths) == 1


async def test_a_401_is_a_credentials_error_and_not_retried(fake, build):
    provider = build(max_retries=2)
    fake.front.then(status(401, b'{"error":{"code":401,"message":"API key g-test-key not valid"}}'))
    error = await fails(provider, ask())
    assert error.code == "provider_error" and error.message == (
        "gemini rejected the credentials (HTTP 401)")
    assert len(fake.front.paths) == 1


async def test_a_json_error_carries_its_message_as_the_sdk_path_did(fake, build):
    provider = build()
    fake.front.then(status(400, b'{"error":{"code":400,"message":"* GenerateContentRequest.contents:'
                                b' contents is not specified","status":"INVALID_ARGUMENT"}}'))
    error = await fails(provider, ask())
    assert error.message == ("gemini refused the request (HTTP 400): * GenerateContentRequest."
                             "contents: contents is not specified")


async def test_an_html_404_page_is_a_short_provider_error(fake, build):
    provider = build(max_retries=2)
    page = b"<html><head><title>404</title></head><body>" + b"<p>Not here</p>" * 5000 + b"</body></html>"
    fake.front.then(status(404, page, content_type="text/html"))
    error = await fails(provider, ask())
    assert error.code == "provider_error"
    assert error.message == "gemini refused the request (HTTP 404)"


@pytest.mark.parametrize("code", [302, 201])
async def test_a_redirect_or_another_success_is_a_provider_error(fake, build, code):
    """google-genai streams from a 200 only, and its client follows no redirect."""
    provider = build(max_retries=2)
    fake.front.then(status(code, b"", content_type="text/html", Location="/elsewhere"))
    error = await fails(provider, ask())
    assert error.code == "provider_error" and f"HTTP {code}" in error.message
    assert fake.front.paths == [PATH]  # /elsewhere never asked


async def test_a_gzip_encoded_event_stream_streams(fake, build):
    provider = build()
    fake.script.gzip = True
    fake.script.tokens = ["Как", " дела", "?"]
    text, ends = await collect(provider, ask())
    assert text == "Как дела?" and ends[0].usage.prompt_tokens == 11
    assert fake.front.encodings == ["gzip"]


async def test_a_success_that_is_not_an_event_stream_is_malformed_as_before(fake, build):
    """google-genai read a line that is not `data:` as raw JSON: an HTML page is not JSON."""
    provider = build(max_retries=2)
    fake.front.then(status(200, b"<html>maintenance</html>", content_type="text/html"))
    error = await fails(provider, ask())
    assert error.code == "provider_error" and "malformed" in error.message
    assert len(fake.front.paths) == 1


async def test_an_error_in_the_stream_is_the_typed_error_of_its_code(fake, build):
    provider = build()
    fake.front.then(sse(b'data: {"candidates":[{"content":{"parts":[{"text":"Hi"}]}}]}\r\n\r\n',
                        b'data: {"error":{"code":503,"message":"The model is overloaded."}}\r\n\r\n'))
    error = await fails(provider, ask())
    assert error.code == "provider_unavailable"
    assert error.message == "gemini is unavailable (HTTP 503): The model is overloaded."


async def test_an_error_sent_as_raw_json_lines_is_read_as_google_genai_reads_it(fake, build):
    provider = build()
    fake.front.then(sse(b'{\n  "error": {\n    "code": 429,\n    "message": "Quota {exceeded}"\n',
                        b'  }\n}\n'))
    error = await fails(provider, ask())
    assert error.code == "rate_limited" and "Quota {exceeded}" in error.message


async def test_usage_thoughts_cache_and_finish_are_read_as_before(fake, build):
    provider = build()
    fake.front.then(sse(
        b'data: {"candidates":[{"content":{"parts":[{"text":"Da"}],"role":"model"},"index":0}],'
        b'"usageMetadata":{"promptTokenCount":1200,"toolUsePromptTokenCount":7}}\r\n\r\n',
        b'data: {"candidates":[{"content":{"parts":[{"text":","},{"text":" yes"}]},'
        b'"finishReason":"MAX_TOKENS"}],"usageMetadata":{"promptTokenCount":1200,'
        b'"toolUsePromptTokenCount":7,"candidatesTokenCount":3,"cachedContentTokenCount":1000,'
        b'"thoughtsTokenCount":300}}'))  # the last line without its newline
    items = [item async for item in provider.stream(ask())]
    assert items[:2] == ["Da", Usage(1207)]
    assert "".join(i for i in items if isinstance(i, str)) == "Da, yes"
    end = items[-1]
    assert end.finish_reason == "length"
    assert end.usage == Usage(1207, 303, cached_tokens=1000, reasoning_tokens=300)


async def test_a_stream_without_a_finish_reason_is_unavailable(fake, build):
    provider = build()
    fake.front.then(sse(b'data: {"candidates":[{"content":{"parts":[{"text":"Hi"}]}}]}\r\n\r\n'))
    error = await fails(provider, ask())
    assert error.code == "provider_unavailable" and "ended the stream before" in error.message


@pytest.mark.parametrize("line", [b"data: {this is not json", b'data: [1, 2]',
                                  b'data: {"candidates": [{"content": {"parts": [{"text": 5}]}}]}',
                                  b'data: {"candidates": "none"}'])
async def test_a_chunk_that_is_not_gemini_s_is_malformed(fake, build, line):
    provider = build()
    fake.front.then(sse(line + b"\r\n\r\n"))
    error = await fails(provider, ask())
    assert error.code == "provider_error" and "malformed" in error.message


async def test_a_stream_cut_midway_is_unavailable_and_never_retried(fake, build):
    provider = build(max_retries=2)
    fake.script.drop_after = 2
    texts = []
    with pytest.raises(Exception) as info:
        async for item in provider.stream(ask()):
            if isinstance(item, str):
                texts.append(item)
    assert info.value.code == "provider_unavailable" and "stopped answering" in info.value.message
    assert "".join(texts) == "Hello,"
    assert len(fake.requests) == 1


async def test_a_refused_connection_is_retried_then_unavailable(build):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # closed again: nothing listens there
    provider = build(google_base_url=f"http://127.0.0.1:{port}", max_retries=1)
    started = time.monotonic()
    error = await fails(provider, ask())
    assert error.code == "provider_unavailable" and "stopped answering" in error.message
    assert 0.5 <= time.monotonic() - started < 1.5  # one retry, after 0.5 s (+ up to 0.25)


async def test_a_connect_that_hangs_is_unavailable_at_the_connect_timeout(build, unanswered_port):
    provider = build(google_base_url=f"http://127.0.0.1:{unanswered_port}", connect_timeout_s=0.3)
    started = time.monotonic()
    error = await asyncio.wait_for(fails(provider, ask()), 5)
    assert error.code == "provider_unavailable" and "Timeout" in error.message
    assert 0.25 <= time.monotonic() - started < 1.5


# -- the retry policy is google-genai's ---------------------------------------------------------

def test_the_retry_decisions_match_google_genai_s_own():
    """Against the SDK's own tenacity arguments for the options the provider gives it."""
    from providers.gemini import GeminiRetry, retry_options

    options = retry_options(3)
    theirs = genai_api.retry_args(options)
    policy = GeminiRetry.of(options)
    assert policy.max_retries == 3 and theirs["stop"].max_attempt_number == 4
    for code in (400, 401, 403, 404, 408, 409, 422, 429, 500, 501, 502, 503, 504, 529):
        error = genai_errors.APIError(code, {"error": {"message": "x"}})
        assert policy.should_retry(code, {}) == theirs["retry"].predicate(error), code
    transport = [
        (aiohttp.ClientConnectorError(None, OSError(111, "refused")), httpx2.ConnectError("x")),
        (asyncio.TimeoutError(), httpx2.ConnectTimeout("x")),
        (aiohttp.ServerDisconnectedError(), httpx2.RemoteProtocolError("x")),
        (aiohttp.ClientPayloadError("x"), httpx2.ReadError("x"))]
    for ours, sdks in transport:
        assert policy.retries_error(ours) == theirs["retry"].predicate(sdks), ours
    for taken in range(6):
        random.seed(taken)
        sdk_wait = theirs["wait"](type("State", (), {"attempt_number": taken + 1})())
        random.seed(taken)
        assert policy.delay(taken, {"retry-after": "30"}) == pytest.approx(sdk_wait), taken


async def test_the_proxy_environment_is_honoured_as_for_the_other_vendors(fake, build, monkeypatch):
    """HTTP_PROXY, read once, as the OpenAI and Anthropic streams read it (google-genai's own
    client, built on an explicit transport, does not)."""
    monkeypatch.setenv("HTTP_PROXY", fake.url)
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    provider = build(google_base_url="http://vendor.invalid")
    text, _ = await collect(provider, ask())
    assert text == "Hello, world!"
    assert [r["headers"]["Host"] for r in fake.requests] == ["vendor.invalid"]
