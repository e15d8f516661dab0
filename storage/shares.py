"""shares: read-only snapshots of a chat's active branch behind unguessable ids."""
from __future__ import annotations

from typing import Any

import orjson

from .base import Executor, Row

COLUMNS = "id, chat_id, title, message_count, created_at, revoked_at"


async def insert(db: Executor, *, id: str, user_id: str, chat_id: str, title: str,
                 messages: list[dict[str, Any]], now: str) -> Row:
    await db.execute(
        """INSERT INTO shares (id, user_id, chat_id, title, snapshot, message_count, created_at)
           VALUES (?, ?, ?, ?, ?, ?, ?)""",
        (id, user_id, chat_id, title, orjson.dumps(messages).decode(), len(messages), now))
    row = await db.fetchone(f"SELECT {COLUMNS} FROM shares WHERE id = ?", (id,))
    assert row is not None
    return row


async def live(db: Executor, share_id: str) -> tuple[Row, list[dict[str, Any]]] | None:
    """A share nobody revoked, and its messages: what anyone with the link may read."""
    row = await db.fetchone(
        f"SELECT {COLUMNS}, snapshot FROM shares WHERE id = ? AND revoked_at IS NULL", (share_id,))
    if row is None:
        return None
    return row, orjson.loads(row.pop("snapshot"))


async def list_live(db: Executor, user_id: str) -> list[Row]:
    return await db.fetchall(
        f"""SELECT {COLUMNS} FROM shares WHERE user_id = ? AND revoked_at IS NULL
            ORDER BY created_at DESC, id DESC""", (user_id,))


async def revoke(db: Executor, user_id: str, share_id: str, now: str) -> Row | None:
    """Revoke one of the user's live links; the row as it was, or None."""
    row = await db.fetchone(
        f"SELECT {COLUMNS} FROM shares WHERE id = ? AND user_id = ? AND revoked_at IS NULL",
        (share_id, user_id))
    if row is not None:
        await db.execute("UPDATE shares SET revoked_at = ? WHERE id = ?", (now, share_id))
    return row


async def revoke_for_chat(db: Executor, user_id: str, chat_id: str, now: str) -> list[str]:
    """Revoke every live link to a chat (it was deleted); their ids."""
    rows = await db.fetchall(
        "SELECT id FROM shares WHERE chat_id = ? AND user_id = ? AND revoked_at IS NULL",
        (chat_id, user_id))
    if rows:
        await db.execute(
            "UPDATE shares SET revoked_at = ? WHERE chat_id = ? AND user_id = ? AND revoked_at IS NULL",
            (now, chat_id, user_id))
    return [row["id"] for row in rows]
