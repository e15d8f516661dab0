"""Which of a user's devices are connected, and telling their other devices when that changes.

The registry lives in the broker (Redis with expiring entries, or in process). Presence is a
courtesy, not a ledger: when Redis is away it degrades (logged) and never fails a connection.
"""
from __future__ import annotations

import logging
from typing import Any, Protocol, runtime_checkable

from .events import EventSink

log = logging.getLogger("chatwire.presence")


@runtime_checkable
class DeviceRegistry(Protocol):
    async def add(self, user_id: str, device: dict[str, Any]) -> None: ...

    async def remove(self, user_id: str, connection_id: str) -> None: ...

    async def devices(self, user_id: str) -> list[dict[str, Any]]: ...

    async def online_users(self) -> int: ...


class Presence:
    def __init__(self, registry: DeviceRegistry, events: EventSink) -> None:
        self.registry = registry
        self.events = events

    async def get(self, user_id: str) -> dict[str, Any]:
        return {"devices": await self.registry.devices(user_id)}

    async def connected(self, user_id: str, device: dict[str, Any]) -> None:
        await self._change(user_id, self.registry.add(user_id, device),
                           {"change": "connected", "connection_id": device["connection_id"],
                            "device": device})

    async def disconnected(self, user_id: str, connection_id: str) -> None:
        await self._change(user_id, self.registry.remove(user_id, connection_id),
                           {"change": "disconnected", "connection_id": connection_id})

    async def _change(self, user_id: str, write: Any, notice: dict[str, Any]) -> None:
        """The change alone, not the device list: a notice to every socket of the user costs the
        same whatever their number (with the whole list, 300 sockets closing one by one sent
        45,000 device entries and grew the server by half a gigabyte)."""
        try:
            await write
            await self.events.notify(user_id, "presence.changed", notice)
        except Exception as exc:
            log.warning("presence of %s not updated (%s): %s", user_id, notice["change"], exc)

    async def online_users(self) -> int:
        return await self.registry.online_users()
