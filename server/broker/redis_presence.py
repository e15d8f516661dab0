"""Presence in Redis: devices expire on their own, so a crashed instance's sockets disappear.

Per user, a sorted set of connection ids scored by when each expires, and a hash of their details.
`chatwire:online` scores each user by their latest expiry, for counting who is online. Each
instance refreshes the expiry of its own sockets every TTL/3 (`refresh`).
"""
from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

import orjson

from protocol import dumps

from .base import compact, every, expand, stop_tasks
from .keys import ONLINE
from .keys import presence_details as _details
from .keys import presence_ids as _ids

log = logging.getLogger("chatwire.broker")
REFRESH_BATCH = 500


def _ms() -> int:
    return int(time.time() * 1000)


class RedisDevices:
    def __init__(self, redis: Any, ttl_s: float) -> None:
        self.redis = redis
        self.ttl_s = ttl_s
        self.ttl_ms = int(ttl_s * 1000)
        self._tasks: list[asyncio.Task[None]] = []
        # connection id -> (user id, device): the device dict holds the socket's own strings, so
        # an idle socket costs a few pointers here (an encoded copy would cost kilobytes).
        self.local: dict[str, tuple[str, tuple[str, ...]]] = {}

    async def start(self) -> None:
        self._tasks = [asyncio.create_task(every(self.ttl_s / 3, self.refresh, "refreshing presence"),
                                           name="redis-presence")]

    async def stop(self) -> None:
        await stop_tasks(self._tasks)

    async def add(self, user_id: str, device: dict[str, Any]) -> None:
        encoded = dumps(device)
        self.local[device["connection_id"]] = (user_id, compact(device))
        expires = _ms() + self.ttl_ms
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.zadd(_ids(user_id), {device["connection_id"]: expires})
            pipe.hset(_details(user_id), device["connection_id"], encoded)
            pipe.zadd(ONLINE, {user_id: expires}, gt=True)
            pipe.pexpire(_ids(user_id), self.ttl_ms * 2)
            pipe.pexpire(_details(user_id), self.ttl_ms * 2)
            await pipe.execute()

    async def remove(self, user_id: str, connection_id: str) -> None:
        self.local.pop(connection_id, None)
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.zrem(_ids(user_id), connection_id)
            pipe.hdel(_details(user_id), connection_id)
            pipe.zcount(_ids(user_id), _ms(), "+inf")
            left = (await pipe.execute())[-1]
        if not left:
            await self.redis.zrem(ONLINE, user_id)

    async def devices(self, user_id: str) -> list[dict[str, Any]]:
        now = _ms()
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.zrangebyscore(_ids(user_id), now, "+inf")
            pipe.zrangebyscore(_ids(user_id), "-inf", now - 1)
            alive, expired = await pipe.execute()
        if expired:  # a crashed instance's sockets: tidy them away
            async with self.redis.pipeline(transaction=False) as pipe:
                pipe.zrem(_ids(user_id), *expired)
                pipe.hdel(_details(user_id), *expired)
                await pipe.execute()
        if not alive:
            return []
        found = await self.redis.hmget(_details(user_id), alive)
        devices = [orjson.loads(d) for d in found if d is not None]
        return sorted(devices, key=lambda d: d["connected_since"])

    async def online_users(self) -> int:
        now = _ms()
        await self.redis.zremrangebyscore(ONLINE, "-inf", now - 1)
        return int(await self.redis.zcard(ONLINE))

    async def refresh(self) -> None:
        """Keep this instance's sockets alive for another TTL. Only the expiry scores are sent: a
        device's details are written again only where Redis answers that it had lost them
        (restarted empty, evicted a key, or the device expired), so an idle socket costs one ZADD
        a round instead of a fresh JSON copy of itself."""
        expires = _ms() + self.ttl_ms
        devices = list(self.local.items())
        for start in range(0, len(devices), REFRESH_BATCH):  # bounded pipelines, even at 20k sockets
            batch = devices[start:start + REFRESH_BATCH]
            async with self.redis.pipeline(transaction=False) as pipe:
                for connection_id, (user_id, _) in batch:
                    pipe.zadd(_ids(user_id), {connection_id: expires})
                    pipe.zadd(ONLINE, {user_id: expires}, gt=True)
                    pipe.pexpire(_ids(user_id), self.ttl_ms * 2)
                    pipe.pexpire(_details(user_id), self.ttl_ms * 2)
                answers = await pipe.execute()
            # a ZADD that added instead of updating, or a details hash that was not there to expire
            lost = [entry for entry, new, kept in zip(batch, answers[0::4], answers[3::4])
                    if new or not kept]
            if lost:
                async with self.redis.pipeline(transaction=False) as pipe:
                    for connection_id, (user_id, device) in lost:
                        pipe.hset(_details(user_id), connection_id, dumps(expand(device)))
                        pipe.pexpire(_details(user_id), self.ttl_ms * 2)
                    await pipe.execute()
