"""refresh_tokens: hashed rotating refresh tokens grouped in families (one family per login)."""
from __future__ import annotations

from .base import Executor, Row


async def insert(db: Executor, *, id: str, user_id: str, family_id: str, token_hash: str,
                 user_agent: str, now: str, expires_at: str) -> None:
    await db.execute(
        """INSERT INTO refresh_tokens (id, user_id, family_id, token_hash, user_agent, created_at,
                                       expires_at)
           VALUES (?, ?, ?, ?, ?, ?, ?)""",
        (id, user_id, family_id, token_hash, user_agent, now, expires_at),
    )


async def get_by_hash(db: Executor, token_hash: str) -> Row | None:
    return await db.fetchone(
        """SELECT id, user_id, family_id, expires_at, revoked_at, replaced_by
           FROM refresh_tokens WHERE token_hash = ?""",
        (token_hash,),
    )


async def mark_rotated(db: Executor, token_id: str, replaced_by: str, now: str) -> bool:
    """Retire a token in favour of its successor; False if someone else rotated it first."""
    changed = await db.execute(
        """UPDATE refresh_tokens SET revoked_at = ?, replaced_by = ?
           WHERE id = ? AND revoked_at IS NULL""",
        (now, replaced_by, token_id),
    )
    return changed == 1


async def revoke_family(db: Executor, family_id: str, now: str) -> int:
    return await db.execute(
        "UPDATE refresh_tokens SET revoked_at = ? WHERE family_id = ? AND revoked_at IS NULL",
        (now, family_id),
    )

