"""The concurrent-replies limit across instances: a leased slot per reply in Redis.

Per user, a sorted set of slot ids scored by when each lease ends (Redis's clock, so instances'
clocks need not agree). Taking one drops the expired, counts the rest and adds a slot in one
script, so eight sockets sending at once on two instances get exactly the limit. Each instance
renews the leases of its replies every `lease_s / 3`; a crashed instance's slots lapse within
`lease_s`. While Redis is away the limit holds per instance (the registry's own count).
"""
from __future__ import annotations

import asyncio
import logging
import secrets
from typing import Any, Callable

from . import keys
from .base import every, stop_tasks
from .local import HELD_HERE, HeldHere

log = logging.getLogger("chatwire.broker")

# KEYS[1] the user's slots; ARGV: limit, slot id, lease (ms). 1 if taken, 0 if full.
_TAKE = """
local t = redis.call('TIME')
local now = t[1] * 1000 + math.floor(t[2] / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[1]) then return 0 end
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[3]), ARGV[2])
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return 1
"""

# KEYS: users' slot sets; ARGV[1] the lease (ms), then per key the number of its slots and them.
_RENEW = """
local t = redis.call('TIME')
local until_ms = t[1] * 1000 + math.floor(t[2] / 1000) + tonumber(ARGV[1])
local i = 2
for k = 1, #KEYS do
  local n = tonumber(ARGV[i])
  for j = 1, n do redis.call('ZADD', KEYS[k], 'XX', until_ms, ARGV[i + j]) end
  redis.call('PEXPIRE', KEYS[k], ARGV[1])
  i = i + n + 1
end
return 1
"""


class RedisSlot:
    __slots__ = ("_owner", "user_id", "id")

    def __init__(self, owner: RedisSlots, user_id: str, slot_id: str) -> None:
        self._owner = owner
        self.user_id = user_id
        self.id = slot_id

    async def give_back(self) -> None:
        await self._owner.give_back(self)


class RedisSlots:
    def __init__(self, redis: Any, lease_s: float = 30.0,
                 send_later: Callable[..., None] | None = None) -> None:
        """`send_later(*command)`, when given, sends a slot's release with other traffic (the
        events writer's next pipeline: `RedisEvents.send_later`) instead of a round trip."""
        self._redis = redis
        self._send_later = send_later
        self.lease_ms = int(lease_s * 1000)
        self._held: dict[str, RedisSlot] = {}  # slot id -> slot: what this instance renews
        self._take: Any = None
        self._renew: Any = None
        self._tasks: list[asyncio.Task[None]] = []

    async def start(self) -> None:
        self._take = self._redis.register_script(_TAKE)
        self._renew = self._redis.register_script(_RENEW)
        self._tasks = [asyncio.create_task(every(self.lease_ms / 3000, self.renew,
                                                 "renewing reply slots"), name="redis-reply-slots")]

    async def stop(self) -> None:
        await stop_tasks(self._tasks)
        for slot in list(self._held.values()):  # replies end as the instance stops
            await self.give_back(slot, now=True)  # the events writer may be stopped already

    async def take(self, user_id: str, limit: int) -> RedisSlot | HeldHere | None:
        slot = RedisSlot(self, user_id, secrets.token_hex(8))
        try:
            taken = await self._take(keys=[keys.reply_slots(user_id)],
                                     args=[limit, slot.id, self.lease_ms])
        except Exception as exc:  # Redis is away: the limit holds on this instance alone
            log.warning("redis broker: counting replies on this instance only (%s)", exc)
            return HELD_HERE
        if not taken:
            return None
        self._held[slot.id] = slot
        return slot

    async def give_back(self, slot: RedisSlot, *, now: bool = False) -> None:
        if self._held.pop(slot.id, None) is None:
            return
        if self._send_later is not None and not now:
            self._send_later("ZREM", keys.reply_slots(slot.user_id), slot.id)
            return
        try:
            await self._redis.zrem(keys.reply_slots(slot.user_id), slot.id)
        except Exception as exc:  # its lease is no longer renewed: it lapses on its own
            log.warning("redis broker: a reply slot lapses instead of being freed (%s)", exc)

    async def renew(self) -> None:
        """Extend the lease of every slot this instance holds, in one script call."""
        by_user: dict[str, list[str]] = {}
        for slot in list(self._held.values()):
            by_user.setdefault(slot.user_id, []).append(slot.id)
        if not by_user:
            return
        args: list[Any] = [self.lease_ms]
        for ids in by_user.values():
            args += [len(ids), *ids]
        await self._renew(keys=[keys.reply_slots(u) for u in by_user], args=args)
