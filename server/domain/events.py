"""What the domain needs from the broker: publish an event to all of a user's sockets, and close them.

The domain states *what happened*; the broker assigns the per-user `seq` and fans the frame out to
every socket of that user on every instance.
"""
from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

CLOSE_LOGGED_OUT = 4401


@runtime_checkable
class EventSink(Protocol):
    async def publish(self, user_id: str, kind: str, fields: dict[str, Any]) -> int:
        """Deliver event `kind` to every socket of `user_id`; return its seq."""

    def publish_nowait(self, user_id: str, kind: str, fields: dict[str, Any]) -> None:
        """Like `publish`, without waiting for it; order with `publish` is kept."""

    async def notify(self, user_id: str, kind: str, fields: dict[str, Any]) -> None:
        """A passing notice (presence): to every socket now, with no `seq`, never replayed."""

    def notify_everyone_here(self, kind: str, fields: dict[str, Any]) -> int:
        """A passing notice to every socket on this instance (each instance sends its own)."""

    async def disconnect(self, user_id: str, code: int, reason: str, *,
                         keep_session: str | None = None, only_session: str | None = None) -> None:
        """Close every socket of `user_id`, on every instance (all but `keep_session`'s, or only
        `only_session`'s)."""
