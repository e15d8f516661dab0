"""audit_log: what admins did, appended in the transaction of the change. There is no update or
delete here on purpose: nothing in the product can rewrite the record."""
from __future__ import annotations

from .base import Executor, Row

COLUMNS = "id, actor_id, actor_email, action, target_id, before, after, address, created_at"


async def append(db: Executor, *, id: str, actor_id: str | None, actor_email: str, action: str,
                 target_id: str | None, before: str | None, after: str | None, address: str,
                 now: str) -> None:
    await db.write(f"INSERT INTO audit_log ({COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                   (id, actor_id, actor_email, action, target_id, before, after, address, now))


async def page(db: Executor, *, actor: str | None, action: str | None,
               after: tuple[str, str] | None, limit: int) -> list[Row]:
    """Newest first, each with the target's current email (None once the account is gone)."""
    where, params = [], []
    if actor:
        where.append("(a.actor_id = ? OR a.actor_email = ?)")
        params += [actor, actor]
    if action:
        where.append("a.action = ?")
        params.append(action)
    if after is not None:
        where.append("(a.created_at < ? OR (a.created_at = ? AND a.id < ?))")
        params += [after[0], after[0], after[1]]
    clause = f"WHERE {' AND '.join(where)}" if where else ""
    columns = ", ".join(f"a.{c.strip()}" for c in COLUMNS.split(","))
    return await db.fetchall(
        f"""SELECT {columns}, u.email AS target_email FROM audit_log a
            LEFT JOIN users u ON u.id = a.target_id {clause}
            ORDER BY a.created_at DESC, a.id DESC LIMIT ?""", (*params, limit))


async def of_targets(db: Executor, actions: tuple[str, ...], target_ids: list[str]) -> list[Row]:
    """The records of `actions` done to any of `target_ids` (the console reads an order's
    resolution from them), oldest first."""
    if not target_ids or not actions:
        return []
    marks = ", ".join("?" for _ in actions), ", ".join("?" for _ in target_ids)
    return await db.fetchall(
        f"""SELECT {COLUMNS} FROM audit_log WHERE action IN ({marks[0]})
            AND target_id IN ({marks[1]}) ORDER BY created_at, id""", (*actions, *target_ids))
