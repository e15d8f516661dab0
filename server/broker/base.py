"""The broker interface and the local delivery both engines share."""
from __future__ import annotations

import abc
from typing import Any, Protocol

from protocol import encode, event


class Subscriber(Protocol):
    """A local socket's side of the broker: must never block (it queues)."""

    user_id: str

    def deliver(self, frame: bytes) -> None: ...

    def close_soon(self, code: int, reason: str) -> None: ...


class Broker(abc.ABC):
    def __init__(self) -> None:
        self._local: dict[str, set[Subscriber]] = {}

    async def start(self) -> None:
        pass

    async def stop(self) -> None:
        pass

    async def ping(self) -> bool:
        return True

    async def subscribe(self, sub: Subscriber) -> None:
        self._local.setdefault(sub.user_id, set()).add(sub)

    async def unsubscribe(self, sub: Subscriber) -> None:
        subs = self._local.get(sub.user_id)
        if subs is not None:
            subs.discard(sub)
            if not subs:
                del self._local[sub.user_id]

    @abc.abstractmethod
    async def publish(self, user_id: str, kind: str, fields: dict[str, Any]) -> int: ...

    @abc.abstractmethod
    def publish_nowait(self, user_id: str, kind: str, fields: dict[str, Any]) -> None:
        """Publish without waiting: the hot path of streamed deltas. Keeps order with `publish`."""

    @abc.abstractmethod
    async def current_seq(self, user_id: str) -> int:
        """The seq of the user's latest event (0 before any)."""

    @abc.abstractmethod
    async def disconnect(self, user_id: str, code: int, reason: str) -> None: ...

    def _deliver_local(self, user_id: str, seq: int, kind: str, fields: dict[str, Any]) -> None:
        subs = self._local.get(user_id)
        if not subs:
            return
        frame = encode(event(kind, seq, fields))  # encoded once, shared by every socket
        for sub in tuple(subs):
            sub.deliver(frame)

    def _close_local(self, user_id: str, code: int, reason: str) -> None:
        for sub in tuple(self._local.get(user_id, ())):
            sub.close_soon(code, reason)
