"""What a turn is made of, and the rule that a chat streams one reply at a time."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, AsyncIterator

from protocol.errors import Conflict
from providers.base import GenerationRequest
from providers.registry import Model
from storage import Executor
from storage import chats as chat_rows

from .branches import Tree
from .streams import ReplyEvent


@dataclass(frozen=True)
class GenerationSettings:
    default_model: str = "echo"
    instance_id: str = "local"


@dataclass
class Started:
    """A turn that was decided: what the request answers, and its reply's events.

    `events` is None unless the caller asked to listen (the WebSocket's reply goes out through
    the broker), or when nothing started (a retried send answers what the first one got).
    """

    answer: dict[str, Any]
    events: AsyncIterator[ReplyEvent] | None = None


@dataclass
class Turn:
    """A reply about to start: where it goes, what the model will be asked, what it may cost."""

    chat: dict[str, Any]
    tree: Tree
    model: Model
    parent_id: str | None  # the new user message's parent (send, edit) — or the answered message
    request: GenerationRequest
    hold: int
    files: list[dict[str, Any]]  # the rows of the files attached to the new user message


def busy() -> Conflict:
    return Conflict("a reply is still streaming in this chat; wait for it to finish or stop it")


async def check_not_streaming(db: Executor, chat_id: str) -> None:
    """One reply at a time per chat: a second would be built on the first's unfinished text.
    Checked in the turn's transaction; the database's unique index settles a race between two
    instances (`messages_one_streaming_per_chat`, migration 0006)."""
    if await chat_rows.has_streaming(db, chat_id):
        raise busy()
