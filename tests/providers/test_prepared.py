"""The prepared streaming request (providers/prepared.py): what it sends, against what the SDK sends
for the same reply, and how it fails, against a local server speaking the vendors' formats."""
import asyncio
import random
import socket
import time

import anthropic
import httpx2
import openai
import pytest
from openai._models import FinalRequestOptions

from protocol.errors import ChatwireError
from providers.base import ChatMessage, GenerationRequest
from providers.factory import build_providers
from providers.prepared import OPENAI_MAX_RETRY_AFTER, RetryPolicy
from tests.helpers import vendor_providers
from tests.providers.prepared_fakes import Front, collect, fails, fronted_vendor, status

MODELS = {"openai": "gpt-4o-mini", "anthropic": "claude-3-5-haiku-latest", "yandex": "yandexgpt-lite"}
PATHS = {"openai": "/v1/chat/completions", "anthropic": "/v1/messages", "yandex": "/v1/chat/completions"}
# Hop-by-hop and per-connection: the two clients may write these differently for the same request;
# and the SDK's marker for how its own response object parses the answer.
NOT_COMPARED = {"host", "content-length", "connection", "x-stainless-raw-response"}


@pytest.fixture
async def fake(aiohttp_server):
    return await fronted_vendor(aiohttp_server, Front())


@pytest.fixture
async def build(fake):
    built = []

    def make(**overrides):
        settings = dict(yandex_api_key="y-test-key", yandex_folder_id="b1gfolder",
                        yandex_base_url=f"{fake.url}/v1")
        settings.update(overrides)
        providers = build_providers(vendor_providers(fake.url, **settings))
        built.append(providers)
        return providers

    yield make
    for providers in built:
        for provider in providers.values():
            await provider.aclose()


def ask(model, text="Привет! What is 2+2?"):
    return GenerationRequest(model=model, system="Answer in Russian.", max_tokens=64,
                             temperature=0.5, stop=("\n\n",), messages=[ChatMessage("user", text)])


async def sdk_request(name, provider, request):
    """The same reply asked through the SDK: OpenAI's typed streaming call; Anthropic's as the
    provider asked it before (its typed call takes no sampling fields: they rode in `extra_body`)."""
    timeout = httpx2.Timeout(None, connect=2.0, pool=2.0)
    body = provider._body(request)
    if name == "anthropic":
        extra = {k: v for k, v in body.items() if k not in ("model", "max_tokens", "stream")}
        async with provider.client.messages.with_streaming_response.create(
                model=body["model"], max_tokens=body["max_tokens"], stream=True, messages=[],
                extra_body=extra, timeout=timeout) as response:
            async for _ in response.iter_bytes():
                pass
        return
    stream = await provider.client.chat.completions.create(**body, timeout=timeout)
    async for _ in stream:
        pass


def seen(recorded):
    headers = {k.lower(): v for k, v in recorded["headers"].items()}
    return {k: v for k, v in headers.items() if k not in NOT_COMPARED}


@pytest.mark.parametrize("name", MODELS)
async def test_the_request_is_the_one_the_sdk_sends(fake, build, name):
    provider = build()[name]
    text, ends = await collect(provider, ask(MODELS[name]))
    assert text == "Hello, world!" and len(ends) == 1
    await sdk_request(name, provider, ask(MODELS[name]))
    ours, sdks = fake.requests
    assert fake.front.paths == [PATHS[name]] * 2
    assert ours["body"] == sdks["body"]
    assert seen(ours) == seen(sdks)
    headers = seen(ours)
    assert headers["content-type"] == "application/json"
    if name == "openai":
        assert headers["authorization"] == "Bearer sk-test-openai"
        assert headers["user-agent"].startswith("AsyncOpenAI/Python")
        assert ours["body"]["stream_options"] == {"include_usage": True}
    elif name == "anthropic":
        assert headers["authorization"] == "Bearer sk-ant-test" and "anthropic-version" in headers
        assert headers["user-agent"].startswith("AsyncAnthropic/Python")
        assert ours["body"]["stop_sequences"] == ["\n\n"] and ours["body"]["system"]
    else:
        assert headers["authorization"] == "Bearer y-test-key"
        assert headers["x-folder-id"] == "b1gfolder"
        assert ours["body"]["model"] == "gpt://b1gfolder/yandexgpt-lite"


