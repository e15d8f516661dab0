"""One user, sockets on two instances sharing PostgreSQL and Redis: the same events everywhere,
resume on either instance, stop from either, presence across both."""
import asyncio
import random
import uuid

import pytest

from providers.factory import ProviderSettings
from tests.helpers import (collect, deltas_of, drain, make_admin, open_socket, read_until_done,
                           register, until)


@pytest.fixture
async def pair(make_client, redis_url):
    echo = ProviderSettings(echo_tokens_per_second=80)
    a = await make_client(redis_url=redis_url, instance_id=f"a-{uuid.uuid4().hex[:6]}", providers=echo)
    b = await make_client(redis_url=redis_url, instance_id=f"b-{uuid.uuid4().hex[:6]}", providers=echo)
    return a, b


async def new_user(instance):
    return await register(instance, f"u-{uuid.uuid4().hex[:8]}@example.com")


async def test_both_instances_see_identical_event_sequences(pair):
    a, b = pair
    user = await new_user(a)
    on_a, on_b = await open_socket(a, user), await open_socket(b, user)
    await on_a.ok("ping")
    await on_b.ok("ping")
    chat = await on_a.ok("chat.create", title="made on A")
    await on_b.ok("chat.update", chat_id=chat["id"], favorite=True)
    for starter in (on_a, on_b):
        sent = await starter.ok("message.send", chat_id=chat["id"], content="one two three four five")
        await read_until_done(on_a, sent["assistant_message"]["id"])
        await read_until_done(on_b, sent["assistant_message"]["id"])
    await drain(on_a)
    await drain(on_b)

    def events(sock):
        return [(f["seq"], f["type"], f.get("delta")) for f in sock.frames
                if "seq" in f and f["type"] != "presence.changed"]
    assert events(on_a) == events(on_b)
    seqs = [f["seq"] for f in on_a.frames if "seq" in f]
    assert seqs == list(range(seqs[0], seqs[-1] + 1))
    assert sum(1 for e in events(on_a) if e[1] == "message.done") == 2


async def test_resume_on_the_other_instance_replays_from_redis(pair):
    a, b = pair
    user = await new_user(a)
    on_a = await open_socket(a, user)
    await on_a.ok("ping")
    chat = await on_a.ok("chat.create")
    words = " ".join(f"t{i}" for i in range(30))
    sent = await on_a.ok("message.send", chat_id=chat["id"], content=words)
    reply_id = sent["assistant_message"]["id"]
    await deltas_of(on_a, reply_id, 2)  # some of the reply reaches A, then its network drops
    await on_a.ws.close()
    seen = list(on_a.frames)
    last = max(f["seq"] for f in seen if "seq" in f)
    again = await open_socket(b, user, f"/ws?last_seq={last}")
    await read_until_done(again, reply_id)
    seqs, text, final = collect(seen + again.frames[1:], reply_id)
    assert seqs == list(range(seqs[0], seqs[-1] + 1))
    assert text == words and final["message"]["content"] == words


async def test_stop_sent_to_the_other_instance_stops_the_reply(pair):
    a, b = pair
    user = await new_user(a)
    on_a, on_b = await open_socket(a, user), await open_socket(b, user)
    chat = await on_a.ok("chat.create")
    sent = await on_a.ok("message.send", chat_id=chat["id"], content=" ".join(["long"] * 200))
    reply_id = sent["assistant_message"]["id"]
    await deltas_of(on_a, reply_id, 2)  # it has written something
    stopped = await on_b.ok("message.stop", message_id=reply_id)
    assert stopped["message"]["status"] == "stopped"
    assert 0 < len(stopped["message"]["content"]) < len(" ".join(["long"] * 200))
    event = await on_a.event("message.stopped")
    assert event["message"]["content"] == stopped["message"]["content"]
    other = await new_user(a)  # someone else cannot stop it, on either instance
    assert (await (await open_socket(b, other)).error("message.stop", message_id=reply_id))[
        "code"] == "not_found"


