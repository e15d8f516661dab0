"""A user's events of one batch through Redis: one script call and one message, each event still
numbered, kept and replayed on its own (server/broker/redis.py)."""
import asyncio
import uuid

import orjson
import pytest

from server.broker import keys
from server.broker.redis import PER_CALL, RedisEvents
from tests.helpers import drain, open_socket, read_until_done, register


@pytest.fixture
async def redis(redis_url):
    import redis.asyncio as aioredis

    client = aioredis.Redis.from_url(redis_url)
    yield client
    await client.aclose()


@pytest.fixture
async def pair(make_client, redis_url):
    a = await make_client(redis_url=redis_url, instance_id=f"a-{uuid.uuid4().hex[:6]}")
    b = await make_client(redis_url=redis_url, instance_id=f"b-{uuid.uuid4().hex[:6]}")
    return a, b


async def listen(redis, user_id):
    """What Redis itself carries on the user's channel, message by message."""
    pubsub = redis.pubsub()
    await pubsub.subscribe(keys.channel(user_id))
    while (await pubsub.get_message(timeout=1.0) or {}).get("type") != "subscribe":
        pass  # Redis has the subscription: nothing published from now on is missed
    heard: list[bytes] = []

    async def read():
        while True:
            message = await pubsub.get_message(timeout=1.0)
            if message is not None and message["type"] == "message":
                heard.append(message["data"])
    task = asyncio.ensure_future(read())
    return heard, task, pubsub


def kinds(message: bytes) -> list[str]:
    head, body = message[1:].split(b" ", 1)
    return [orjson.loads(p)[0] for p in body.split(b"\n")]


async def test_a_sends_announcements_are_one_message_and_reach_the_other_instance_in_order(
        pair, redis):
    a, b = pair
    user = await register(a, f"batched-{uuid.uuid4().hex[:6]}@example.com")
    on_a, on_b = await open_socket(a, user), await open_socket(b, user)
    await on_a.ok("ping")
    await on_b.ok("ping")
    chat = await on_a.ok("chat.create", title="named")
    heard, task, pubsub = await listen(redis, user["user"]["id"])
    try:
        sent = await on_a.ok("message.send", chat_id=chat["id"], content="one two")
        reply_id = sent["assistant_message"]["id"]
        await read_until_done(on_a, reply_id)
        await read_until_done(on_b, reply_id)
        await drain(on_a)
        await drain(on_b)
    finally:
        task.cancel()
        await pubsub.aclose()

    def events(sock):
        return [(f["seq"], f["type"]) for f in sock.frames
                if "seq" in f and f["type"] != "presence.changed" and f["seq"] > chat_seq]
    chat_seq = next(f["seq"] for f in on_a.frames if f["type"] == "chat.created")
    seen = events(on_b)
    assert seen == events(on_a)
    assert [seq for seq, _ in seen] == list(range(chat_seq + 1, chat_seq + 1 + len(seen)))
    assert [kind for _, kind in seen[:4]] == ["message.created", "message.created",
                                              "chat.updated", "balance.updated"]
    assert [kind for _, kind in seen[-2:]] == ["message.done", "balance.updated"]
    # What Redis carried: the four announcements in one message; the end and the balance after it
    # in one (with the last deltas, when they came in the same turn); every event exactly once.
    assert heard[0][:1] == b"E" and kinds(heard[0]) == [kind for _, kind in seen[:4]]
    assert int(heard[0][1:].split(b" ", 1)[0]) == chat_seq + 1
    assert heard[-1][:1] == b"E" and kinds(heard[-1])[-2:] == ["message.done", "balance.updated"]
    assert [kind for message in heard for kind in kinds(message)] == [kind for _, kind in seen]


async def test_a_resume_from_inside_a_batch_replays_the_rest_of_it(pair):
    a, b = pair
    user = await register(a, f"resumer-{uuid.uuid4().hex[:6]}@example.com")
    on_a = await open_socket(a, user)
    await on_a.ok("ping")
    chat = await on_a.ok("chat.create")
    sent = await on_a.ok("message.send", chat_id=chat["id"], content="three four")
    reply_id = sent["assistant_message"]["id"]
    await read_until_done(on_a, reply_id)
    await drain(on_a)
    numbered = [(f["seq"], f["type"]) for f in on_a.frames if f.get("seq")]
    first_created = next(seq for seq, kind in numbered if kind == "message.created")
    again = await open_socket(b, user, f"/ws?last_seq={first_created}")  # lost after the first
    await read_until_done(again, reply_id)
    await drain(again)
    replayed = [(f["seq"], f["type"]) for f in again.frames if f.get("seq")]
    assert replayed == [(seq, kind) for seq, kind in numbered if seq > first_created]


async def test_batched_events_keep_the_history_bounds(redis):
    events = RedisEvents(redis, history=3)
    await events.start()
    user = uuid.uuid4().hex
    try:
        for i in range(5):
            events.publish_nowait(user, "chat.updated", {"n": i})
        last = await events.publish(user, "chat.updated", {"n": 5})
        assert last == 6
        assert await redis.xlen(keys.stream(user)) == 3
        assert await events.replay(user, 0) is None  # the oldest three are gone
        kept = await events.replay(user, 3)
        assert [seq for seq, _ in kept] == [4, 5, 6]
        assert [orjson.loads(frame)["n"] for _, frame in kept] == [3, 4, 5]
    finally:
        await events.stop()


async def test_more_events_than_one_call_takes_are_numbered_on_without_a_gap(redis):
    events = RedisEvents(redis)
    await events.start()
    user, other = uuid.uuid4().hex, uuid.uuid4().hex
    count = PER_CALL * 2 + 7
    try:
        for i in range(count):
            events.publish_nowait(user, "message.delta", {"index": i})
            if i % 50 == 0:
                events.publish_nowait(other, "chat.updated", {"index": i})
        assert await events.publish(user, "message.done", {}) == count + 1
        kept = await events.replay(user, 0)
        assert [seq for seq, _ in kept] == list(range(1, count + 2))
        assert [orjson.loads(f).get("index") for _, f in kept[:-1]] == list(range(count))
        assert [seq for seq, _ in await events.replay(other, 0)] == [1, 2, 3, 4, 5]  # 0, 50 … 200
    finally:
        await events.stop()


async def test_a_slot_given_back_through_the_events_writer_is_free_again(redis):
    from server.broker.redis_slots import RedisSlots

    events = RedisEvents(redis)
    await events.start()
    slots = RedisSlots(redis, send_later=events.send_later)
    await slots.start()
    user = uuid.uuid4().hex
    try:
        slot = await slots.take(user, 1)
        assert slot is not None and await slots.take(user, 1) is None  # the limit holds
        await slot.give_back()  # queued for the writer's next pipeline, with this user's event
        await events.publish(user, "message.done", {})
        assert await redis.zcard(keys.reply_slots(user)) == 0
        again = await slots.take(user, 1)
        assert again is not None
        await slots.stop()  # what is still held at shutdown is given back at once
        assert await redis.zcard(keys.reply_slots(user)) == 0
    finally:
        await events.stop()
