"""credit_packs: what the operator sells (price in the currency's minor unit, credits in
micro-credits), editable at runtime. Rows map onto `server.domain.billing.packs.Pack`."""
from __future__ import annotations

from typing import Any

from .base import Executor, Row

FIELDS = ("id", "title", "price", "currency", "credits", "enabled")
COLUMNS = (*FIELDS, "position", "created_at", "updated_at")
SELECT = ", ".join(COLUMNS)
UPDATABLE = frozenset(FIELDS) - {"id"}


def _shape(row: Row) -> Row:
    row["enabled"] = bool(row["enabled"])
    row["price"], row["credits"] = int(row["price"]), int(row["credits"])
    return row


async def list_all(db: Executor) -> list[Row]:
    rows = await db.fetchall(f"SELECT {SELECT} FROM credit_packs ORDER BY position, id")
    return [_shape(r) for r in rows]


async def get(db: Executor, pack_id: str) -> Row | None:
    row = await db.fetchone(f"SELECT {SELECT} FROM credit_packs WHERE id = ?", (pack_id,))
    return _shape(row) if row is not None else None


async def insert(db: Executor, pack: dict[str, Any], *, position: int, now: str,
                 if_new: bool = False) -> int:
    """One pack; with `if_new`, nothing when its id is there already (seeding). Rows written."""
    conflict = " ON CONFLICT (id) DO NOTHING" if if_new else ""
    return await db.execute(
        f"INSERT INTO credit_packs ({SELECT}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?){conflict}",
        (*(pack[k] for k in FIELDS), position, now, now))


async def next_position(db: Executor) -> int:
    return int(await db.fetchval("SELECT COALESCE(MAX(position), -1) + 1 FROM credit_packs"))


async def update(db: Executor, pack_id: str, changes: dict[str, Any], now: str) -> bool:
    fields = [k for k in changes if k in UPDATABLE]
    assignments = "".join(f"{k} = ?, " for k in fields)
    changed = await db.execute(f"UPDATE credit_packs SET {assignments}updated_at = ? WHERE id = ?",
                               (*(changes[k] for k in fields), now, pack_id))
    return changed == 1