@pytest.mark.parametrize("name", ["openai", "anthropic"])
async def test_a_429_then_success_is_retried_once_and_streams(fake, build, name):
    provider = build(max_retries=2)[name]
    fake.front.then(status(429, b'{"error":{"message":"slow down"}}', **{"retry-after-ms": "20"}))
    text, _ = await collect(provider, ask(MODELS[name]))
    assert text == "Hello, world!"
    assert fake.front.paths == [PATHS[name]] * 2
    assert fake.requests[0]["headers"]["x-stainless-retry-count"] == "1"  # the SDK's count


@pytest.mark.parametrize("name", ["openai", "anthropic"])
async def test_a_500_every_time_is_provider_unavailable_after_the_retries(fake, build, name):
    provider = build(max_retries=2)[name]
    fake.front.then(*[status(500, b'{"error":{"message":"boom"}}', **{"retry-after-ms": "10"})] * 3)
    error = await fails(provider, ask(MODELS[name]))
    assert error.code == "provider_unavailable" and "HTTP 500" in error.message
    assert len(fake.front.paths) == 3 and fake.requests == []


async def test_the_server_saying_do_not_retry_is_obeyed(fake, build):
    provider = build(max_retries=2)["openai"]
    fake.front.then(status(503, b"{}", **{"x-should-retry": "false"}))
    assert (await fails(provider, ask(MODELS["openai"]))).code == "provider_unavailable"
    assert len(fake.front.paths) == 1


@pytest.mark.parametrize("name", ["openai", "anthropic"])
async def test_a_401_is_a_credentials_error_and_not_retried(fake, build, name):
    provider = build(max_retries=2)[name]
    fake.front.then(status(401, b'{"error":{"message":"bad key sk-..."}}'))
    error = await fails(provider, ask(MODELS[name]))
    assert error.code == "provider_error" and "rejected the credentials" in error.message
    assert "sk-" not in error.message and len(fake.front.paths) == 1


async def test_a_json_error_carries_its_message_as_the_sdk_path_did(fake, build):
    provider = build()["openai"]
    fake.front.then(status(400, b'{"error":{"message":"max_tokens is too large","type":"x"}}'))
    error = await fails(provider, ask(MODELS["openai"]))
    assert error.code == "provider_error"
    assert error.message == "openai refused the request (HTTP 400): max_tokens is too large"


@pytest.mark.parametrize("name", ["openai", "anthropic"])
async def test_an_html_404_page_is_a_short_provider_error(fake, build, name):
    provider = build(max_retries=2)[name]
    page = b"<html><head><title>404</title></head><body>" + b"<p>Not here</p>" * 5000 + b"</body></html>"
    fake.front.then(status(404, page, content_type="text/html"))
    error = await fails(provider, ask(MODELS[name]))
    assert error.code == "provider_error"
    assert error.message == f"{name} refused the request (HTTP 404)"


@pytest.mark.parametrize("name", ["openai", "anthropic"])
async def test_a_redirect_is_a_provider_error_and_is_not_followed(fake, build, name):
    provider = build(max_retries=2)[name]
    fake.front.then(status(302, b"", content_type="text/html", Location="/elsewhere"))
    error = await fails(provider, ask(MODELS[name]))
    assert error.code == "provider_error" and "HTTP 302" in error.message
    assert fake.front.paths == [PATHS[name]]  # /elsewhere never asked


@pytest.mark.parametrize("name", ["openai", "anthropic"])
async def test_a_gzip_encoded_event_stream_streams(fake, build, name):
    provider = build()[name]
    fake.script.gzip = True
    fake.script.tokens = ["Как", " дела", "?"]
    text, ends = await collect(provider, ask(MODELS[name]))
    assert text == "Как дела?" and ends[0].usage.prompt_tokens == 11
    assert fake.front.encodings == ["gzip"]


@pytest.mark.parametrize("name", ["openai", "anthropic"])
async def test_a_success_that_is_not_an_event_stream_ends_as_before(fake, build, name):
    provider = build(max_retries=2)[name]
    fake.front.then(status(200, b"<html>maintenance</html>", content_type="text/html"))
    error = await fails(provider, ask(MODELS[name]))
    assert error.code == "provider_unavailable" and "ended the stream before" in error.message
    assert len(fake.front.paths) == 1


