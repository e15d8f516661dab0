"""The audit log: who (actor, from which address) did what admin action to whom, before and after.

`record` runs inside the transaction of the change it describes, so a change and its record
commit or fail together. Nothing in the product edits or deletes a record (storage/audit.py has
only an insert and a read).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson

from protocol.errors import BadRequest
from storage import Database, Executor, new_id, utcnow
from storage import audit as rows

from . import cursors

ACTIONS = ("user.update", "user.sessions_revoke", "credits.deposit", "credits.adjustment",
           "model.create", "model.update", "apikey.revoke", "order.credit", "order.dismiss",
           "pack.create", "pack.update")


@dataclass(frozen=True)
class Actor:
    """Who acts: an admin's id and email and the address they call from; the command line is
    an actor without an id (`email` "cli")."""

    user_id: str | None
    email: str
    address: str


CLI = Actor(None, "cli", "cli")


def _json(value: Any) -> str | None:
    return None if value is None else orjson.dumps(value).decode()


async def record(tx: Executor, actor: Actor, action: str, target_id: str | None,
                 before: Any, after: Any) -> None:
    await rows.append(tx, id=new_id(), actor_id=actor.user_id, actor_email=actor.email,
                      action=action, target_id=target_id, before=_json(before),
                      after=_json(after), address=actor.address[:100], now=utcnow())


def _shaped(row: dict[str, Any]) -> dict[str, Any]:
    return {**row, "before": orjson.loads(row["before"]) if row["before"] else None,
            "after": orjson.loads(row["after"]) if row["after"] else None}


async def page(db: Database, *, cursor: str | None, actor: str | None, action: str | None,
               limit: int = 50) -> dict[str, Any]:
    """Newest first; `actor` an id or an email, `action` one of ACTIONS."""
    if action and action not in ACTIONS:
        raise BadRequest(f"action must be one of {', '.join(ACTIONS)}", field="action")
    found = await rows.page(db, actor=actor, action=action, after=cursors.decode(cursor),
                            limit=limit + 1)
    more = len(found) > limit
    found = found[:limit]
    return {"entries": [_shaped(r) for r in found],
            "next_cursor": cursors.encode(found[-1]["created_at"], found[-1]["id"]) if more
            else None}
