"""Folders (projects): a user's groups of chats. A folder's instructions join the system prompt
of every chat in it (after the chat's own, before the profile's section: `prompts.system_prompt`).

Deleting a folder keeps its chats: they return to the top level, and every device hears
`folder.deleted` with their ids (one event, not one per chat).
"""
from __future__ import annotations

from typing import Any

from protocol.errors import BadRequest, NotFound
from storage import Database, new_id, utcnow
from storage import folders as folder_rows

from .events import EventSink

MAX_FOLDERS = 200  # per user: the sidebar lists them all, unpaged
MAX_INSTRUCTIONS = 4000  # characters; they ride along on every turn of every chat in the folder


class Folders:
    def __init__(self, db: Database, events: EventSink) -> None:
        self.db = db
        self.events = events

    async def list(self, user_id: str) -> dict[str, Any]:
        return {"folders": await folder_rows.list_all(self.db, user_id)}

    async def create(self, user_id: str, *, name: str,
                     instructions: str | None = None) -> dict[str, Any]:
        async with self.db.transaction() as tx:
            if await folder_rows.count(tx, user_id) >= MAX_FOLDERS:
                raise BadRequest(f"a user may have at most {MAX_FOLDERS} folders; delete one first")
            folder = await folder_rows.insert(tx, id=new_id(), user_id=user_id, name=name,
                                              instructions=instructions or None, now=utcnow())
        await self.events.publish(user_id, "folder.created", {"folder": folder})
        return {"folder": folder}

    async def update(self, user_id: str, folder_id: str, **changes: Any) -> dict[str, Any]:
        if not changes:
            raise BadRequest("folder.update: give name or instructions")
        if "instructions" in changes:
            changes["instructions"] = changes["instructions"] or None
        async with self.db.transaction() as tx:
            if not await folder_rows.update(tx, user_id, folder_id, changes, utcnow()):
                raise NotFound(f"folder {folder_id} does not exist", folder_id=folder_id)
            folder = await folder_rows.get(tx, user_id, folder_id)
        await self.events.publish(user_id, "folder.updated", {"folder": folder})
        return {"folder": folder}

    async def delete(self, user_id: str, folder_id: str) -> dict[str, Any]:
        async with self.db.transaction() as tx:
            if await folder_rows.get(tx, user_id, folder_id) is None:
                raise NotFound(f"folder {folder_id} does not exist", folder_id=folder_id)
            chat_ids = await folder_rows.delete(tx, user_id, folder_id)
        result = {"folder_id": folder_id, "chat_ids": chat_ids}
        await self.events.publish(user_id, "folder.deleted", result)
        return result
