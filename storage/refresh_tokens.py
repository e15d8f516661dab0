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



async def live_sessions(db: Executor, user_id: str, now: str) -> list[Row]:
    """The user's sessions still live (a family with an unrevoked, unexpired token), the most
    recently used first: when each began, when it last refreshed, and its latest user agent."""
    return await db.fetchall(
        """SELECT r.family_id AS id, MIN(r.created_at) AS created_at,
                  MAX(r.created_at) AS last_used_at,
                  (SELECT l.user_agent FROM refresh_tokens l WHERE l.family_id = r.family_id
                   ORDER BY l.created_at DESC, l.id DESC LIMIT 1) AS user_agent
           FROM refresh_tokens r WHERE r.user_id = ?
           GROUP BY r.family_id
           HAVING SUM(CASE WHEN r.revoked_at IS NULL AND r.expires_at > ? THEN 1 ELSE 0 END) > 0
           ORDER BY last_used_at DESC""",
        (user_id, now))


async def revoke_user_family(db: Executor, user_id: str, family_id: str, now: str) -> int:
    """End one of the user's sessions (0 if it is not theirs, or already over)."""
    return await db.execute(
        """UPDATE refresh_tokens SET revoked_at = ?
           WHERE user_id = ? AND family_id = ? AND revoked_at IS NULL""",
        (now, user_id, family_id))


async def revoke_others(db: Executor, user_id: str, keep_family: str, now: str) -> int:
    """End every session of the user but `keep_family`; how many tokens that revoked."""
    return await db.execute(
        """UPDATE refresh_tokens SET revoked_at = ?
           WHERE user_id = ? AND family_id <> ? AND revoked_at IS NULL""",
        (now, user_id, keep_family))


async def revoke_all(db: Executor, user_id: str, now: str) -> int:
    """End every session of the user."""
    return await db.execute(
        "UPDATE refresh_tokens SET revoked_at = ? WHERE user_id = ? AND revoked_at IS NULL",
        (now, user_id))
