"""The broker interface and the local delivery both engines share.

A broker numbers each user's events (`seq`), keeps the recent ones for `resume`, fans them out to
the user's sockets on every instance, carries control signals between instances (stop a reply
running elsewhere), and knows which devices are online (`presence`).
"""
from __future__ import annotations

import abc
import logging
import time
from typing import Any, Callable, Protocol

from protocol import encode, event

log = logging.getLogger("chatwire.broker")

Backlog = list[tuple[int, bytes]]  # (seq, encoded frame), oldest first
NO_SEQ = 0  # the seq of a notice: not numbered, not kept, never a duplicate


class Subscriber(Protocol):
    """A local socket's side of the broker: must never block (it queues)."""

    user_id: str

    def deliver(self, seq: int, frame: bytes) -> None:
        """`seq` is NO_SEQ for a notice."""

    def close_soon(self, code: int, reason: str) -> None: ...


DEVICE_FIELDS = ("connection_id", "instance", "user_agent", "connected_since")


def compact(device: dict[str, Any]) -> tuple[str, ...]:
    """A device as a tuple of the socket's own strings: a few pointers per idle socket."""
    return tuple(device[k] for k in DEVICE_FIELDS)


def expand(device: tuple[str, ...]) -> dict[str, Any]:
    return dict(zip(DEVICE_FIELDS, device, strict=True))


class Presence(abc.ABC):
    """The user's connected devices: connection id, instance, user agent, connected since."""

    @abc.abstractmethod
    async def add(self, user_id: str, device: dict[str, Any]) -> None: ...

    @abc.abstractmethod
    async def remove(self, user_id: str, connection_id: str) -> None: ...

    @abc.abstractmethod
    async def devices(self, user_id: str) -> list[dict[str, Any]]: ...

    @abc.abstractmethod
    async def online_users(self) -> int: ...


class LocalCounter:
    """Fixed-window counters in this process: the rate limits without Redis (or while it is away)."""

    def __init__(self) -> None:
        self._counts: dict[tuple[str, int, int], int] = {}  # (key, window, its start) -> hits

    def count(self, key: str, window_s: int, by: int = 1) -> tuple[int, float]:
        now = time.time()
        start = int(now // window_s) * window_s
        if len(self._counts) > 10_000:  # forget finished windows, each by its own length
            self._counts = {k: v for k, v in self._counts.items() if k[2] + k[1] > now}
        slot = (key, window_s, start)
        hits = self._counts.get(slot, 0) + by
        if hits:
            self._counts[slot] = hits
        return hits, start + window_s - now

    def forget(self, key: str, window_s: int) -> None:
        self._counts.pop((key, window_s, int(time.time() // window_s) * window_s), None)


class Broker(abc.ABC):
    presence: Presence
    epoch: str  # names the history that seqs count in; another epoch means seqs started over

    def __init__(self, history: int = 1000, on_stop: Callable[[str], None] | None = None) -> None:
        self._local: dict[str, list[Subscriber]] = {}
        self.history = history  # events kept per user for resume
        self.on_stop = on_stop  # stops a reply of this instance (the stream registry's)
        self._counter = LocalCounter()

    async def start(self) -> None:
        """Connect; the in-process engine has nothing to do."""

    async def stop(self) -> None:
        """Disconnect; the in-process engine has nothing to do."""

    async def ping(self) -> bool:
        return True

    async def subscribe(self, sub: Subscriber) -> None:
        # A list, not a set: most users have one or two sockets, and a set costs 216 bytes.
        self._local.setdefault(sub.user_id, []).append(sub)

    async def unsubscribe(self, sub: Subscriber) -> None:
        subs = self._local.get(sub.user_id)
        if subs is not None and sub in subs:
            subs.remove(sub)
            if not subs:
                del self._local[sub.user_id]

    @abc.abstractmethod
    async def publish(self, user_id: str, kind: str, fields: dict[str, Any]) -> int: ...

    @abc.abstractmethod
    def publish_nowait(self, user_id: str, kind: str, fields: dict[str, Any]) -> None:
        """Publish without waiting: the hot path of streamed deltas. Keeps order with `publish`."""

    @abc.abstractmethod
    async def notify(self, user_id: str, kind: str, fields: dict[str, Any]) -> None:
        """A passing notice: delivered now to every socket, with no seq, not kept for resume."""

    @abc.abstractmethod
    async def current_seq(self, user_id: str) -> int:
        """The seq of the user's latest event (0 before any)."""

    @abc.abstractmethod
    async def replay(self, user_id: str, after: int) -> Backlog | None:
        """Every kept event with seq > `after`, in order; None when some of them are gone."""

    async def count(self, key: str, window_s: int, by: int = 1) -> tuple[int, float]:
        """Count `by` hits (0: just look) in the current window of `window_s` seconds: (hits so
        far, seconds left). Shared by every instance with Redis; per process without."""
        return self._counter.count(key, window_s, by)

    async def forget(self, key: str, window_s: int) -> None:
        """Start the current window of `key` over from zero."""
        self._counter.forget(key, window_s)

    @abc.abstractmethod
    async def disconnect(self, user_id: str, code: int, reason: str) -> None: ...

    @abc.abstractmethod
    async def signal_stop(self, instance_id: str, message_id: str) -> None:
        """Ask the instance generating `message_id` to stop it."""

    def _stop_here(self, message_id: str) -> None:
        if self.on_stop is not None:
            try:
                self.on_stop(message_id)
            except Exception:
                log.exception("stopping %s failed", message_id)

    @staticmethod
    def _frame(seq: int, kind: str, fields: dict[str, Any]) -> bytes:
        return encode(event(kind, seq, fields))

    @staticmethod
    def _notice(kind: str, fields: dict[str, Any]) -> bytes:
        return encode({"type": kind, **fields})

    def _deliver_local(self, user_id: str, seq: int, frame: bytes) -> None:
        for sub in tuple(self._local.get(user_id, ())):
            sub.deliver(seq, frame)  # encoded once, shared by every socket

    def _close_local(self, user_id: str, code: int, reason: str) -> None:
        for sub in tuple(self._local.get(user_id, ())):
            sub.close_soon(code, reason)
