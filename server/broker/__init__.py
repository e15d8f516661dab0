"""The broker: per-user numbered events fanned out to every socket (and kept for resume), presence,
rate-limit counters, stop requests, reply slots and catalogue changes between instances. In-process by default; Redis when several
instances share the work. See `base` for the roles."""
from __future__ import annotations

from typing import Callable

from .base import Broker, EventLog, Subscriber
from .local import (LocalCatalogue, LocalCounters, LocalDevices, LocalEvents, LocalSlots,
                    LocalStops)


def make_broker(redis_url: str | None, instance_id: str, *, on_stop: Callable[[str], None],
                on_catalogue_change: Callable[[], None] = lambda: None, history: int = 1000, history_bytes: int = 256 * 1024, history_ttl_s: float = 3600.0,
                presence_ttl_s: float = 30.0, max_connections: int = 50) -> Broker:
    """`on_stop(message_id)` stops a reply of this instance, whichever instance asked;
    `on_catalogue_change()` runs on every instance when the model catalogue changed anywhere."""
    if not redis_url:
        return Broker(events=LocalEvents(history=history, history_bytes=history_bytes,
                                         history_ttl_s=history_ttl_s),
                      presence=LocalDevices(), counters=LocalCounters(),
                      stops=LocalStops(on_stop), slots=LocalSlots(),
                      catalogue=LocalCatalogue(on_catalogue_change))
    import redis.asyncio as aioredis

    from .redis import RedisEvents
    from .redis_catalogue import RedisCatalogue
    from .redis_control import RedisStops
    from .redis_counters import RedisCounters
    from .redis_presence import RedisDevices
    from .redis_slots import RedisSlots

    # A bounded pool that makes callers wait for a free connection, rather than fail: a thousand
    # sockets closing at once (an instance restarting) is a queue, not an outage.
    pool = aioredis.BlockingConnectionPool.from_url(
        redis_url, max_connections=max_connections, timeout=10, socket_connect_timeout=5,
        socket_timeout=5, health_check_interval=10)
    client = aioredis.Redis(connection_pool=pool)
    events = RedisEvents(client, history=history, history_bytes=history_bytes,
                         history_ttl_s=history_ttl_s)
    return Broker(events=events,
                  presence=RedisDevices(client, presence_ttl_s), counters=RedisCounters(client),
                  stops=RedisStops(client, instance_id, on_stop),
                  slots=RedisSlots(client, send_later=events.send_later),
                  catalogue=RedisCatalogue(client, on_catalogue_change), redis=client)


__all__ = ["Broker", "EventLog", "Subscriber", "make_broker"]
