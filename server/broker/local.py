"""The in-process engines: one instance, nothing to run. Seqs and history restart with the process
(a new `epoch` says so)."""
from __future__ import annotations

import logging
import secrets
import time
from collections import deque
from typing import Any, Callable

from .base import NO_SEQ, Backlog, EventLog, compact, expand

log = logging.getLogger("chatwire.broker")


class LocalEvents(EventLog):
    def __init__(self, history: int = 1000, history_bytes: int = 256 * 1024,
                 history_ttl_s: float = 3600.0) -> None:
        super().__init__(history, history_bytes)
        # This process's history: a restart starts another (seqs from 1 again), and a client
        # that names the old one is told to resync rather than be replayed someone else's seqs.
        self.epoch = secrets.token_hex(8)
        self.history_ttl_s = history_ttl_s
        self._seq: dict[str, int] = {}
        self._kept: dict[str, deque[tuple[int, bytes]]] = {}  # oldest first, per user
        self._kept_bytes: dict[str, int] = {}
        self._touched: dict[str, float] = {}

    async def publish(self, user_id: str, kind: str, fields: dict[str, Any]) -> int:
        return self._publish(user_id, kind, fields)

    def publish_nowait(self, user_id: str, kind: str, fields: dict[str, Any]) -> None:
        self._publish(user_id, kind, fields)

    def _publish(self, user_id: str, kind: str, fields: dict[str, Any]) -> int:
        seq = self._seq.get(user_id, 0) + 1
        self._seq[user_id] = seq
        frame = self._frame(seq, kind, fields)
        kept = self._kept.get(user_id)
        if kept is None:
            kept = self._kept[user_id] = deque()
            self._forget_idle()
        kept.append((seq, frame))
        size = self._kept_bytes.get(user_id, 0) + len(frame)
        while len(kept) > self.history or (size > self.history_bytes and len(kept) > 1):
            size -= len(kept.popleft()[1])
        self._kept_bytes[user_id] = size
        self._touched[user_id] = time.monotonic()
        self._deliver_local(user_id, seq, frame)
        return seq

    def _forget_idle(self) -> None:
        """Drop the history of users silent for longer than the TTL (as Redis expires it)."""
        cutoff = time.monotonic() - self.history_ttl_s
        for user_id in [u for u, t in self._touched.items() if t < cutoff]:
            self._kept.pop(user_id, None)
            self._kept_bytes.pop(user_id, None)
            self._touched.pop(user_id, None)

    async def notify(self, user_id: str, kind: str, fields: dict[str, Any]) -> None:
        self._deliver_local(user_id, NO_SEQ, self._notice(kind, fields))

    async def current_seq(self, user_id: str) -> int:
        return self._seq.get(user_id, 0)

    async def replay(self, user_id: str, after: int) -> Backlog | None:
        current = self._seq.get(user_id, 0)
        if after > current:  # the client saw events this process never had: it restarted
            return None
        if after == current:
            return []
        kept = self._kept.get(user_id)
        if not kept or kept[0][0] > after + 1:
            return None
        return [(seq, frame) for seq, frame in kept if seq > after]

    async def disconnect(self, user_id: str, code: int, reason: str, *,
                         keep_session: str | None = None, only_session: str | None = None) -> None:
        self._close_local(user_id, code, reason, keep_session, only_session)


class LocalDevices:
    """The user's connected devices: connection id, instance, user agent, connected since."""

    def __init__(self) -> None:
        self._devices: dict[str, dict[str, tuple[str, ...]]] = {}

    async def add(self, user_id: str, device: dict[str, Any]) -> None:
        self._devices.setdefault(user_id, {})[device["connection_id"]] = compact(device)

    async def remove(self, user_id: str, connection_id: str) -> None:
        devices = self._devices.get(user_id, {})
        devices.pop(connection_id, None)
        if not devices:
            self._devices.pop(user_id, None)

    async def devices(self, user_id: str) -> list[dict[str, Any]]:
        found = [expand(d) for d in self._devices.get(user_id, {}).values()]
        return sorted(found, key=lambda d: d["connected_since"])

    async def online_users(self) -> int:
        return len(self._devices)


class LocalCounters:
    """Fixed-window counters in this process: the rate limits without Redis (or while it is away)."""

    def __init__(self) -> None:
        self._counts: dict[tuple[str, int, int], int] = {}  # (key, window, its start) -> hits

    async def count(self, key: str, window_s: int, by: int = 1) -> tuple[int, float]:
        """Count `by` hits (0: just look) in the current window of `window_s` seconds: (hits so
        far, seconds left)."""
        return self.count_now(key, window_s, by)

    async def forget(self, key: str, window_s: int) -> None:
        """Start the current window of `key` over from zero."""
        self.forget_now(key, window_s)

    def count_now(self, key: str, window_s: int, by: int = 1) -> tuple[int, float]:
        now = time.time()
        start = int(now // window_s) * window_s
        if len(self._counts) > 10_000:  # forget finished windows, each by its own length
            self._counts = {k: v for k, v in self._counts.items() if k[2] + k[1] > now}
        slot = (key, window_s, start)
        hits = self._counts.get(slot, 0) + by
        if hits:
            self._counts[slot] = hits
        return hits, start + window_s - now

    def forget_now(self, key: str, window_s: int) -> None:
        self._counts.pop((key, window_s, int(time.time() // window_s) * window_s), None)


class HeldHere:
    """A reply's slot when there is one instance: the registry's own count is the limit."""

    __slots__ = ()

    async def give_back(self) -> None:
        pass


HELD_HERE = HeldHere()


class LocalSlots:
    """One instance: every reply runs here and the registry counts them (synchronously), so
    there is nothing to share."""

    async def take(self, user_id: str, limit: int) -> HeldHere:
        return HELD_HERE


class LocalStops:
    """One instance: every reply runs here, so a stop request is handled at once."""

    def __init__(self, on_stop: Callable[[str], None]) -> None:
        self.on_stop = on_stop

    async def signal_stop(self, instance_id: str, message_id: str) -> None:
        stop_here(self.on_stop, message_id)


def stop_here(on_stop: Callable[[str], None], message_id: str) -> None:
    try:
        on_stop(message_id)
    except Exception:
        log.exception("stopping %s failed", message_id)


class LocalCatalogue:
    """One instance: a change is this instance's to hear at once."""

    def __init__(self, on_change: Callable[[], None]) -> None:
        self.on_change = on_change

    async def changed(self) -> None:
        catalogue_changed_here(self.on_change)


def catalogue_changed_here(on_change: Callable[[], None]) -> None:
    try:
        on_change()
    except Exception:
        log.exception("reloading the model catalogue failed")
