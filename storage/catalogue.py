"""models: the model catalogue (which models exist, who serves them, what they cost), editable
at runtime. Rows map onto `providers.registry.Model`, plus `enabled` and `position`."""
from __future__ import annotations

from typing import Any

from providers.registry import Model

from .base import Executor, Row

MODEL_FIELDS = tuple(Model.__dataclass_fields__)
COLUMNS = (*MODEL_FIELDS, "enabled", "position", "created_at", "updated_at")
SELECT = ", ".join(COLUMNS)
UPDATABLE = frozenset(MODEL_FIELDS) - {"id", "provider"} | {"enabled"}


def _shape(row: Row) -> Row:
    row["vision"] = bool(row["vision"])
    row["enabled"] = bool(row["enabled"])
    return row


def model_of(row: Row) -> Model:
    return Model(**{k: row[k] for k in MODEL_FIELDS})


async def list_all(db: Executor) -> list[Row]:
    rows = await db.fetchall(f"SELECT {SELECT} FROM models ORDER BY position, id")
    return [_shape(r) for r in rows]


async def get(db: Executor, model_id: str) -> Row | None:
    row = await db.fetchone(f"SELECT {SELECT} FROM models WHERE id = ?", (model_id,))
    return _shape(row) if row is not None else None


async def insert(db: Executor, model: Model, *, enabled: bool, position: int, now: str,
                 if_new: bool = False) -> int:
    """One model; with `if_new`, nothing when its id is there already (seeding). Rows written."""
    values = [getattr(model, k) for k in MODEL_FIELDS]
    marks = ", ".join("?" for _ in range(len(values) + 4))
    conflict = " ON CONFLICT (id) DO NOTHING" if if_new else ""
    return await db.execute(
        f"INSERT INTO models ({SELECT}) VALUES ({marks}){conflict}",
        (*values, enabled, position, now, now))


async def next_position(db: Executor) -> int:
    return int(await db.fetchval("SELECT COALESCE(MAX(position), -1) + 1 FROM models"))


async def update(db: Executor, model_id: str, changes: dict[str, Any], now: str) -> bool:
    fields = [k for k in changes if k in UPDATABLE]
    assignments = "".join(f"{k} = ?, " for k in fields)
    changed = await db.execute(f"UPDATE models SET {assignments}updated_at = ? WHERE id = ?",
                               (*(changes[k] for k in fields), now, model_id))
    return changed == 1
