"""Per-user event fan-out: assigns each user's events an increasing `seq` and delivers the encoded
frame to every socket of that user. In-process by default; Redis when several instances share work."""
from __future__ import annotations

from typing import Callable

from .base import Broker, Subscriber
from .local import MemoryBroker


def make_broker(redis_url: str | None, instance_id: str, *,
                on_stop: Callable[[str], None] | None = None, history: int = 1000,
                history_ttl_s: float = 3600.0, presence_ttl_s: float = 30.0) -> Broker:
    """`on_stop(message_id)` stops a reply of this instance when any instance asks."""
    if redis_url:
        from .redis import RedisBroker

        return RedisBroker(redis_url, instance_id, on_stop=on_stop, history=history,
                           history_ttl_s=history_ttl_s, presence_ttl_s=presence_ttl_s)
    return MemoryBroker(on_stop=on_stop, history=history, history_ttl_s=history_ttl_s)


__all__ = ["Broker", "MemoryBroker", "Subscriber", "make_broker"]
