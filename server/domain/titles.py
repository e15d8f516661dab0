"""Chat titles made by the server: after a chat's first reply completes, an untitled chat is named
after its first message — its first sentence, markdown stripped, cut at a word boundary. A title
the user set is never overwritten (the write only matches an untitled chat), and every device
hears `chat.updated`. Chats made by any client, the API included, get one the same way. With
`TITLE_MODEL` a model is asked instead (server/domain/title_model.py), the offline title its
fallback.
"""
from __future__ import annotations

import asyncio
import logging
import re
from typing import TYPE_CHECKING, Any

from storage import Database, Executor, utcnow
from storage import chats as chat_rows

from .events import EventSink

if TYPE_CHECKING:
    from .title_model import ModelTitler

log = logging.getLogger("chatwire.titles")

LIMIT = 60

_MARKUP = [
    (re.compile(r"```.*?(?:```|$)", re.S), " "),  # code blocks say nothing a title needs
    (re.compile(r"!\[([^\]]*)\]\([^)]*\)"), r"\1"),  # an image: its alt text
    (re.compile(r"\[([^\]]*)\]\([^)]*\)"), r"\1"),  # a link: its text
    (re.compile(r"`([^`]*)`"), r"\1"),
    (re.compile(r"^\s{0,3}(?:#{1,6}|>|[-*+]|\d+[.)])\s+", re.M), ""),  # headings, quotes, lists
    (re.compile(r"(\*\*|__|~~|\*|_)(?=\S)(.+?)(?<=\S)\1"), r"\2"),  # emphasis
    (re.compile(r"<[^>]{1,200}>"), " "),  # tags
]
_SENTENCE = re.compile(r"(.+?[.!?…])(?=\s|$)")


def offline_title(text: str, limit: int = LIMIT) -> str:
    """The first sentence of `text` as plain words, at most `limit` characters ("" if none)."""
    for pattern, replacement in _MARKUP:
        text = pattern.sub(replacement, text)
    # A line ends a sentence too (a heading, a list item): the first line that says anything.
    text = next((line for line in text.splitlines() if line.strip()), "")
    text = " ".join(text.split())
    sentence = _SENTENCE.match(text)
    if sentence:
        text = sentence.group(1)
    if len(text) > limit:
        cut = text[:limit + 1].rsplit(" ", 1)[0] if " " in text[:limit + 1] else text[:limit]
        text = cut.rstrip(" ,;:—–-")
    return text.rstrip(".").strip()


class Titles:
    """Names untitled chats: offline at once, or (with a `titler`, TITLE_MODEL) by a model in the
    background — the reply has ended and its slot is free; the title follows when it comes."""

    def __init__(self, db: Database, events: EventSink, titler: "ModelTitler | None" = None) -> None:
        self.db = db
        self.events = events
        self.titler = titler
        self._pending: set[asyncio.Task[None]] = set()

    async def name(self, user_id: str, chat_id: str, first_message: str, reply: str = "") -> None:
        """Name an untitled chat after its first message (and reply), and tell every device."""
        if self.titler is None:
            return await self._set(user_id, chat_id, offline_title(first_message))
        task = asyncio.ensure_future(self._ask(user_id, chat_id, first_message, reply))
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)

    async def _ask(self, user_id: str, chat_id: str, first_message: str, reply: str) -> None:
        assert self.titler is not None
        try:
            chat = await chat_rows.get(self.db, user_id, chat_id)
            if chat is None or chat["title"]:
                return  # named meanwhile: no call, no charge
            title = await self.titler.title(user_id, chat_id, first_message, reply)
            await self._set(user_id, chat_id, title or offline_title(first_message))
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("naming chat %s failed", chat_id)

    @property
    def offline(self) -> bool:
        """Titles are made here and now (no TITLE_MODEL): a reply's end can write one itself."""
        return self.titler is None

    async def write_offline(self, tx: Executor, user_id: str, chat_id: str,
                            first_message: str) -> dict[str, Any] | None:
        """In the caller's transaction (a first reply's end, which already writes the chat: one
        commit instead of two): the offline title of an untitled chat; the chat, if it was named
        now, for `announce` once committed."""
        title = offline_title(first_message)
        if not title or not await chat_rows.set_title_if_untitled(tx, user_id, chat_id, title, utcnow()):
            return None  # nothing to say, or titled meanwhile (by the user, or another turn)
        return await chat_rows.get(tx, user_id, chat_id)

    async def announce(self, user_id: str, chat: dict[str, Any]) -> None:
        await self.events.publish(user_id, "chat.updated", {"chat_id": chat["id"], "chat": chat})

    async def _set(self, user_id: str, chat_id: str, title: str) -> None:
        if not title:
            return
        if not await chat_rows.set_title_if_untitled(self.db, user_id, chat_id, title, utcnow()):
            return  # titled meanwhile (by the user, or by another reply's turn)
        chat = await chat_rows.get(self.db, user_id, chat_id)
        if chat is not None:
            await self.announce(user_id, chat)

    async def drain(self) -> None:
        """Wait for the titles being asked for (tests)."""
        while self._pending:
            await asyncio.gather(*list(self._pending), return_exceptions=True)

    async def close(self) -> None:
        """At shutdown: the calls still out are cancelled (their holds released)."""
        for task in list(self._pending):
            task.cancel()
        await asyncio.gather(*list(self._pending), return_exceptions=True)
