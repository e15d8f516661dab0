"""The model catalogue changed: one channel every instance listens on, so an admin's edit on one
reaches them all (each reloads the catalogue from the database and tells its sockets)."""
from __future__ import annotations

import asyncio
import logging
from typing import Any, Callable

from . import keys
from .base import stop_tasks
from .local import catalogue_changed_here

log = logging.getLogger("chatwire.broker")


class RedisCatalogue:
    def __init__(self, redis: Any, on_change: Callable[[], None]) -> None:
        self._redis = redis
        self.on_change = on_change
        self._pubsub: Any = None
        self._tasks: list[asyncio.Task[None]] = []

    async def start(self) -> None:
        self._pubsub = self._redis.pubsub(ignore_subscribe_messages=True)
        await self._pubsub.subscribe(keys.CATALOGUE)
        self._tasks = [asyncio.create_task(self._read(), name="redis-catalogue-reader")]

    async def stop(self) -> None:
        await stop_tasks(self._tasks)
        if self._pubsub is not None:
            await self._pubsub.aclose()

    async def changed(self) -> None:
        """Every instance (this one too, through the channel) hears of it."""
        await self._redis.publish(keys.CATALOGUE, b"c")

    async def _read(self) -> None:
        failing = False
        while True:
            try:
                message = await self._pubsub.get_message(timeout=1.0)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # redis-py reconnects and re-subscribes on the next call
                if not failing:
                    log.error("redis broker: the catalogue channel dropped (%s); reconnecting", exc)
                    # A change published meanwhile is lost: reload once the channel is back.
                failing = True
                await asyncio.sleep(0.5)
                continue
            if failing:
                failing = False
                catalogue_changed_here(self.on_change)
            if message is not None and message.get("type") == "message":
                catalogue_changed_here(self.on_change)