@pytest.mark.parametrize("name", ["openai", "anthropic"])
async def test_a_stream_cut_midway_is_unavailable_and_never_retried(fake, build, name):
    provider = build(max_retries=2)[name]
    fake.script.drop_after = 2
    texts = []
    with pytest.raises(ChatwireError) as info:
        async for item in provider.stream(ask(MODELS[name])):
            if isinstance(item, str):
                texts.append(item)
    assert info.value.code == "provider_unavailable"
    assert "".join(texts) == "Hello,"
    assert len(fake.requests) == 1


@pytest.mark.parametrize("name", ["openai", "anthropic"])
async def test_a_refused_connection_is_provider_unavailable(build, name):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # closed again: nothing listens there
    provider = build(openai_base_url=f"http://127.0.0.1:{port}/v1",
                     anthropic_base_url=f"http://127.0.0.1:{port}")[name]
    error = await fails(provider, ask(MODELS[name]))
    assert error.code == "provider_unavailable" and "stopped answering" in error.message


@pytest.mark.parametrize("name", ["openai", "anthropic"])
async def test_a_connect_that_hangs_is_unavailable_at_the_connect_timeout(build, unanswered_port, name):
    port = unanswered_port
    provider = build(openai_base_url=f"http://127.0.0.1:{port}/v1",
                     anthropic_base_url=f"http://127.0.0.1:{port}",
                     connect_timeout_s=0.3, max_retries=0)[name]
    started = time.monotonic()
    error = await asyncio.wait_for(fails(provider, ask(MODELS[name])), 5)
    elapsed = time.monotonic() - started
    assert error.code == "provider_unavailable" and "Timeout" in error.message
    assert 0.25 <= elapsed < 1.5


# -- the retry policy is the SDKs' -------------------------------------------------------------

SDKS = {"openai": (openai.AsyncOpenAI, OPENAI_MAX_RETRY_AFTER),
        "anthropic": (anthropic.AsyncAnthropic, None)}
HEADERS = [{}, {"x-should-retry": "true"}, {"x-should-retry": "false"}, {"retry-after": "3"},
           {"retry-after": "1.5"}, {"retry-after-ms": "250"}, {"retry-after": "300"},
           {"retry-after": "0"}, {"retry-after": "-4"}, {"retry-after": "soon"},
           {"retry-after-ms": "x", "retry-after": "2"}, {"retry-after": "300", "x-should-retry": "true"}]


@pytest.mark.parametrize("sdk", SDKS)
def test_the_retry_decisions_match_the_sdks_own(sdk):
    """Checked against the SDKs' private helpers, so an SDK upgrade that changes them shows here."""
    cls, limit = SDKS[sdk]
    client = cls(api_key="k", max_retries=3)
    policy = RetryPolicy(3, max_retry_after=limit)
    options = FinalRequestOptions.construct(method="post", url="/x")
    if sdk == "anthropic":
        from anthropic._models import FinalRequestOptions as AnthropicOptions
        options = AnthropicOptions.construct(method="post", url="/x")
    for code in (400, 401, 403, 404, 408, 409, 422, 429, 500, 502, 503, 529):
        for headers in HEADERS:
            response = httpx2.Response(code, headers=headers)
            assert policy.should_retry(code, response.headers) == client._should_retry(response), (
                code, headers)
    for headers in [None, *HEADERS]:
        for taken in range(4):
            wrapped = httpx2.Headers(headers) if headers is not None else None
            random.seed(taken)
            theirs = client._calculate_retry_timeout(3 - taken, options, wrapped)
            random.seed(taken)
            assert policy.delay(taken, wrapped) == pytest.approx(theirs), (headers, taken)


async def test_the_proxy_environment_is_honoured_as_the_sdk_honours_it(fake, build, monkeypatch):
    """HTTP_PROXY, read once: the request goes to the proxy (here the fake itself, which serves
    the absolute-form request line), for a vendor host that does not resolve."""
    monkeypatch.setenv("HTTP_PROXY", fake.url)
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    provider = build(openai_base_url="http://vendor.invalid/v1")["openai"]
    text, _ = await collect(provider, ask(MODELS["openai"]))
    assert text == "Hello, world!"
    await sdk_request("openai", provider, ask(MODELS["openai"]))  # the SDK goes the same way
    assert [r["headers"]["Host"] for r in fake.requests] == ["vendor.invalid"] * 2
