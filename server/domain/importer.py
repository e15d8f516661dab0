"""Importing chats: a file read whole (`imports.parse`), then stored in one transaction — every
chat of it or none — and announced to the user's open devices like a chat just created.

Imported chats cost nothing: their messages carry no usage and no cost, and no ledger row is
written. Each chat and message gets a new id; the source's ids only link the tree while reading.
"""
from __future__ import annotations

import asyncio
from datetime import datetime, timezone
from typing import Any

from storage import Database, new_id
from storage import chats as chat_rows
from storage import messages as message_rows
from storage.base import iso

from . import imports
from .events import EventSink


class Importer:
    def __init__(self, db: Database, events: EventSink) -> None:
        self.db = db
        self.events = events

    async def run(self, user_id: str, data: bytes) -> dict[str, Any]:
        """{"chats": [{id, title, message_count}], "skipped": conversations with nothing shown}."""
        read = await asyncio.to_thread(imports.parse, data, datetime.now(timezone.utc))
        chats = [chat for chat in read if chat.messages or chat.ours]
        stored: list[dict[str, Any]] = []
        async with self.db.transaction() as tx:
            for chat in chats:
                chat_id, ids = new_id(), {m.key: new_id() for m in chat.messages}
                await chat_rows.insert_imported(tx, id=chat_id, user_id=user_id, chat={
                    "title": chat.title, "favorite": chat.favorite, "model": chat.model,
                    "system_prompt": chat.system_prompt, "personalize": chat.personalize,
                    "current_message_id": ids.get(chat.current) if chat.current else None,
                    "created_at": iso(chat.created_at), "updated_at": iso(chat.updated_at),
                    "tags": chat.tags})
                await message_rows.insert_imported(tx, chat_id=chat_id, user_id=user_id, rows=[
                    {"id": ids[m.key], "parent_id": ids[m.parent] if m.parent else None,
                     "role": m.role, "content": m.content, "model": m.model, "status": m.status,
                     "created_at": iso(m.created_at)} for m in chat.messages])
                row = await chat_rows.get(tx, user_id, chat_id)
                assert row is not None
                stored.append({"chat": row, "message_count": len(chat.messages)})
        for item in stored:
            await self.events.publish(user_id, "chat.created",
                                      {"chat_id": item["chat"]["id"], "chat": item["chat"]})
        return {"chats": [{"id": item["chat"]["id"], "title": item["chat"]["title"],
                           "message_count": item["message_count"]} for item in stored],
                "skipped": len(read) - len(chats)}

