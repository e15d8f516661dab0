"""What the transport holds for the app's lifetime: the services, and its own sockets and state."""
from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from server.config import Settings
from server.services import Services


@dataclass
class Context:
    services: Services
    sockets: set = field(default_factory=set)
    draining: bool = False  # shutting down: not ready, no new sockets
    _per_user: dict = field(default_factory=dict)  # user id -> sockets open here
    _tasks: set = field(default_factory=set)  # what `spawn` started, held until done

    def spawn(self, step: Any) -> None:
        """Run the coroutine `step` as a task: it starts on the loop's next turn, so after the
        request that spawned it has queued its reply."""
        task = asyncio.ensure_future(step)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def start_draining(self) -> None:
        self.draining = True

    def admit(self, conn: Any, limit: int) -> bool:
        """Count a new socket of its user, unless the user already has `limit` here. Synchronous,
        so sockets opening at once cannot all slip under the cap."""
        held = self._per_user.get(conn.user_id, 0)
        if held >= limit:
            return False
        self._per_user[conn.user_id] = held + 1
        self.sockets.add(conn)
        return True

    def discharge(self, conn: Any) -> None:
        if conn not in self.sockets:
            return
        self.sockets.discard(conn)
        left = self._per_user[conn.user_id] - 1
        if left:
            self._per_user[conn.user_id] = left
        else:
            del self._per_user[conn.user_id]

    @property
    def settings(self) -> Settings:
        return self.services.settings


CONTEXT: web.AppKey[Context] = web.AppKey("chatwire_context", Context)
SETTINGS: web.AppKey[Settings] = web.AppKey("chatwire_settings", Settings)
