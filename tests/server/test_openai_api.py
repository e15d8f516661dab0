"""The OpenAI-compatible face (issue 25 section 2): the official `openai` SDK, pointed at
Chatwire with a personal API key, through the generation core to each vendor's fake — streamed
and not, billed from the same credits, stored as no chat — and every refusal as the SDK's own
exception."""
import asyncio
import base64
import io

import openai
import pytest

from server.web.state import CONTEXT
from tests.fakes.vendors import Script
from tests.helpers import inside_one_window, register, until, vendor_providers

MODELS = ["gpt-4o-mini", "claude-3-5-haiku", "gemini-2.5-flash"]
HI = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Say hello"}]


def sdk(server, key):
    return openai.AsyncOpenAI(api_key=key, base_url=str(server.make_url("/v1")), max_retries=0)


async def keyed(make_client, vendor, connect, **overrides):
    server = await make_client(providers=vendor_providers(vendor.url), **overrides)
    alice = await register(server, "alice@example.com")
    sock = await connect(alice, on=server)
    return server, sock


async def new_key(sock, **params):
    made = await sock.ok("apikey.create", name=params.pop("name", "script"), **params)
    return made["key"], made["api_key"]


async def api_rows(sock):
    usage = (await sock.ok("transactions.list", kind="usage"))["transactions"]
    return [t for t in usage if t["message_id"] is None]


@pytest.mark.parametrize("model", MODELS)
async def test_a_key_streams_a_reply_billed_once_and_stored_as_no_chat(make_client, vendor,
                                                                         connect, model):
    server, sock = await keyed(make_client, vendor, connect)
    key, shown = await new_key(sock, name="IDE plugin")
    before = await sock.ok("balance.get")
    async with sdk(server, key) as client:
        stream = await client.chat.completions.create(
            model=model, messages=HI, stream=True, stream_options={"include_usage": True},
            temperature=0.2, top_p=0.9, stop=["\n\n"], max_tokens=50)
        chunks = [chunk async for chunk in stream]
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == "Hello, world!"
    assert chunks[0].choices[0].delta.role == "assistant"
    assert [c.choices[0].finish_reason for c in chunks if c.choices][-1] == "stop"
    assert chunks[-1].choices == [] and chunks[-1].usage.prompt_tokens == 11
    asked = vendor.requests[-1]["body"]
    assert "Say hello" in str(asked) and "Be brief." in str(asked)
    assert "0.2" in str(asked) and "0.9" in str(asked)  # temperature and top_p reached the vendor

    services = server.app[CONTEXT].services
    cost = services.generations.models[model].cost(11, chunks[-1].usage.completion_tokens)
    [row] = await api_rows(sock)
    assert row["amount"] == -cost and row["note"] == f"API key {shown['prefix']} ({model})"
    after = await sock.ok("balance.get")
    assert after["balance"] == before["balance"] - cost and after["reserved"] == 0
    assert await services.ledger.check() == []
    assert (await sock.ok("chat.list"))["chats"] == []
    [listed] = (await sock.ok("apikey.list"))["api_keys"]
    assert listed["last_used_at"] is not None and "key" not in listed


@pytest.mark.parametrize("model", MODELS)
async def test_a_call_without_streaming_answers_one_completion(make_client, vendor, connect,
                                                               model):
    server, sock = await keyed(make_client, vendor, connect)
    key, _ = await new_key(sock)
    async with sdk(server, key) as client:
        done = await client.chat.completions.create(model=model, messages=HI,
                                                    max_completion_tokens=20)
        listed = await client.models.list()
    assert done.choices[0].message.content == "Hello, world!"
    assert done.choices[0].finish_reason == "stop" and done.model == model
    assert done.usage.prompt_tokens == 11 and done.usage.total_tokens > 11
    assert {m.id for m in listed.data} >= set(MODELS) | {"echo"}
    assert len(await api_rows(sock)) == 1


async def test_a_key_sees_and_calls_only_its_models(make_client, vendor, connect):
    server, sock = await keyed(make_client, vendor, connect)
    key, shown = await new_key(sock, models=["gpt-4o-mini"])
    assert shown["models"] == ["gpt-4o-mini"]
    async with sdk(server, key) as client:
        assert [m.id for m in (await client.models.list()).data] == ["gpt-4o-mini"]
        with pytest.raises(openai.PermissionDeniedError) as refused:
            await client.chat.completions.create(model="claude-3-5-haiku", messages=HI)
        with pytest.raises(openai.NotFoundError) as unknown:
            await client.chat.completions.create(model="gpt-17", messages=HI)
    assert refused.value.code == "model_not_allowed" and refused.value.param == "model"
    assert unknown.value.code == "model_not_found"
    assert len(vendor.requests) == 0


