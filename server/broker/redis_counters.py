"""Rate-limit counters in Redis, shared by every instance; counted on this instance alone while
Redis is away (a limit then holds per instance until it is back)."""
from __future__ import annotations

import logging
import time
from typing import Any

from . import keys
from .local import LocalCounters

log = logging.getLogger("chatwire.broker")


class RedisCounters:
    def __init__(self, redis: Any) -> None:
        self._redis = redis
        self._fallback = LocalCounters()

    async def count(self, key: str, window_s: int, by: int = 1) -> tuple[int, float]:
        """Count `by` hits (0: just look) in the current window: (hits so far, seconds left)."""
        now = time.time()
        start = int(now // window_s) * window_s
        name = keys.window(key, window_s, start)
        try:
            if not by:
                hits = await self._redis.get(name)
            else:
                async with self._redis.pipeline(transaction=True) as pipe:
                    pipe.incrby(name, by)
                    pipe.expire(name, window_s + 1)
                    hits, _ = await pipe.execute()
        except Exception as exc:  # Redis is away: count on this instance alone
            log.warning("redis broker: counting %s on this instance only (%s)", key, exc)
            return self._fallback.count_now(key, window_s, by)
        return int(hits or 0), start + window_s - now

    async def forget(self, key: str, window_s: int) -> None:
        """Start the current window of `key` over from zero (here and in Redis)."""
        start = int(time.time() // window_s) * window_s
        self._fallback.forget_now(key, window_s)
        try:
            await self._redis.delete(keys.window(key, window_s, start))
        except Exception as exc:
            log.warning("redis broker: could not reset %s (%s)", key, exc)
