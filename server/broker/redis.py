"""Redis broker: several instances behind a load balancer, one event order per user.

`INCR` of the user's seq and `PUBLISH` of the event run in one Lua script, so Redis orders the
publishes exactly as it numbers them, whichever instance produced each event. Each instance
subscribes to the channels of the users it has sockets for, and only those.

Every publish of this process goes through one FIFO drained by one task, which sends whatever has
queued up as one pipeline: events keep the order they were published in, and a burst of deltas
from many streams costs one round trip.
"""
from __future__ import annotations

import asyncio
import logging
from typing import Any

import orjson
import redis.asyncio as aioredis

from .base import Broker, Subscriber

log = logging.getLogger("chatwire.broker")

PREFIX = "chatwire"
_PUBLISH = """
local seq = redis.call('INCR', KEYS[1])
redis.call('PUBLISH', KEYS[2], 'e' .. seq .. ' ' .. ARGV[1])
return seq
"""


def _channel(user_id: str) -> str:
    return f"{PREFIX}:user:{user_id}"


def _seq_key(user_id: str) -> str:
    return f"{PREFIX}:seq:{user_id}"


class RedisBroker(Broker):
    def __init__(self, url: str, instance_id: str) -> None:
        super().__init__()
        self.url = url
        self.instance_id = instance_id
        self._redis: aioredis.Redis | None = None
        self._pubsub: Any = None
        self._reader: asyncio.Task[None] | None = None
        self._writer: asyncio.Task[None] | None = None
        self._script: Any = None
        self._outbox: list[tuple[str, bytes, asyncio.Future[int] | None]] = []
        self._wake = asyncio.Event()

    async def start(self) -> None:
        self._redis = aioredis.from_url(self.url, socket_connect_timeout=5)
        await self._redis.ping()
        self._script = self._redis.register_script(_PUBLISH)
        self._pubsub = self._redis.pubsub(ignore_subscribe_messages=True)
        # A channel of our own keeps the subscription connection open while no user is online.
        await self._pubsub.subscribe(f"{PREFIX}:instance:{self.instance_id}")
        self._reader = asyncio.create_task(self._read(), name="redis-broker-reader")
        self._writer = asyncio.create_task(self._write(), name="redis-broker-writer")

    async def stop(self) -> None:
        for task in (self._writer, self._reader):
            if task is not None:
                task.cancel()
                try:
                    await task
                except asyncio.CancelledError:
                    pass
        if self._pubsub is not None:
            await self._pubsub.aclose()
        if self._redis is not None:
            await self._redis.aclose()

    async def ping(self) -> bool:
        assert self._redis is not None
        return bool(await self._redis.ping())

    async def subscribe(self, sub: Subscriber) -> None:
        first = sub.user_id not in self._local
        await super().subscribe(sub)
        if first:
            await self._pubsub.subscribe(_channel(sub.user_id))

    async def unsubscribe(self, sub: Subscriber) -> None:
        await super().unsubscribe(sub)
        if sub.user_id not in self._local and self._pubsub is not None:
            await self._pubsub.unsubscribe(_channel(sub.user_id))

    async def publish(self, user_id: str, kind: str, fields: dict[str, Any]) -> int:
        done: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        self._outbox.append((user_id, orjson.dumps([kind, fields]), done))
        self._wake.set()
        return await done

    def publish_nowait(self, user_id: str, kind: str, fields: dict[str, Any]) -> None:
        self._outbox.append((user_id, orjson.dumps([kind, fields]), None))
        self._wake.set()

    async def _write(self) -> None:
        assert self._redis is not None
        while True:
            await self._wake.wait()
            self._wake.clear()
            batch, self._outbox = self._outbox, []
            if not batch:
                continue
            try:
                async with self._redis.pipeline(transaction=False) as pipe:
                    for user_id, payload, _ in batch:
                        await self._script(keys=[_seq_key(user_id), _channel(user_id)],
                                           args=[payload], client=pipe)
                    seqs = await pipe.execute()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # Redis is down: fail the waiters, drop fire-and-forget deltas
                log.exception("redis broker: publishing %d events failed", len(batch))
                for _, _, done in batch:
                    if done is not None and not done.done():
                        done.set_exception(exc)
                continue
            for (_, _, done), seq in zip(batch, seqs):
                if done is not None and not done.done():
                    done.set_result(int(seq))

    async def current_seq(self, user_id: str) -> int:
        assert self._redis is not None
        return int(await self._redis.get(_seq_key(user_id)) or 0)

    async def disconnect(self, user_id: str, code: int, reason: str) -> None:
        assert self._redis is not None
        await self._redis.publish(_channel(user_id), b"c" + orjson.dumps([code, reason]))

    async def _read(self) -> None:
        while True:
            try:
                message = await self._pubsub.get_message(timeout=1.0)
            except asyncio.CancelledError:
                raise
            except Exception:  # a dropped connection: redis-py reconnects on the next call
                log.exception("redis broker: reading the subscription failed; retrying")
                await asyncio.sleep(0.5)
                continue
            if message is None or message.get("type") != "message":
                continue
            try:
                self._dispatch(message["channel"], message["data"])
            except Exception:
                log.exception("redis broker: could not deliver a message")

    def _dispatch(self, channel: bytes, data: bytes) -> None:
        user_id = channel.decode().rsplit(":", 1)[1]
        if data[:1] == b"e":
            head, body = data[1:].split(b" ", 1)
            kind, fields = orjson.loads(body)
            self._deliver_local(user_id, int(head), kind, fields)
        elif data[:1] == b"c":
            code, reason = orjson.loads(data[1:])
            self._close_local(user_id, code, reason)
