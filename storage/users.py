"""users: accounts, roles and the balance column (changed only by the ledger)."""
from __future__ import annotations

from .base import Executor, Row

USER_COLUMNS = ("id, email, display_name, default_model, role, balance, reserved, created_at, "
                "updated_at, email_verified_at, disabled_at, daily_cap, monthly_cap")


async def insert(db: Executor, *, id: str, email: str, email_key: str, password_hash: str,
                 display_name: str, role: str, now: str, verified: bool = True) -> Row:
    row = await db.fetchone(
        f"""INSERT INTO users (id, email, email_key, password_hash, display_name, role, balance,
                               created_at, updated_at, email_verified_at)
            VALUES (?, ?, ?, ?, ?, ?, 0, ?, ?, ?) RETURNING {USER_COLUMNS}""",
        (id, email, email_key, password_hash, display_name, role, now, now,
         now if verified else None),
    )
    assert row is not None
    return row


async def get(db: Executor, user_id: str) -> Row | None:
    return await db.fetchone(f"SELECT {USER_COLUMNS} FROM users WHERE id = ?", (user_id,))


async def get_in_live_session(db: Executor, user_id: str, family_id: str, now: str) -> Row | None:
    """The user, if `family_id` is one of their sessions that is still live (an unrevoked,
    unexpired refresh token): what a request or a socket checks, in one statement."""
    return await db.fetchone(
        f"""SELECT {USER_COLUMNS} FROM users WHERE id = ? AND EXISTS (
                SELECT 1 FROM refresh_tokens r WHERE r.family_id = ? AND r.user_id = users.id
                AND r.revoked_at IS NULL AND r.expires_at > ?)""",
        (user_id, family_id, now),
    )


async def get_by_email(db: Executor, email_key: str) -> Row | None:
    return await db.fetchone(f"SELECT {USER_COLUMNS} FROM users WHERE email_key = ?", (email_key,))


async def get_with_password(db: Executor, email_key: str) -> Row | None:
    return await db.fetchone(
        f"SELECT {USER_COLUMNS}, password_hash FROM users WHERE email_key = ?", (email_key,)
    )


async def set_password_hash(db: Executor, user_id: str, password_hash: str, now: str) -> None:
    await db.execute(
        "UPDATE users SET password_hash = ?, updated_at = ? WHERE id = ?",
        (password_hash, now, user_id),
    )


async def update_settings(db: Executor, user_id: str, changes: dict[str, str | None],
                          now: str) -> Row | None:
    """Change `display_name` and/or `default_model` (the keys given); the user after."""
    fields = [k for k in ("display_name", "default_model") if k in changes]
    assignments = "".join(f"{k} = ?, " for k in fields)
    return await db.fetchone(
        f"UPDATE users SET {assignments}updated_at = ? WHERE id = ? RETURNING {USER_COLUMNS}",
        (*(changes[k] for k in fields), now, user_id))


async def get_with_password_by_id(db: Executor, user_id: str) -> Row | None:
    return await db.fetchone(f"SELECT {USER_COLUMNS}, password_hash FROM users WHERE id = ?",
                             (user_id,))


async def mark_verified(db: Executor, user_id: str, now: str) -> bool:
    """Record that the user's address was proven; False if it already was."""
    return await db.execute(
        "UPDATE users SET email_verified_at = ? WHERE id = ? AND email_verified_at IS NULL",
        (now, user_id)) == 1


async def is_verified(db: Executor, user_id: str) -> bool:
    return await db.fetchval("SELECT COUNT(*) AS n FROM users WHERE id = ? AND "
                             "email_verified_at IS NOT NULL", (user_id,)) == 1
