"""Rate limits and metrics as an operator sees them."""
import uuid

import pytest

from providers.factory import ProviderSettings
from tests.helpers import PASSWORD, inside_one_window, open_socket, register, reply_events, upload


async def test_sending_faster_than_the_limit_is_refused_with_a_retry_after(make_client, alice_on,
                                                                          connect):
    strict = await make_client(rate_send_per_minute=3)
    await inside_one_window()
    alice = await alice_on(strict)
    sock = await connect(alice, on=strict)
    chat = await sock.ok("chat.create")
    for i in range(3):
        sent = await sock.ok("message.send", chat_id=chat["id"], content=f"m{i}")
        await reply_events(sock, sent["assistant_message"]["id"])
    error = await sock.error("message.send", chat_id=chat["id"], content="one too many")
    assert error["code"] == "rate_limited" and 1 <= error["retry_after"] <= 60
    assert len((await sock.ok("message.list", chat_id=chat["id"]))["messages"]) == 6  # nothing stored


async def test_uploads_and_sign_ups_have_their_own_limits(make_client):
    strict = await make_client(rate_uploads_per_hour=2, rate_auth_per_minute=3)
    await inside_one_window(3600)
    await inside_one_window(60)
    users = [await register(strict, f"u{i}@example.com") for i in range(2)]
    resp = await strict.post("/api/v1/auth/login", json={"email": "u0@example.com",
                                                         "password": PASSWORD})
    assert resp.status == 200
    resp = await strict.post("/api/v1/auth/register", json={"email": "u9@example.com",
                                                            "password": PASSWORD})
    assert resp.status == 429 and int(resp.headers["Retry-After"]) >= 1
    assert (await resp.json())["error"]["code"] == "rate_limited"
    for _ in range(2):
        assert (await upload(strict, users[0], "a.txt", b"hello"))[0] == 201
    status, body = await upload(strict, users[0], "a.txt", b"hello")
    assert status == 429 and body["error"]["code"] == "rate_limited"
    assert (await upload(strict, users[1], "a.txt", b"hello"))[0] == 201  # per user


@pytest.mark.redis
async def test_a_limit_holds_across_instances_with_redis(make_client, redis_url):
    a = await make_client(redis_url=redis_url, rate_send_per_minute=2)
    b = await make_client(redis_url=redis_url, rate_send_per_minute=2)
    await inside_one_window()
    user = await register(a, f"limit-{uuid.uuid4().hex[:8]}@example.com")
    on_a, on_b = await open_socket(a, user), await open_socket(b, user)
    chats = [await on_a.ok("chat.create") for _ in range(3)]  # a chat streams one reply at a time
    await on_a.ok("message.send", chat_id=chats[0]["id"], content="one")
    await on_b.ok("message.send", chat_id=chats[1]["id"], content="two")
    assert (await on_a.error("message.send", chat_id=chats[2]["id"], content="three"))[
        "code"] == "rate_limited"


@pytest.mark.redis
async def test_failed_log_ins_count_across_instances_with_redis(make_client, redis_url):
    a = await make_client(redis_url=redis_url)
    b = await make_client(redis_url=redis_url)
    await inside_one_window(15 * 60)
    email = f"guessed-{uuid.uuid4().hex[:8]}@example.com"
    await register(a, email)

    async def log_in(client, password):
        return (await client.post("/api/v1/auth/login",
                                  json={"email": email, "password": password})).status
    assert [await log_in(c, "wrong guess") for c in (a, b, a, b, a)] == [401] * 5
    assert await log_in(b, PASSWORD) == 429  # five failures on two instances: locked on both
    assert await log_in(a, PASSWORD) == 429


async def test_a_successful_log_in_starts_the_failure_count_over(client, alice):
    await inside_one_window(15 * 60)

    async def log_in(password):
        return (await client.post("/api/v1/auth/login", json={"email": "alice@example.com",
                                                               "password": password})).status
    assert [await log_in("wrong guess") for _ in range(4)] == [401] * 4
    assert await log_in(PASSWORD) == 200
    assert [await log_in("wrong guess") for _ in range(4)] == [401] * 4
    assert await log_in(PASSWORD) == 200

async def scrape(client):
    body = await (await client.get("/metrics")).text()
    return {line.split(" ")[0]: float(line.split(" ")[1]) for line in body.splitlines()
            if line and not line.startswith("#")}


