"""In-process broker: one instance, nothing to run. Seqs restart with the process."""
from __future__ import annotations

from typing import Any

from .base import Broker


class MemoryBroker(Broker):
    def __init__(self) -> None:
        super().__init__()
        self._seq: dict[str, int] = {}

    async def publish(self, user_id: str, kind: str, fields: dict[str, Any]) -> int:
        return self._publish(user_id, kind, fields)

    def publish_nowait(self, user_id: str, kind: str, fields: dict[str, Any]) -> None:
        self._publish(user_id, kind, fields)

    def _publish(self, user_id: str, kind: str, fields: dict[str, Any]) -> int:
        seq = self._seq.get(user_id, 0) + 1
        self._seq[user_id] = seq
        self._deliver_local(user_id, seq, kind, fields)
        return seq

    async def current_seq(self, user_id: str) -> int:
        return self._seq.get(user_id, 0)

    async def disconnect(self, user_id: str, code: int, reason: str) -> None:
        self._close_local(user_id, code, reason)