async def test_presence_spans_instances_and_admins_count_who_is_online(pair):
    a, b = pair
    user = await new_user(a)
    on_a = await open_socket(a, user)
    on_b = await open_socket(b, user)
    devices = (await on_a.ok("presence.get"))["devices"]
    assert {d["connection_id"] for d in devices} == {on_a.hello["connection_id"],
                                                     on_b.hello["connection_id"]}
    assert len({d["instance"] for d in devices}) == 2
    token = await make_admin(a)
    resp = await b.get("/api/v1/admin/presence", headers={"Authorization": f"Bearer {token}"})
    body = await resp.json()
    assert resp.status == 200 and body["online_users"] >= 1
    denied = await b.get("/api/v1/admin/presence",
                         headers={"Authorization": f"Bearer {user['access_token']}"})
    assert denied.status == 403
    await on_b.ws.close()

    async def only_a():
        devices = (await on_a.ok("presence.get"))["devices"]
        return [d["connection_id"] for d in devices] == [on_a.hello["connection_id"]]
    await until(only_a, interval=0.05, what="B's socket to leave the presence list")


async def test_random_drops_and_reconnects_lose_and_repeat_nothing(pair):
    """The checker: many replies, sockets dropped at random moments, each reconnecting to a random
    instance with resume. Every reply reassembled from the deltas equals the stored message."""
    rng = random.Random(7)
    a, b = pair
    user = await new_user(a)
    driver = await open_socket(a, user)
    await driver.ok("ping")
    chat = await driver.ok("chat.create")
    for run in range(6):
        words = " ".join(f"r{run}w{i}" for i in range(rng.randint(10, 40)))
        reader = await open_socket(rng.choice(pair), user, ignore=frozenset())
        await reader.ok("ping")
        sent = await driver.ok("message.send", chat_id=chat["id"], content=words)
        reply_id = sent["assistant_message"]["id"]
        frames: list = []
        done = False
        while not done:
            await asyncio.sleep(rng.uniform(0.02, 0.2))  # time passing is the point: drop at random
            while True:  # what has arrived so far
                try:
                    frame = await reader._next_frame(timeout=0.01)
                except asyncio.TimeoutError:
                    break
                frames.append(frame)
                done = done or (frame.get("message_id") == reply_id and frame["type"] == "message.done")
            if done:
                break
            await reader.ws.close()  # the network drops
            last = max((f["seq"] for f in frames if "seq" in f), default=reader.hello["last_seq"])
            reader = await open_socket(rng.choice(pair), user, f"/ws?last_seq={last}",
                                       ignore=frozenset())
        seqs, text, final = collect(frames, reply_id)
        assert seqs == list(range(seqs[0], seqs[-1] + 1)), f"run {run}: gap or duplicate"
        stored = (await driver.ok("message.list", chat_id=chat["id"]))["messages"][-1]
        assert text == stored["content"] == words, f"run {run}"
        await reader.ws.close()


async def test_a_device_redis_lost_is_written_again_by_the_next_refresh(make_client, redis_url):
    """Redis restarted empty (or evicted the keys): the instance's next presence refresh puts its
    sockets back, details and all, though a refresh otherwise only renews their expiry."""
    import redis.asyncio as aioredis

    from server.broker.redis_presence import _details, _ids
    from server.web.state import CONTEXT
    a = await make_client(redis_url=redis_url)  # the heartbeat's first refresh is 10 s away
    user = await new_user(a)
    sock = await open_socket(a, user)
    connection_id = sock.hello["connection_id"]
    assert [d["connection_id"] for d in (await sock.ok("presence.get"))["devices"]] == [connection_id]
    client = aioredis.Redis.from_url(redis_url)
    try:
        user_id = sock.hello["user"]["id"]
        for lose in ([_ids(user_id), _details(user_id)], [_details(user_id)]):
            await client.delete(*lose)
            assert (await sock.ok("presence.get"))["devices"] == []
            await a.server.app[CONTEXT].services.broker.presence.refresh()  # what the heartbeat runs
            devices = (await sock.ok("presence.get"))["devices"]
            assert [d["connection_id"] for d in devices] == [connection_id]
            assert devices[0]["connected_since"] and devices[0]["instance"]
    finally:
        await client.aclose()
