"""The operator's view of users: search and sort over every account, role, status and caps.

Plain SQL over `users`, `transactions` and `refresh_tokens`. "Last active" is the newest refresh
token of the user: a signed-in tab rotates one every access-token lifetime, so it tracks use
without a write per request.
"""
from __future__ import annotations

from typing import Any

from .base import Executor, Row

# What `sort` may name, and the order each means (newest / largest first; never-seen last).
SORTS = {
    "created": "created_at DESC",
    "last_active": "last_active_at IS NULL, last_active_at DESC",
    "balance": "balance DESC",
    "spend": "spend DESC",
}

LIST_COLUMNS = """u.id, u.email, u.display_name, u.role, u.balance, u.reserved, u.created_at,
    u.disabled_at, u.daily_cap, u.monthly_cap,
    (SELECT MAX(r.created_at) FROM refresh_tokens r WHERE r.user_id = u.id) AS last_active_at,
    COALESCE((SELECT -SUM(t.amount) FROM transactions t WHERE t.user_id = u.id
              AND t.kind IN ('usage', 'refund') AND t.created_at >= ?), 0) AS spend"""


async def page(db: Executor, *, q: str | None, sort: str, since: str, offset: int,
               limit: int) -> list[Row]:
    """A page of users matching `q` (a part of the email or name, any case), ordered by `sort`
    (largest first, then id), with each one's spend since `since`."""
    where, params = "", [since]
    if q:
        pattern = "%" + q.casefold().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        where = "WHERE (LOWER(u.email) LIKE ? ESCAPE '\\' OR LOWER(u.display_name) LIKE ? ESCAPE '\\')"
        params += [pattern, pattern]
    inner = f"SELECT {LIST_COLUMNS} FROM users u {where}"
    return await db.fetchall(
        f"""SELECT * FROM ({inner}) listed
            ORDER BY {SORTS[sort]}, id DESC LIMIT ? OFFSET ?""",
        (*params, limit, offset))


async def spend_since(db: Executor, user_id: str, since: str) -> int:
    """Micro-credits the user was charged (less refunds) since `since`."""
    value = await db.fetchval(
        """SELECT COALESCE(-SUM(amount), 0) AS n FROM transactions
           WHERE user_id = ? AND kind IN ('usage', 'refund') AND created_at >= ?""",
        (user_id, since))
    return int(value or 0)


async def replies_since(db: Executor, user_id: str, since: str) -> int:
    return int(await db.fetchval(
        """SELECT COUNT(*) AS n FROM transactions
           WHERE user_id = ? AND kind = 'usage' AND created_at >= ?""", (user_id, since)) or 0)


async def caps(db: Executor, user_id: str) -> Row | None:
    return await db.fetchone("SELECT daily_cap, monthly_cap, reserved FROM users WHERE id = ?",
                             (user_id,))


async def lock_caps(db: Executor, user_id: str) -> Row | None:
    """The caps and reserved amount, locked until the transaction ends: two sends at once cannot
    both pass a check that only one of them fits."""
    lock = "" if db.dialect == "sqlite" else " FOR UPDATE"
    return await db.fetchone(
        f"SELECT daily_cap, monthly_cap, reserved FROM users WHERE id = ?{lock}", (user_id,))


async def admins_left(db: Executor, excluding: str) -> int:
    """Enabled admins other than `excluding`."""
    return int(await db.fetchval(
        """SELECT COUNT(*) AS n FROM users
           WHERE role = 'admin' AND disabled_at IS NULL AND id <> ?""", (excluding,)) or 0)


async def lock_user(db: Executor, user_id: str) -> Row | None:
    lock = "" if db.dialect == "sqlite" else " FOR UPDATE"
    return await db.fetchone(
        f"""SELECT id, email, role, disabled_at, daily_cap, monthly_cap FROM users
            WHERE id = ?{lock}""", (user_id,))


async def update(db: Executor, user_id: str, changes: dict[str, Any], now: str) -> None:
    """Set `role`, `disabled_at`, `daily_cap`, `monthly_cap` (the keys given)."""
    fields = [k for k in ("role", "disabled_at", "daily_cap", "monthly_cap") if k in changes]
    assignments = "".join(f"{k} = ?, " for k in fields)
    await db.execute(f"UPDATE users SET {assignments}updated_at = ? WHERE id = ?",
                     (*(changes[k] for k in fields), now, user_id))


async def set_default_caps(db: Executor, user_id: str, daily: int | None,
                           monthly: int | None) -> None:
    await db.execute("UPDATE users SET daily_cap = ?, monthly_cap = ? WHERE id = ?",
                     (daily, monthly, user_id))
