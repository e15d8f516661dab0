"""Rate limits per user (sending, uploading) and per address (signing up and in).

Fixed windows counted by the broker: in Redis, so a limit holds across every instance; in
process without it. Going over answers `rate_limited` with `retry_after` (seconds to the next
window). A limit of 0 turns it off.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Protocol

from protocol.errors import RateLimited
from server import metrics


class Counter(Protocol):
    async def count(self, key: str, window_s: int) -> tuple[int, float]: ...


@dataclass(frozen=True)
class LimitSettings:
    sends_per_minute: int = 30
    uploads_per_hour: int = 100
    auth_per_minute: int = 20


class Limits:
    def __init__(self, counter: Counter, settings: LimitSettings) -> None:
        self.counter = counter
        self.settings = settings

    async def send(self, user_id: str) -> None:
        await self._check("send", user_id, self.settings.sends_per_minute, 60,
                          "messages a minute")

    async def upload(self, user_id: str) -> None:
        await self._check("upload", user_id, self.settings.uploads_per_hour, 3600,
                          "uploads an hour")

    async def auth(self, address: str) -> None:
        await self._check("auth", address, self.settings.auth_per_minute, 60,
                          "sign-up and log-in attempts a minute from one address")

    async def _check(self, name: str, subject: str, limit: int, window_s: int, what: str) -> None:
        if limit <= 0:
            return
        hits, left = await self.counter.count(f"{name}:{subject}", window_s)
        if hits > limit:
            metrics.RATE_LIMITED.labels(name).inc()
            raise RateLimited(f"at most {limit} {what}; try again in {math.ceil(left)} s",
                              retry_after=max(1, math.ceil(left)), limit=name)
