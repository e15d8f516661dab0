"""user_profiles: one JSON document per user (the lists are read and written whole)."""
from __future__ import annotations

from typing import Any

import orjson

from .base import Executor


async def get(db: Executor, user_id: str) -> tuple[dict[str, Any], str | None]:
    """The stored document and when it last changed; an empty one for a user who never saved."""
    row = await db.fetchone("SELECT data, updated_at FROM user_profiles WHERE user_id = ?", (user_id,))
    if row is None:
        return {}, None
    return orjson.loads(row["data"]), row["updated_at"]


async def put(db: Executor, user_id: str, data: dict[str, Any], now: str) -> None:
    await db.execute(
        """INSERT INTO user_profiles (user_id, data, updated_at) VALUES (?, ?, ?)
           ON CONFLICT (user_id) DO UPDATE SET data = excluded.data, updated_at = excluded.updated_at""",
        (user_id, orjson.dumps(data).decode(), now))
