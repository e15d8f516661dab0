"""Per-user event fan-out: assigns each user's events an increasing `seq` and delivers the encoded
frame to every socket of that user. In-process by default; Redis when several instances share work."""
from __future__ import annotations

from .base import Broker, Subscriber
from .local import MemoryBroker


def make_broker(redis_url: str | None, instance_id: str, *, history: int = 1000,
                history_ttl_s: float = 3600.0, presence_ttl_s: float = 30.0) -> Broker:
    if redis_url:
        from .redis import RedisBroker

        return RedisBroker(redis_url, instance_id, history=history, history_ttl_s=history_ttl_s,
                           presence_ttl_s=presence_ttl_s)
    return MemoryBroker(history=history, history_ttl_s=history_ttl_s)


__all__ = ["Broker", "MemoryBroker", "Subscriber", "make_broker"]
