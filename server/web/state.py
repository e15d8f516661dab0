"""What the transport holds for the app's lifetime: the services, and its own sockets and state."""
from __future__ import annotations

from dataclasses import dataclass, field

from aiohttp import web

from server.config import Settings
from server.services import Services


@dataclass
class Context:
    services: Services
    sockets: set = field(default_factory=set)
    draining: bool = False  # shutting down: not ready, no new sockets

    def start_draining(self) -> None:
        self.draining = True

    @property
    def settings(self) -> Settings:
        return self.services.settings


CONTEXT: web.AppKey[Context] = web.AppKey("chatwire_context", Context)
SETTINGS: web.AppKey[Settings] = web.AppKey("chatwire_settings", Settings)
