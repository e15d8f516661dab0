"""Stop requests between instances: each instance listens on a channel of its own, and a stop for
a reply running elsewhere is published there (a reply running here is stopped at once)."""
from __future__ import annotations

import asyncio
import logging
from typing import Any, Callable

from . import keys
from .base import stop_tasks
from .local import stop_here

log = logging.getLogger("chatwire.broker")


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
        self._tasks = [asyncio.create_task(self._read(), name="redis-stops-reader")]

    async def stop(self) -> None:
        await stop_tasks(self._tasks)
        if self._pubsub is not None:
            await self._pubsub.aclose()

    async def signal_stop(self, instance_id: str, message_id: str) -> None:
        if instance_id == self.instance_id:
            stop_here(self.on_stop, message_id)
            return
        await self._redis.publish(keys.instance_channel(instance_id), b"s" + message_id.encode())

    async def _read(self) -> None:
        failing = False
        while True:
            try:
                message = await self._pubsub.get_message(timeout=1.0)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # redis-py reconnects and re-subscribes on the next call
                if not failing:
                    log.error("redis broker: the stop channel dropped (%s); reconnecting", exc)
                failing = True
                await asyncio.sleep(0.5)
                continue
            failing = False
            if message is not None and message.get("type") == "message" and message["data"][:1] == b"s":
                stop_here(self.on_stop, message["data"][1:].decode())
