"""Each provider, through its real SDK, against a local server speaking the vendor's wire format."""
import pytest

from protocol.errors import ChatwireError
from providers.base import ChatMessage, GenerationRequest, StreamEnd
from providers.factory import build_providers
from tests.helpers import vendor_providers

VENDORS = {"openai": "gpt-4o-mini", "anthropic": "claude-3-5-haiku-latest",
           "gemini": "gemini-2.5-flash"}


async def collect(provider, request):
    """The texts and the end of a stream (the counts a vendor reports midway are left out)."""
    texts, ends = [], []
    async for item in provider.stream(request):
        if isinstance(item, StreamEnd):
            ends.append(item)
        elif isinstance(item, str):
            texts.append(item)
    return texts, ends


def ask(model, text="Привет! How are you?", system="Be brief."):
    return GenerationRequest(model=model, system=system, max_tokens=64,
                             messages=[ChatMessage("user", text)])


@pytest.fixture
async def providers(vendor):
    built = build_providers(vendor_providers(vendor.url))
    yield built
    for p in built.values():
        await p.aclose()


@pytest.mark.parametrize("name", VENDORS)
async def test_streams_text_then_usage_and_finish(vendor, providers, name):
    vendor.script.tokens = ["Как", " дела", "? ", "Fine", "."]
    texts, ends = await collect(providers[name], ask(VENDORS[name]))
    assert "".join(texts) == "Как дела? Fine."
    assert len(ends) == 1
    assert ends[0].usage.prompt_tokens == 11 and ends[0].usage.completion_tokens == 5
    assert ends[0].finish_reason in ("stop", "end_turn")


@pytest.mark.parametrize("name", VENDORS)
async def test_the_request_carries_model_system_prompt_and_credentials(vendor, providers, name):
    await collect(providers[name], ask(VENDORS[name], text="What is 2+2?", system="Answer in Russian."))
    sent = vendor.requests[-1]
    body, headers = sent["body"], {k.lower(): v for k, v in sent["headers"].items()}
    flat = str(body)
    assert "What is 2+2?" in flat and "Answer in Russian." in flat
    if name == "openai":
        assert body["model"] == "gpt-4o-mini" and body["stream"] is True
        assert body["stream_options"] == {"include_usage": True}
        assert body["messages"][0] == {"role": "system", "content": "Answer in Russian."}
        assert headers["authorization"] == "Bearer sk-test-openai"
    elif name == "anthropic":
        assert body["system"] == "Answer in Russian." and body["max_tokens"] == 64
        assert "anthropic-version" in headers
        assert headers.get("x-api-key") == "sk-ant-test" or "sk-ant-test" in headers.get(
            "authorization", "")
    else:
        assert sent["path"].endswith("/models/gemini-2.5-flash:streamGenerateContent")
        assert headers["x-goog-api-key"] == "g-test-key"


FAILURES = [
    ({"status": 401}, "provider_error"),
    ({"status": 400}, "provider_error"),
    ({"status": 429}, "rate_limited"),
    ({"status": 500}, "provider_unavailable"),
    ({"status": 503}, "provider_unavailable"),
    ({"drop_after": 2}, "provider_unavailable"),
    ({"malformed_after": 2}, "provider_error"),
]


@pytest.mark.parametrize("name", VENDORS)
@pytest.mark.parametrize("script,code", FAILURES)
async def test_failures_become_typed_errors(vendor, providers, name, script, code):
    for key, value in script.items():
        setattr(vendor.script, key, value)
    with pytest.raises(ChatwireError) as info:
        await collect(providers[name], ask(VENDORS[name]))
    assert info.value.code == code, info.value.message


async def test_the_sdk_retries_a_failed_request_before_the_first_token(vendor):
    built = build_providers(vendor_providers(vendor.url, max_retries=2))
    vendor.script.status, vendor.script.fail_times = 503, 1
    texts, ends = await collect(built["openai"], ask("gpt-4o-mini"))
    assert "".join(texts) == "Hello, world!" and len(vendor.requests) == 2
    await built["openai"].aclose()


async def test_providers_appear_only_when_configured():
    from providers.factory import ProviderSettings
    assert set(build_providers(ProviderSettings())) == {"echo"}
    assert "anthropic" in build_providers(ProviderSettings(anthropic_api_key="k"))
    yandex = build_providers(ProviderSettings(yandex_api_key="k", yandex_folder_id="b1g"))
    assert yandex["yandex"].model_prefix == "gpt://b1g/"


@pytest.mark.parametrize("name", VENDORS)
@pytest.mark.parametrize("status", [429, 503])
async def test_every_provider_retries_before_the_first_token_alike(vendor, name, status):
    """1 + PROVIDER_MAX_RETRIES requests on each vendor (Gemini used to be asked once)."""
    built = build_providers(vendor_providers(vendor.url, max_retries=2))
    try:
        vendor.script.status, vendor.script.fail_times = status, 2
        texts, _ = await collect(built[name], ask(VENDORS[name]))
        assert "".join(texts) == "Hello, world!" and len(vendor.requests) == 3
        vendor.requests.clear()
        vendor.failures, vendor.script.fail_times = 0, 10
        with pytest.raises(ChatwireError):
            await collect(built[name], ask(VENDORS[name]))
        assert len(vendor.requests) == 3  # then it gives up
    finally:
        await built[name].aclose()


@pytest.mark.parametrize("name", VENDORS)
async def test_a_stream_cut_midway_is_never_retried(vendor, name):
    built = build_providers(vendor_providers(vendor.url, max_retries=2))
    try:
        vendor.script.drop_after = 2
        with pytest.raises(ChatwireError):
            await collect(built[name], ask(VENDORS[name]))
        assert len(vendor.requests) == 1
    finally:
        await built[name].aclose()
