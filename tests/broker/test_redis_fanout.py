"""Two Chatwire instances behind a load balancer, sharing the database and Redis."""
import asyncio
import uuid

import pytest

from tests.helpers import PASSWORD, register, send_from_each


@pytest.fixture
async def two_instances(make_client, redis_url):
    # A fresh key prefix is not needed: user ids are unique per test database, so seq keys are too.
    a = await make_client(redis_url=redis_url)
    b = await make_client(redis_url=redis_url)
    return a, b


async def test_an_event_made_on_instance_a_reaches_a_socket_on_instance_b(two_instances, connect):
    a, b = two_instances
    user = await register(a, f"roamer-{uuid.uuid4().hex[:6]}@example.com")
    on_a, on_b = await connect(user, on=a), await connect(user, on=b)
    chat = await on_a.ok("chat.create", title="made on A")
    event_b = await on_b.event("chat.created")
    event_a = await on_a.event("chat.created")
    assert event_b["chat_id"] == chat["id"] and event_b["seq"] == event_a["seq"]


async def test_redis_forgetting_the_publish_script_loses_no_event_and_numbers_none_twice(
        two_instances, connect, redis_url):
    import redis.asyncio as aioredis
    a, b = two_instances
    user = await register(a, f"flushed-{uuid.uuid4().hex[:6]}@example.com")
    on_a, on_b = await connect(user, on=a), await connect(user, on=b)
    await on_a.ok("chat.create", title="before")
    before = await on_b.event("chat.created")
    client = aioredis.from_url(redis_url)
    await client.script_flush()  # as a restarted Redis, or an operator's SCRIPT FLUSH, leaves it
    await client.aclose()
    made = [await on_a.ok("chat.create", title=f"after {i}") for i in range(3)]
    heard_b = [await on_b.event("chat.created") for _ in made]  # through Redis, not A alone
    heard_a = [await on_a.event("chat.created") for _ in range(4)][1:]
    assert [e["chat_id"] for e in heard_b] == [c["id"] for c in made]
    assert [e["seq"] for e in heard_b] == [e["seq"] for e in heard_a] == [
        before["seq"] + 1, before["seq"] + 2, before["seq"] + 3]


async def test_events_from_both_instances_arrive_in_seq_order_everywhere(two_instances, connect):
    a, b = two_instances
    user = await register(a, f"busy-{uuid.uuid4().hex[:6]}@example.com")
    on_a, on_b, watcher = await connect(user, on=a), await connect(user, on=b), \
        await connect(user, on=b)
    sent_a = [await on_a.send("chat.create", title=f"a{i}") for i in range(10)]
    sent_b = [await on_b.send("chat.create", title=f"b{i}") for i in range(10)]

    async def replies(sock, rids):
        return [await sock.reply(rid) for rid in rids]

    done = await asyncio.gather(replies(on_a, sent_a), replies(on_b, sent_b))
    assert all(r["ok"] for r in done[0] + done[1])
    seqs = [(await watcher.event("chat.created"))["seq"] for _ in range(20)]
    assert seqs == sorted(seqs) and len(set(seqs)) == 20
    assert seqs[-1] - seqs[0] == 19  # no gap, no duplicate


async def test_logout_on_one_instance_closes_sockets_on_the_other(two_instances, connect):
    a, b = two_instances
    user = await register(a, f"leaver-{uuid.uuid4().hex[:6]}@example.com")
    on_b = await connect(user, on=b)
    resp = await a.post("/api/v1/auth/logout",
                        headers={"Authorization": f"Bearer {user['access_token']}"})
    assert resp.status == 204
    assert await on_b.closed() == 4401


async def test_readiness_reports_the_broker(two_instances):
    a, _ = two_instances
    resp = await a.get("/readyz")
    assert resp.status == 200
    assert (await resp.json())["checks"] == {"database": True, "broker": True}


async def test_a_reply_streamed_on_a_arrives_whole_and_in_order_on_b(two_instances, connect):
    a, b = two_instances
    user = await register(a, f"streamer-{uuid.uuid4().hex[:6]}@example.com")
    on_a, on_b = await connect(user, on=a), await connect(user, on=b)
    chat = await on_a.ok("chat.create")
    text = " ".join(f"слово{i}" for i in range(300))
    sent = await on_a.ok("message.send", chat_id=chat["id"], content=text)
    reply_id = sent["assistant_message"]["id"]
    seqs, pieces, indexes = [], [], []
    while True:
        frame = await on_b.event_any()
        seqs.append(frame["seq"])
        if frame.get("message_id") != reply_id:
            continue
        if frame["type"] == "message.delta":
            pieces.append(frame["delta"])
            indexes.append(frame["index"])
        elif frame["type"] == "message.done":
            break
    assert "".join(pieces) == text and frame["message"]["content"] == text
    assert indexes == list(range(len(indexes)))
    assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)


async def test_the_concurrent_replies_limit_holds_across_instances(make_client, redis_url,
                                                                   connect):
    from providers.factory import ProviderSettings

    slow = ProviderSettings(echo_tokens_per_second=20)
    a = await make_client(redis_url=redis_url, providers=slow, max_concurrent_generations=3)
    b = await make_client(redis_url=redis_url, providers=slow, max_concurrent_generations=3)
    user = await register(a, f"many-{uuid.uuid4().hex[:6]}@example.com")
    sockets = [await connect(user, on=a if i % 2 else b) for i in range(8)]
    started, refused = await send_from_each(sockets, " ".join(["slow"] * 60))
    assert len(started) == 3, (started, refused)
    assert {r["error"]["code"] for r in refused} == {"rate_limited"}
    await sockets[0].ok("message.stop", message_id=started[0]["data"]["assistant_message"]["id"])
    fresh = await sockets[1].ok("chat.create")  # (a chat streams one reply at a time)
    again = await sockets[1].call("message.send", chat_id=fresh["id"], content="one more")
    assert again["ok"], again  # the stopped reply's slot is free, whichever instance asks
    for answer in (*started[1:], again):
        await sockets[0].ok("message.stop", message_id=answer["data"]["assistant_message"]["id"])
    assert (await sockets[0].ok("balance.get"))["reserved"] == 0


async def test_a_password_change_on_a_closes_the_other_session_s_sockets_on_b_only(two_instances,
                                                                                  connect):
    a, b = two_instances
    email = f"pw-{uuid.uuid4().hex[:6]}@example.com"
    first = await register(a, email)
    resp = await b.post("/api/v1/auth/login", json={"email": email, "password": PASSWORD})
    second = await resp.json()
    mine_on_b, theirs_on_b = await connect(first, on=b), await connect(second, on=b)
    here = await connect(first, on=a)
    await here.ok("account.password", current_password=PASSWORD,
                  new_password="a much newer horse battery")
    assert await theirs_on_b.closed() == 4401
    assert (await mine_on_b.ok("ping"))["pong"]  # the same session, on another instance: stays