async def test_a_revoked_or_expired_key_is_refused_at_once_on_every_instance(
        make_client, vendor, connect):
    server, sock = await keyed(make_client, vendor, connect)
    other = await make_client(providers=vendor_providers(vendor.url))
    key, shown = await new_key(sock)
    spare, spare_shown = await new_key(sock, expires_at="2030-01-01T00:00:00Z")
    async with sdk(other, key) as client:
        await client.chat.completions.create(model="gpt-4o-mini", messages=HI)
        await sock.ok("apikey.revoke", api_key_id=shown["id"])
        with pytest.raises(openai.AuthenticationError) as refused:
            await client.chat.completions.create(model="gpt-4o-mini", messages=HI)
        with pytest.raises(openai.AuthenticationError):
            await client.models.list()
    assert refused.value.status_code == 401 and refused.value.code == "invalid_api_key"
    db = server.app[CONTEXT].services.db
    await db.execute("UPDATE api_keys SET expires_at = ? WHERE id = ?",
                     ("2020-01-01T00:00:00.000000Z", spare_shown["id"]))
    async with sdk(other, spare) as client:
        with pytest.raises(openai.AuthenticationError):
            await client.chat.completions.create(model="gpt-4o-mini", messages=HI)
    async with sdk(other, "cwk-not-a-key") as client:
        with pytest.raises(openai.AuthenticationError):
            await client.models.list()
    resp = await other.get("/v1/models")
    assert resp.status == 401 and (await resp.json())["error"]["code"] == "invalid_api_key"


async def test_out_of_credits_or_past_the_cap_is_the_sdks_quota_error(make_client, vendor,
                                                                       connect):
    server, sock = await keyed(make_client, vendor, connect, signup_credits=0)
    key, _ = await new_key(sock)
    async with sdk(server, key) as client:
        with pytest.raises(openai.RateLimitError) as broke:
            await client.chat.completions.create(model="gpt-4o-mini", messages=HI, stream=True)
    assert broke.value.status_code == 429 and broke.value.code == "insufficient_quota"
    assert broke.value.response.headers["x-should-retry"] == "false"
    admin = server.app[CONTEXT].services
    user_id = (await sock.ok("balance.get")) and sock.hello["user"]["id"]
    await admin.ledger.credit(user_id, 100_000_000)
    capped, _ = await new_key(sock, monthly_cap=1)
    async with sdk(server, capped) as client:
        with pytest.raises(openai.RateLimitError) as over:
            await client.chat.completions.create(model="gpt-4o-mini", messages=HI)
    assert over.value.code == "insufficient_quota" and "monthly cap" in over.value.message
    assert len(vendor.requests) == 0 and (await sock.ok("balance.get"))["reserved"] == 0


async def test_a_key_has_its_own_rate_limit(make_client, vendor, connect):
    server, sock = await keyed(make_client, vendor, connect, rate_api_key_per_minute=2)
    key, _ = await new_key(sock)
    await inside_one_window()
    async with sdk(server, key) as client:
        for _ in range(2):
            await client.chat.completions.create(model="echo", messages=HI)
        with pytest.raises(openai.RateLimitError) as limited:
            await client.chat.completions.create(model="echo", messages=HI)
    assert limited.value.code == "rate_limit_exceeded"
    assert int(limited.value.response.headers["Retry-After"]) >= 1
    other, _ = await new_key(sock)  # another key of the same user has its own count
    async with sdk(server, other) as client:
        await client.chat.completions.create(model="echo", messages=HI)


@pytest.mark.parametrize("params,param", [
    ({"n": 2}, "n"),
    ({"tools": [{"type": "function", "function": {"name": "f"}}]}, "tools"),
    ({"logprobs": True}, "logprobs"),
    ({"temperature": 3}, "temperature"),
    ({"max_tokens": 0}, "max_tokens"),
    ({"max_tokens": 10**6}, "max_tokens"),
    ({"stop": ["a", "b", "c", "d", "e"]}, "stop"),
    ({"messages": []}, "messages"),
    ({"messages": [{"role": "tool", "content": "x", "tool_call_id": "1"}]}, "messages[0].tool_call_id"),
    ({"messages": [{"role": "user", "content": [
        {"type": "image_url", "image_url": {"url": "https://example.com/cat.png"}}]}]},
     "messages[0].content[0].image_url.url"),
])
async def test_what_the_server_does_not_do_is_a_bad_request_naming_the_parameter(
        make_client, vendor, connect, params, param):
    server, sock = await keyed(make_client, vendor, connect)
    key, _ = await new_key(sock)
    body = {"model": "gpt-4o-mini", "messages": HI, **params}
    async with sdk(server, key) as client:
        with pytest.raises(openai.BadRequestError) as refused:
            await client.chat.completions.create(**body)
    assert refused.value.param == param, refused.value.body
    assert len(vendor.requests) == 0 and await api_rows(sock) == []


