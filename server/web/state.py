"""What the transport holds for the app's lifetime: settings, storage, broker and domain services."""
from __future__ import annotations

from dataclasses import dataclass, field

from aiohttp import web

from server.broker import Broker
from server.config import Settings
from server.domain.accounts import Accounts
from server.domain.chats import Chats
from server.domain.files import Files
from server.domain.generation import Generations
from server.domain.ledger import Ledger
from server.domain.limits import Limits
from server.domain.messages import Messages
from server.domain.presence import Presence
from server.domain.profile import Profiles
from storage import Database


@dataclass
class Context:
    settings: Settings
    db: Database
    broker: Broker
    accounts: Accounts
    chats: Chats
    messages: Messages
    generations: Generations
    ledger: Ledger
    profiles: Profiles
    files: Files
    presence: Presence
    limits: Limits
    sockets: set = field(default_factory=set)
    draining: bool = False  # shutting down: not ready, no new sockets


CONTEXT: web.AppKey[Context] = web.AppKey("chatwire_context", Context)
SETTINGS: web.AppKey[Settings] = web.AppKey("chatwire_settings", Settings)
