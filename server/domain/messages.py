"""A chat's history: the active branch, newest page first, each message with its siblings so a
client can offer ‹ 2/3 › — and switching to another branch."""
from __future__ import annotations

from typing import Any, Callable

from protocol import shapes
from protocol.errors import BadRequest, NotFound
from storage import Database
from storage import chats as chat_rows
from storage import files as file_rows
from storage import messages as message_rows

from . import cursors
from .branches import Tree
from .chats import Chats
from .events import EventSink

LiveText = Callable[[str, str], str]  # (message id, stored text) -> the text so far


class Messages:
    def __init__(self, db: Database, events: EventSink, chats: Chats, live_text: LiveText) -> None:
        self.db = db
        self.events = events
        self.chats = chats
        self.live_text = live_text  # a streaming reply's text comes from its registry, not storage

    async def list(self, user_id: str, chat_id: str, *, cursor: str | None = None,
                   limit: int = 50) -> dict[str, Any]:
        """The active branch, newest page first; within a page, reading order."""
        chat = await self.chats.get(user_id, chat_id)  # ownership: someone else's is not_found
        return await self.branch_page(chat, cursor=cursor, limit=limit)

    async def chat_with_branch(self, user_id: str, chat_id: str) -> dict[str, Any]:
        """The chat and the latest page of its active branch (live text for a reply streaming)."""
        chat = await self.chats.get(user_id, chat_id)
        page = await self.branch_page(chat)
        return {**chat, "messages": page["messages"], "messages_next_cursor": page["next_cursor"]}

    async def branch_page(self, chat: dict[str, Any], *, cursor: str | None = None,
                          limit: int = 50) -> dict[str, Any]:
        tree = Tree.of(await message_rows.tree(self.db, chat["id"]))
        path = tree.active_path(chat.get("current_message_id"))
        end = len(path)
        before = cursors.decode_id(cursor)
        if before is not None:
            if before not in path:
                raise BadRequest("invalid cursor: the branch changed; list again from the start")
            end = path.index(before)
        start = max(0, end - limit)
        ids = path[start:end]
        rows = await message_rows.get_many(self.db, ids)
        attached = await file_rows.attached(self.db, ids)
        page = []
        for message_id in ids:
            row = shapes.message(rows[message_id], tree.siblings(message_id))
            row["files"] = shapes.attachments(attached.get(message_id, []))
            if row["status"] == "streaming":
                row["content"] = self.live_text(message_id, row["content"])
            page.append(row)
        return {"messages": page, "next_cursor": cursors.encode_id(ids[0]) if start > 0 else None}

    async def switch(self, user_id: str, message_id: str) -> dict[str, Any]:
        """Make the branch through `message_id` (down to its newest leaf) the chat's active one."""
        row = await message_rows.get(self.db, user_id, message_id)
        if row is None:
            raise NotFound(f"message {message_id} does not exist", message_id=message_id)
        tree = Tree.of(await message_rows.tree(self.db, row["chat_id"]))
        await chat_rows.set_current(self.db, user_id, row["chat_id"], tree.latest_leaf(message_id))
        chat = await self.chats.get(user_id, row["chat_id"])
        await self.events.publish(user_id, "chat.updated", {"chat_id": chat["id"], "chat": chat})
        return {"chat": chat}