async def test_images_go_to_vision_models_only(make_client, vendor, connect):
    server, sock = await keyed(make_client, vendor, connect)
    key, _ = await new_key(sock)
    png = base64.b64encode(b"\x89PNG\r\n\x1a\n" + b"\0" * 32).decode()
    content = [{"type": "text", "text": "What is this?"},
               {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{png}"}}]
    async with sdk(server, key) as client:
        with pytest.raises(openai.BadRequestError) as refused:
            await client.chat.completions.create(
                model="echo", messages=[{"role": "user", "content": content}])
        done = await client.chat.completions.create(
            model="gpt-4o-mini", messages=[{"role": "user", "content": content}])
    assert refused.value.param == "messages"
    assert done.choices[0].message.content == "Hello, world!"
    sent = vendor.requests[-1]["body"]["messages"][-1]["content"]
    assert sent[1]["image_url"]["url"].startswith("data:image/png;base64,")


@pytest.mark.parametrize("stream", [True, False])
async def test_a_provider_failure_charges_nothing(make_client, vendor, connect, stream):
    server, sock = await keyed(make_client, vendor, connect)
    key, _ = await new_key(sock)
    vendor.script = Script(status=400)
    before = await sock.ok("balance.get")
    async with sdk(server, key) as client:
        with pytest.raises(openai.APIStatusError) as failed:
            await client.chat.completions.create(model="gpt-4o-mini", messages=HI, stream=stream)
    assert failed.value.status_code == 502 and failed.value.code == "provider_error"
    assert await sock.ok("balance.get") == before and await api_rows(sock) == []


async def test_a_failure_mid_stream_ends_it_with_an_error_event_and_no_charge(
        make_client, vendor, connect):
    server, sock = await keyed(make_client, vendor, connect)
    key, _ = await new_key(sock)
    vendor.script = Script(tokens=["one ", "two ", "three "], drop_after=2)
    before = await sock.ok("balance.get")
    got = []
    async with sdk(server, key) as client:
        stream = await client.chat.completions.create(model="gpt-4o-mini", messages=HI,
                                                      stream=True)
        with pytest.raises(openai.APIError):
            async for chunk in stream:
                got.append(chunk.choices[0].delta.content)
    assert "one " in got
    assert await sock.ok("balance.get") == before and await api_rows(sock) == []


async def test_a_client_that_leaves_mid_reply_is_charged_for_what_was_generated(
        make_client, vendor, connect):
    server, sock = await keyed(make_client, vendor, connect)
    key, _ = await new_key(sock)
    vendor.script = Script(tokens=[f"word{i} " for i in range(200)], delay=0.02)
    async with sdk(server, key) as client:
        stream = await client.chat.completions.create(model="gpt-4o-mini", messages=HI,
                                                      stream=True)
        seen = 0
        async for _ in stream:
            seen += 1
            if seen == 5:
                break
        await stream.close()

    async def settled():
        return await api_rows(sock) and (await sock.ok("balance.get"))["reserved"] == 0
    await until(settled, timeout=10)
    [row] = await api_rows(sock)
    full = server.app[CONTEXT].services.generations.models["gpt-4o-mini"].cost(11, 400)
    assert 0 < -row["amount"] < full
    assert await server.app[CONTEXT].services.ledger.check() == []
    await asyncio.sleep(0)


async def test_malformed_requests_get_openai_shaped_errors(make_client, vendor, connect):
    server, sock = await keyed(make_client, vendor, connect, max_upload_mb=1)
    key, _ = await new_key(sock)
    bearer = {"Authorization": f"Bearer {key}"}
    resp = await server.post("/v1/chat/completions", data=b"{not json", headers=bearer)
    assert resp.status == 400 and (await resp.json())["error"]["code"] == "invalid_json"
    resp = await server.post("/v1/chat/completions", json=[1, 2], headers=bearer)
    assert resp.status == 400 and (await resp.json())["error"]["type"] == "invalid_request_error"
    resp = await server.post("/v1/chat/completions", data=io.BytesIO(b"x" * (2 * 1024 * 1024)),
                             headers=bearer)
    assert resp.status == 413
    resp = await server.post("/v1/chat/completions", json={"model": "echo", "messages": HI})
    body = await resp.json()
    assert resp.status == 401 and body["error"]["code"] == "invalid_api_key"
    resp = await server.get("/v1/models", headers={"Authorization": "Basic abc"})
    assert resp.status == 401 and set((await resp.json())["error"]) == {"message", "type",
                                                                        "param", "code"}
    resp = await server.get("/v1/models/gpt-4o-mini", headers=bearer)
    assert resp.status == 200 and (await resp.json())["owned_by"] == "openai"
    assert len(vendor.requests) == 0 and await api_rows(sock) == []
