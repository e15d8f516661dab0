"""folders: a user's named groups of chats (projects), with optional instructions."""
from __future__ import annotations

from typing import Any

from .base import Executor, Row

COLUMNS = "id, name, instructions, created_at, updated_at"
UPDATABLE = frozenset({"name", "instructions"})


async def insert(db: Executor, *, id: str, user_id: str, name: str, instructions: str | None,
                 now: str) -> Row:
    await db.execute(
        """INSERT INTO folders (id, user_id, name, instructions, created_at, updated_at)
           VALUES (?, ?, ?, ?, ?, ?)""", (id, user_id, name, instructions, now, now))
    row = await get(db, user_id, id)
    assert row is not None
    return row


async def get(db: Executor, user_id: str, folder_id: str) -> Row | None:
    """The folder if `user_id` owns it; None for missing and foreign alike."""
    return await db.fetchone(f"SELECT {COLUMNS} FROM folders WHERE id = ? AND user_id = ?",
                             (folder_id, user_id))


async def list_all(db: Executor, user_id: str) -> list[Row]:
    """Every folder of the user, by name (a user has tens, not thousands: no paging)."""
    return await db.fetchall(
        f"SELECT {COLUMNS} FROM folders WHERE user_id = ? ORDER BY name, id", (user_id,))


async def count(db: Executor, user_id: str) -> int:
    return int(await db.fetchval("SELECT COUNT(*) FROM folders WHERE user_id = ?", (user_id,)))


async def update(db: Executor, user_id: str, folder_id: str, changes: dict[str, Any],
                 now: str) -> bool:
    fields = [k for k in changes if k in UPDATABLE]
    assignments = "".join(f"{k} = ?, " for k in fields)
    changed = await db.execute(
        f"UPDATE folders SET {assignments}updated_at = ? WHERE id = ? AND user_id = ?",
        (*(changes[k] for k in fields), now, folder_id, user_id))
    return changed == 1


async def delete(db: Executor, user_id: str, folder_id: str) -> list[str]:
    """Delete the folder; its chats return to the top level. The ids of those chats."""
    rows = await db.fetchall("SELECT id FROM chats WHERE folder_id = ? AND user_id = ?",
                             (folder_id, user_id))
    await db.execute("UPDATE chats SET folder_id = NULL WHERE folder_id = ? AND user_id = ?",
                     (folder_id, user_id))
    await db.execute("DELETE FROM folders WHERE id = ? AND user_id = ?", (folder_id, user_id))
    return [row["id"] for row in rows]


async def instructions_for_chat(db: Executor, chat: Row) -> str | None:
    """The instructions of the chat's folder, if it is in one that has some."""
    if not chat.get("folder_id"):
        return None
    return await db.fetchval("SELECT instructions FROM folders WHERE id = ?", (chat["folder_id"],))