async def test_metrics_show_the_tokens_of_a_streamed_reply(make_client, alice_on, connect):
    client = await make_client(providers=ProviderSettings(echo_tokens_per_second=40))
    sock = await connect(await alice_on(client), on=client)
    chat = await sock.ok("chat.create")
    before = await scrape(client)
    chunks = 'chatwire_streamed_chunks_total{model="echo"}'
    sent = await sock.ok("message.send", chat_id=chat["id"],
                         content="count these words please, " * 6)
    await sock.event("message.delta")
    during = await scrape(client)  # mid-reply: the chunks so far, and a reply streaming
    assert during["chatwire_generations_streaming"] >= 1
    assert during[chunks] > before.get(chunks, 0)
    await reply_events(sock, sent["assistant_message"]["id"])
    lines = await scrape(client)
    assert lines["chatwire_generations_streaming"] == 0
    assert lines[chunks] > during[chunks]
    assert lines['chatwire_tokens_total{kind="completion",model="echo"}'] >= 4
    assert lines['chatwire_generations_total{model="echo",status="complete"}'] >= 1
    assert lines["chatwire_open_sockets"] >= 1
    assert any(k.startswith("chatwire_provider_first_token_seconds_bucket") for k in lines)
    assert lines['chatwire_ledger_operations_total{kind="settle"}'] >= 1


async def test_metrics_can_require_a_token(make_client):
    guarded = await make_client(metrics_token="m" * 32)
    assert (await guarded.get("/metrics")).status == 401
    resp = await guarded.get("/metrics", headers={"Authorization": "Bearer " + "m" * 32})
    assert resp.status == 200 and "chatwire_open_sockets" in await resp.text()


async def _log_in_from(client, address):
    return (await client.post("/api/v1/auth/login", headers={"X-Forwarded-For": address},
                              json={"email": "nobody@example.com", "password": PASSWORD})).status


async def test_behind_a_trusted_proxy_each_client_address_has_its_own_auth_limit(make_client):
    proxied = await make_client(rate_auth_per_minute=2, forwarded_allow_ips=("127.0.0.1",))
    await inside_one_window()
    assert [await _log_in_from(proxied, "203.0.113.7") for _ in range(3)] == [401, 401, 429]
    assert await _log_in_from(proxied, "198.51.100.2") == 401  # another user behind the proxy
    # A client cannot pose as someone else by prepending a forged hop: the proxy's own hop counts.
    assert await _log_in_from(proxied, "198.51.100.99, 203.0.113.7") == 429


async def test_without_a_trusted_proxy_x_forwarded_for_is_ignored(make_client):
    direct = await make_client(rate_auth_per_minute=2)
    await inside_one_window()
    statuses = [await _log_in_from(direct, f"203.0.113.{i}") for i in range(3)]
    assert statuses == [401, 401, 429]  # a made-up address per request changes nothing


async def test_behind_any_proxy_a_rotated_forwarded_header_does_not_dodge_the_limit(make_client):
    # FORWARDED_ALLOW_IPS=* as the compose file once shipped, with the header shape nginx's
    # $proxy_add_x_forwarded_for makes: what the client wrote, then the address nginx saw.
    proxied = await make_client(rate_auth_per_minute=3, forwarded_allow_ips=("*",))
    await inside_one_window()
    statuses = [await _log_in_from(proxied, f"198.51.100.{i}, 203.0.113.7") for i in range(26)]
    assert statuses[:3] == [401, 401, 401] and set(statuses[3:]) == {429}
    assert await _log_in_from(proxied, "203.0.113.8") == 401  # someone else behind nginx


async def test_writes_per_user_are_limited_and_a_refused_write_changes_nothing(make_client):
    from tests.helpers import open_socket, register

    strict = await make_client(rate_write_per_minute=5)
    await inside_one_window()
    user = await register(strict, "writer@example.com")
    sock = await open_socket(strict, user)
    for i in range(5):
        await sock.ok("chat.create", title=f"chat {i}", system_prompt="x" * 19_000)
    refused = await sock.error("chat.create", title="one too many")
    assert refused["code"] == "rate_limited" and refused["retry_after"] >= 1
    assert (await sock.error("profile.update", interests=[{"text": "chess"}]))["code"] == "rate_limited"
    chats = (await sock.ok("chat.list", limit=50))["chats"]
    assert len(chats) == 5 and "one too many" not in {c["title"] for c in chats}
    assert (await sock.ok("profile.get"))["profile"]["interests"] == []
    other = await register(strict, "other@example.com")  # per user: someone else still writes
    assert (await (await open_socket(strict, other)).ok("chat.create"))["title"] == ""


async def test_profile_analyses_are_limited_per_hour(make_client):
    from tests.helpers import open_socket, register

    strict = await make_client(rate_analyze_per_hour=2)
    await inside_one_window(3600)
    user = await register(strict, "analyst@example.com")
    sock = await open_socket(strict, user)
    for _ in range(2):
        await sock.ok("profile.analyze", text="I love chess")
    assert (await sock.error("profile.analyze", text="I love chess"))["code"] == "rate_limited"


async def test_metrics_on_postgresql_without_a_token_answer_only_this_host(make_client, settings):
    server = await make_client()
    resp = await server.get("/metrics")
    assert resp.status == 200  # a scraper on loopback, on either engine
    relayed = await server.get("/metrics", headers={"X-Forwarded-For": "203.0.113.5"})
    if settings.is_postgres:  # a deployment: what a proxy relays from elsewhere is refused
        assert relayed.status == 403
        assert (await relayed.json())["error"]["code"] == "forbidden"
    else:  # the embedded default, on one's own machine
        assert relayed.status == 200
