"""In-process broker: one instance, nothing to run. Seqs and history restart with the process."""
from __future__ import annotations

import secrets
import time
from collections import deque
from typing import Any, Callable

from .base import NO_SEQ, Backlog, Broker, Presence, compact, expand


class MemoryPresence(Presence):
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


class MemoryBroker(Broker):
    def __init__(self, history: int = 1000, history_ttl_s: float = 3600.0,
                 on_stop: Callable[[str], None] | None = None) -> None:
        super().__init__(history, on_stop)
        # This process's history: a restart starts another (seqs from 1 again), and a client
        # that names the old one is told to resync rather than be replayed someone else's seqs.
        self.epoch = secrets.token_hex(8)
        self.history_ttl_s = history_ttl_s
        self.presence = MemoryPresence()
        self._seq: dict[str, int] = {}
        self._kept: dict[str, deque[tuple[int, bytes]]] = {}  # ring buffer per user
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
            kept = self._kept[user_id] = deque(maxlen=self.history)
            self._forget_idle()
        kept.append((seq, frame))
        self._touched[user_id] = time.monotonic()
        self._deliver_local(user_id, seq, frame)
        return seq

    def _forget_idle(self) -> None:
        """Drop the history of users silent for longer than the TTL (as Redis expires it)."""
        cutoff = time.monotonic() - self.history_ttl_s
        for user_id in [u for u, t in self._touched.items() if t < cutoff]:
            self._kept.pop(user_id, None)
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

    async def disconnect(self, user_id: str, code: int, reason: str) -> None:
        self._close_local(user_id, code, reason)

    async def signal_stop(self, instance_id: str, message_id: str) -> None:
        self._stop_here(message_id)  # one instance: every reply runs here
