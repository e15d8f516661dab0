"""api_keys: personal keys for the OpenAI-compatible endpoints, kept as hashes only.

A key is live while `revoked_at` is NULL and `expires_at` (if any) is in the future; every
request looks its key up here (no cache), so a revocation holds on every instance at once.
"""
from __future__ import annotations

from typing import Any

import orjson

from .base import Executor, Row

COLUMNS = "id, name, prefix, models, monthly_cap, created_at, expires_at, last_used_at, revoked_at"


def _shaped(row: Row | None) -> Row | None:
    if row is not None and "models" in row:
        row["models"] = orjson.loads(row["models"]) if row["models"] is not None else None
    return row


async def insert(db: Executor, *, id: str, user_id: str, name: str, prefix: str, key_hash: str,
                 models: list[str] | None, monthly_cap: int | None, expires_at: str | None,
                 now: str) -> Row:
    await db.execute(
        """INSERT INTO api_keys (id, user_id, name, prefix, key_hash, models, monthly_cap,
                                 created_at, expires_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)""",
        (id, user_id, name, prefix, key_hash,
         orjson.dumps(models).decode() if models is not None else None, monthly_cap, now,
         expires_at))
    row = await db.fetchone(f"SELECT {COLUMNS} FROM api_keys WHERE id = ?", (id,))
    assert row is not None
    return _shaped(row)  # type: ignore[return-value]


async def count_live(db: Executor, user_id: str, now: str) -> int:
    row = await db.fetchone(
        """SELECT COUNT(*) AS n FROM api_keys WHERE user_id = ? AND revoked_at IS NULL
           AND (expires_at IS NULL OR expires_at > ?)""", (user_id, now))
    return int(row["n"]) if row else 0


async def list_for(db: Executor, user_id: str, *, revoked: bool = False) -> list[Row]:
    """The user's keys, newest first; revoked ones too only when asked (the admin's view)."""
    where = "" if revoked else " AND revoked_at IS NULL"
    rows = await db.fetchall(
        f"SELECT {COLUMNS} FROM api_keys WHERE user_id = ?{where} ORDER BY created_at DESC, id DESC",
        (user_id,))
    return [_shaped(row) for row in rows]  # type: ignore[misc]


async def live_by_hash(db: Executor, key_hash: str, now: str) -> Row | None:
    """The live key with this hash and whether its owner is disabled (`owner_disabled_at`), or
    None (unknown, revoked, expired): one statement for every /v1 request."""
    return _shaped(await db.fetchone(
        f"""SELECT k.user_id, u.disabled_at AS owner_disabled_at,
                   {', '.join('k.' + c.strip() for c in COLUMNS.split(','))}
            FROM api_keys k JOIN users u ON u.id = k.user_id
            WHERE k.key_hash = ? AND k.revoked_at IS NULL
              AND (k.expires_at IS NULL OR k.expires_at > ?)""", (key_hash, now)))


async def revoke(db: Executor, key_id: str, now: str, user_id: str | None = None) -> Row | None:
    """Revoke a live key (the user's own, or any with `user_id` None: an admin); the row as it
    is now, or None when there is no such live key."""
    owner, params = ("", (now, key_id)) if user_id is None else (" AND user_id = ?",
                                                                 (now, key_id, user_id))
    changed = await db.execute(
        f"UPDATE api_keys SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL{owner}", params)
    if not changed:
        return None
    return _shaped(await db.fetchone(f"SELECT user_id, {COLUMNS} FROM api_keys WHERE id = ?",
                                     (key_id,)))


async def touch(db: Executor, key_id: str, now: str, unless_after: str) -> None:
    """Record a use; at most one write per key per minute or so (`unless_after`)."""
    await db.execute(
        """UPDATE api_keys SET last_used_at = ?
           WHERE id = ? AND (last_used_at IS NULL OR last_used_at < ?)""",
        (now, key_id, unless_after))


async def lock(db: Executor, key_id: str) -> Row | None:
    """The key's row, locked until the transaction ends (a cap check and its hold are one step)."""
    lock = "" if db.dialect == "sqlite" else " FOR UPDATE"
    return await db.fetchone(f"SELECT id, revoked_at FROM api_keys WHERE id = ?{lock}", (key_id,))


async def spent_since(db: Executor, key_id: str, since: str) -> int:
    row = await db.fetchone(
        """SELECT COALESCE(SUM(-amount), 0) AS spent FROM transactions
           WHERE api_key_id = ? AND kind = 'usage' AND created_at >= ?""", (key_id, since))
    return int(row["spent"]) if row else 0


async def held(db: Executor, hold_prefix: str) -> int:
    """What the key's calls in flight hold (their holds' keys start with `hold_prefix`)."""
    row = await db.fetchone(
        "SELECT COALESCE(SUM(amount), 0) AS held FROM holds WHERE message_id LIKE ?",
        (hold_prefix + "%",))
    return int(row["held"]) if row else 0


def public(row: dict[str, Any]) -> dict[str, Any]:
    """A key as its owner sees it: never the key, never its hash."""
    return {k: row[k] for k in ("id", "name", "prefix", "models", "monthly_cap", "created_at",
                                "expires_at", "last_used_at", "revoked_at")}
