"""The model catalogue changed: one channel every instance listens on, so an admin's edit on one
reaches them all (each reloads the catalogue from the database and tells its sockets)."""
from __future__ import annotations

import asyncio
from typing import Any, Callable

from . import keys
from .base import read_channel, stop_tasks
from .local import catalogue_changed_here

class RedisCatalogue:
    def __init__(self, redis: Any, on_change: Callable[[], None]) -> None:
        self._redis = redis
        self.on_change = on_change
        self._pubsub: Any = None
        self._tasks: list[asyncio.Task[None]] = []

    async def start(self) -> None:
        self._pubsub = self._redis.pubsub(ignore_subscribe_messages=True)
        await self._pubsub.subscribe(keys.CATALOGUE)
        # After a drop, a change published meanwhile is lost: reload once the channel is back.
        self._tasks = [asyncio.create_task(
            read_channel(self._pubsub, lambda _: self._changed_here(), "catalogue channel",
                         on_back=self._changed_here), name="redis-catalogue-reader")]

    async def stop(self) -> None:
        await stop_tasks(self._tasks)
        if self._pubsub is not None:
            await self._pubsub.aclose()

    def _changed_here(self) -> None:
        catalogue_changed_here(self.on_change)

    async def changed(self) -> None:
        """Every instance (this one too, through the channel) hears of it."""
        await self._redis.publish(keys.CATALOGUE, b"c")
