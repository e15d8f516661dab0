"""Stop requests between instances: each instance listens on a channel of its own, and a stop for
a reply running elsewhere is published there (a reply running here is stopped at once)."""
from __future__ import annotations

import asyncio
from typing import Any, Callable

from . import keys
from .base import read_channel, stop_tasks
from .local import stop_here

class RedisStops:
    def __init__(self, redis: Any, instance_id: str, on_stop: Callable[[str], None]) -> None:
        self._redis = redis
        self.instance_id = instance_id
        self.on_stop = on_stop
        self._pubsub: Any = None
        self._tasks: list[asyncio.Task[None]] = []

    async def start(self) -> None:
        self._pubsub = self._redis.pubsub(ignore_subscribe_messages=True)
        await self._pubsub.subscribe(keys.instance_channel(self.instance_id))
        self._tasks = [asyncio.create_task(read_channel(self._pubsub, self._handle, "stop channel"),
                                           name="redis-stops-reader")]

    async def stop(self) -> None:
        await stop_tasks(self._tasks)
        if self._pubsub is not None:
            await self._pubsub.aclose()

    async def signal_stop(self, instance_id: str, message_id: str) -> None:
        if instance_id == self.instance_id:
            stop_here(self.on_stop, message_id)
            return
        await self._redis.publish(keys.instance_channel(instance_id), b"s" + message_id.encode())

    def _handle(self, data: bytes) -> None:
        if data[:1] == b"s":
            stop_here(self.on_stop, data[1:].decode())
