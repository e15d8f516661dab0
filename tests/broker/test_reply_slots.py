"""The concurrent-replies limit across instances: leased slots in Redis."""
import asyncio
import uuid

import pytest

from server.broker.local import HELD_HERE
from server.broker.redis_slots import RedisSlots


@pytest.fixture
async def redis(redis_url):
    import redis.asyncio as aioredis

    client = aioredis.Redis.from_url(redis_url)
    yield client
    await client.aclose()


async def started(client, lease_s=30.0):
    slots = RedisSlots(client, lease_s=lease_s)
    await slots.start()
    return slots


async def test_two_instances_share_one_limit_and_a_slot_given_back_is_free_again(redis):
    a, b = await started(redis), await started(redis)
    user = uuid.uuid4().hex
    try:
        taken = await asyncio.gather(*[(a if i % 2 else b).take(user, 3) for i in range(8)])
        held = [slot for slot in taken if slot is not None]
        assert len(held) == 3 and HELD_HERE not in held
        assert await a.take(user, 3) is None
        await held[0].give_back()
        await held[0].give_back()  # twice frees one place, not two
        again = await b.take(user, 3)
        assert again is not None and await a.take(user, 3) is None
        assert await a.take(uuid.uuid4().hex, 3) is not None  # another user is not counted
    finally:
        await a.stop()
        await b.stop()


async def test_a_crashed_instance_s_slots_lapse_but_a_live_one_s_are_renewed(redis):
    live = await started(redis, lease_s=0.6)  # renews every 0.2 s
    crashed = RedisSlots(redis, lease_s=0.6)
    await crashed.start()
    user = uuid.uuid4().hex
    try:
        assert await live.take(user, 2) is not None
        assert await crashed.take(user, 2) is not None
        for task in crashed._tasks:  # the instance dies: nothing renews or frees its slot
            task.cancel()
        assert await live.take(user, 2) is None
        await asyncio.sleep(1.2)  # two leases: the live slot was renewed, the dead one lapsed
        assert await live.take(user, 2) is not None
        assert await live.take(user, 2) is None
    finally:
        await live.stop()


async def test_while_redis_is_away_a_slot_is_held_on_this_instance_alone():
    import redis.asyncio as aioredis

    client = aioredis.Redis.from_url("redis://127.0.0.1:1/0", socket_connect_timeout=0.2)
    slots = RedisSlots(client)
    await slots.start()
    try:
        assert await slots.take("u-1", 3) is HELD_HERE  # the registry's own count is the limit
    finally:
        await slots.stop()
        await client.aclose()
