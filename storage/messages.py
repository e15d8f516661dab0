"""messages: the turns of a chat, with branch parents, status, usage and cost."""
from __future__ import annotations

from .base import Executor, Row

COLUMNS = ("id", "chat_id", "parent_id", "role", "content", "model", "status", "error_code",
           "prompt_tokens", "completion_tokens", "cost", "client_msg_id", "created_at", "updated_at")
SELECT = ", ".join(COLUMNS)


async def insert(db: Executor, *, id: str, chat_id: str, user_id: str, parent_id: str | None,
                 role: str, content: str, model: str | None, status: str,
                 client_msg_id: str | None, now: str) -> Row:
    row = await db.fetchone(
        f"""INSERT INTO messages (id, chat_id, user_id, parent_id, role, content, model, status,
                                  client_msg_id, created_at, updated_at)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING {SELECT}""",
        (id, chat_id, user_id, parent_id, role, content, model, status, client_msg_id, now, now),
    )
    assert row is not None
    return row


async def list_page(db: Executor, chat_id: str, *, before: tuple[str, str] | None,
                    limit: int) -> list[Row]:
    """The newest `limit` messages older than `before`, returned oldest first (reading order)."""
    where, params = "chat_id = ?", [chat_id]
    if before is not None:
        where += " AND (created_at < ? OR (created_at = ? AND id < ?))"
        params += [before[0], before[0], before[1]]
    rows = await db.fetchall(
        f"SELECT {SELECT} FROM messages WHERE {where} ORDER BY created_at DESC, id DESC LIMIT ?",
        (*params, limit),
    )
    rows.reverse()
    return rows
