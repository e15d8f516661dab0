"""mail_tokens: the hashed, single-use, expiring tokens of links sent by mail (reset, verify)."""
from __future__ import annotations

from .base import Executor, Row


async def insert(db: Executor, *, id: str, user_id: str, purpose: str, token_hash: str,
                 email_key: str, now: str, expires_at: str) -> None:
    await db.execute(
        """INSERT INTO mail_tokens (id, user_id, purpose, token_hash, email_key, created_at,
                                    expires_at)
           VALUES (?, ?, ?, ?, ?, ?, ?)""",
        (id, user_id, purpose, token_hash, email_key, now, expires_at))


async def find_live(db: Executor, token_hash: str, purpose: str, now: str) -> Row | None:
    """The unused, unexpired token of this purpose, with its user's current email key (None if
    the token is unknown, spent, expired, made for another purpose, or its user is gone)."""
    return await db.fetchone(
        """SELECT t.id, t.user_id, t.email_key AS sent_to, u.email, u.email_key
           FROM mail_tokens t JOIN users u ON u.id = t.user_id
           WHERE t.token_hash = ? AND t.purpose = ? AND t.used_at IS NULL AND t.expires_at > ?""",
        (token_hash, purpose, now))


async def spend(db: Executor, token_id: str, now: str) -> bool:
    """Use a token up; False if it was used meanwhile (two confirmations at once: one wins)."""
    return await db.execute(
        "UPDATE mail_tokens SET used_at = ? WHERE id = ? AND used_at IS NULL AND expires_at > ?",
        (now, token_id, now)) == 1


async def spend_all(db: Executor, user_id: str, purpose: str, now: str) -> int:
    """Void every outstanding token of the user for `purpose` (a reset voids the other links)."""
    return await db.execute(
        """UPDATE mail_tokens SET used_at = ?
           WHERE user_id = ? AND purpose = ? AND used_at IS NULL""",
        (now, user_id, purpose))


async def purge_expired(db: Executor, before: str) -> int:
    return await db.execute("DELETE FROM mail_tokens WHERE expires_at < ?", (before,))
