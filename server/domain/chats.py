"""Chats: create, read, list and search, update, trash, restore, purge — each change an event.

Every lookup is by (user_id, chat_id): a chat that belongs to someone else is `not_found`, exactly
like one that does not exist, so ids reveal nothing.
"""
from __future__ import annotations

from typing import Any

from protocol.errors import BadRequest, Conflict, NotFound
from storage import Database, new_id, utcnow
from storage import chats as chat_rows
from storage import folders as folder_rows
from storage import shares as share_rows
from storage import search, search_index

from . import cursors, snippets
from .events import EventSink

EDITABLE = ("title", "tags", "favorite", "model", "system_prompt", "personalize", "folder_id")
_ANYWHERE: Any = object()  # chat.list without `folder_id`: chats in any folder or none


class Chats:
    def __init__(self, db: Database, events: EventSink) -> None:
        self.db = db
        self.events = events

    async def get(self, user_id: str, chat_id: str) -> dict[str, Any]:
        chat = await chat_rows.get(self.db, user_id, chat_id)
        if chat is None:
            raise NotFound(f"chat {chat_id} does not exist", chat_id=chat_id)
        return chat

    async def for_turn(self, user_id: str, chat_id: str) -> dict[str, Any]:
        """`get`, with its folder's instructions (`folder_instructions`) for the system prompt."""
        chat = await chat_rows.get_for_turn(self.db.quick, user_id, chat_id)
        if chat is None:
            raise NotFound(f"chat {chat_id} does not exist", chat_id=chat_id)
        return chat

    async def list(self, user_id: str, *, q: str | None = None, favorite: bool | None = None,
                   tag: str | None = None, trashed: bool = False, cursor: str | None = None,
                   limit: int = 50, folder_id: Any = _ANYWHERE) -> dict[str, Any]:
        """`folder_id`: left out, chats anywhere; null, those in no folder; an id, that folder's."""
        folder = (None if folder_id is _ANYWHERE
                  else chat_rows.TOP_LEVEL if folder_id is None else folder_id)
        if search.words(q):
            await search_index.catch_up(self.db)  # the index holds every finished message
        rows = await chat_rows.list_page(
            self.db, user_id, trashed=trashed, favorite=favorite, tag=tag, q=q,
            after=cursors.decode(cursor), limit=limit + 1, folder=folder,
        )
        page, more = rows[:limit], len(rows) > limit
        next_cursor = cursors.encode(page[-1]["updated_at"], page[-1]["id"]) if more else None
        if q:  # each result with the words around its first match (a message's, else the title's)
            terms = search.words(q)
            texts = await chat_rows.first_matching_messages(self.db, [c["id"] for c in page], q)
            for chat in page:
                chat["snippet"] = (snippets.snippet(texts.get(chat["id"], ""), terms)
                                   or snippets.snippet(chat["title"], terms))
        return {"chats": page, "next_cursor": next_cursor}

    async def create(self, user_id: str, *, title: str | None = None, tags: list[str] | None = None,
                     favorite: bool = False, model: str | None = None,
                     system_prompt: str | None = None) -> dict[str, Any]:
        async with self.db.quick.transaction() as tx:  # a new chat is where most sends start
            chat = await chat_rows.insert(
                tx, id=new_id(), user_id=user_id, title=title or "", favorite=favorite,
                model=model or None, system_prompt=system_prompt or None, tags=tags or [],
                now=utcnow(),
            )
        await self._announce(user_id, "chat.created", chat)
        return chat

    async def update(self, user_id: str, chat_id: str, **changes: Any) -> dict[str, Any]:
        changes = {k: v for k, v in changes.items() if k in EDITABLE}
        if not changes:
            raise BadRequest(f"chat.update: give at least one of {', '.join(EDITABLE)}")
        if "title" in changes:
            changes["title"] = changes["title"] or ""
        async with self.db.transaction() as tx:
            if changes.get("folder_id") is not None and await folder_rows.get(
                    tx, user_id, changes["folder_id"]) is None:
                raise NotFound(f"folder {changes['folder_id']} does not exist",
                               folder_id=changes["folder_id"])
            if not await chat_rows.update(tx, user_id, chat_id, changes, utcnow()):
                raise NotFound(f"chat {chat_id} does not exist", chat_id=chat_id)
            if "tags" in changes:
                await chat_rows.replace_tags(tx, chat_id, user_id, changes["tags"] or [])
            chat = await chat_rows.get(tx, user_id, chat_id)
        assert chat is not None
        await self._announce(user_id, "chat.updated", chat)
        return chat

    async def delete(self, user_id: str, chat_id: str) -> dict[str, Any]:
        """Move to trash. Trashing a chat already there changes nothing and sends no event."""
        return await self._set_trashed(user_id, chat_id, trashed=True, event="chat.deleted")

    async def restore(self, user_id: str, chat_id: str) -> dict[str, Any]:
        return await self._set_trashed(user_id, chat_id, trashed=False, event="chat.restored")

    async def _set_trashed(self, user_id: str, chat_id: str, *, trashed: bool,
                           event: str) -> dict[str, Any]:
        now = utcnow()
        revoked: list[str] = []
        async with self.db.transaction() as tx:
            changed = await chat_rows.set_deleted(tx, user_id, chat_id, now if trashed else None, now)
            if changed and trashed:  # a deleted chat is no longer shared (restoring does not re-share)
                revoked = await share_rows.revoke_for_chat(tx, user_id, chat_id, now)
            chat = await chat_rows.get(tx, user_id, chat_id)
        if chat is None:
            raise NotFound(f"chat {chat_id} does not exist", chat_id=chat_id)
        if changed:
            await self._announce(user_id, event, chat)
        for share_id in revoked:
            await self.events.publish(user_id, "share.revoked", {"share_id": share_id})
        return chat

    async def purge(self, user_id: str, chat_id: str) -> dict[str, Any]:
        """Delete a chat from the trash for good, with its messages."""
        async with self.db.transaction() as tx:
            chat = await chat_rows.get(tx, user_id, chat_id)
            if chat is None:
                raise NotFound(f"chat {chat_id} does not exist", chat_id=chat_id)
            if chat["deleted_at"] is None:
                raise Conflict("move the chat to the trash (chat.delete) before purging it",
                               chat_id=chat_id)
            if await chat_rows.has_streaming(tx, chat_id):
                raise Conflict("a reply in this chat is still streaming; stop it first",
                               chat_id=chat_id)
            await chat_rows.purge(tx, user_id, chat_id)
        await self.events.publish(user_id, "chat.purged", {"chat_id": chat_id})
        return {"chat_id": chat_id}

    async def _announce(self, user_id: str, kind: str, chat: dict[str, Any]) -> None:
        await self.events.publish(user_id, kind, {"chat_id": chat["id"], "chat": chat})
