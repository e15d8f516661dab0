"""Messages of a chat: paged history (the generation lifecycle builds on this)."""
from __future__ import annotations

from typing import Any

from storage import Database
from storage import messages as message_rows

from . import cursors
from .chats import Chats


class Messages:
    def __init__(self, db: Database, chats: Chats) -> None:
        self.db = db
        self.chats = chats

    async def list(self, user_id: str, chat_id: str, *, cursor: str | None = None,
                   limit: int = 50) -> dict[str, Any]:
        """Newest page first; within a page, reading order. `next_cursor` pages to older ones."""
        await self.chats.get(user_id, chat_id)  # ownership: someone else's chat is not_found
        rows = await message_rows.list_page(self.db, chat_id, before=cursors.decode(cursor),
                                            limit=limit + 1)
        more = len(rows) > limit
        page = rows[1:] if more else rows
        next_cursor = cursors.encode(page[0]["created_at"], page[0]["id"]) if more else None
        return {"messages": page, "next_cursor": next_cursor}
