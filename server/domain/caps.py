"""Spend caps: how much a user may spend per UTC day and per calendar month (UTC).

`check` is the one gate every reservation passes (the ledger's `reserve` calls it, so a reply, a
chat's title and any other path that holds credits are capped alike). A reservation is refused
when what was charged in the period, plus what replies in flight hold, plus this reservation's
worst case would pass a cap: `spend_cap_reached` with the cap, what is left and when it resets.
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

from protocol import shapes
from protocol.errors import SpendCapReached
from storage import Executor
from storage import admin_users as rows
from storage.base import iso

CAPS = ("daily", "monthly")


def windows(now: datetime | None = None) -> dict[str, tuple[str, str]]:
    """Each cap's period as (start, reset), ISO timestamps."""
    now = (now or datetime.now(timezone.utc)).astimezone(timezone.utc)
    day = now.replace(hour=0, minute=0, second=0, microsecond=0)
    month = day.replace(day=1)
    next_month = (month + timedelta(days=32)).replace(day=1)
    return {"daily": (iso(day), iso(day + timedelta(days=1))),
            "monthly": (iso(month), iso(next_month))}


async def status(db: Executor, user_id: str, row: dict[str, Any] | None = None) -> dict[str, Any]:
    """Each cap with what was spent in its period, what is left (after holds) and its reset;
    a cap not set is null."""
    row = row or await rows.caps(db, user_id) or {}
    shown: dict[str, Any] = {}
    for name, (start, reset) in windows().items():
        limit = row.get(f"{name}_cap")
        if limit is None:
            shown[name] = None
            continue
        spent = await rows.spend_since(db, user_id, start)
        left = max(0, int(limit) - spent - int(row.get("reserved") or 0))
        shown[name] = {"cap": int(limit), "spent": spent, "left": left, "resets_at": reset}
    return shown


async def check(tx: Executor, user_id: str, amount: int) -> None:
    """Refuse (`spend_cap_reached`) a reservation of `amount` that would pass a cap. Inside the
    reservation's transaction, with the user's row locked, so concurrent sends cannot both fit."""
    row = await rows.lock_caps(tx, user_id)
    if row is not None:
        await check_row(tx, user_id, amount, row)


async def check_row(tx: Executor, user_id: str, amount: int, row: dict[str, Any]) -> None:
    """`check`, with the caps and the reserved amount (before this one) already read, the row
    locked (the hold's own update read them: one statement fewer for every send)."""
    if row["daily_cap"] is None and row["monthly_cap"] is None:
        return
    for name, (start, reset) in windows().items():
        limit = row[f"{name}_cap"]
        if limit is None:
            continue
        spent = await rows.spend_since(tx, user_id, start)
        left = max(0, int(limit) - spent - int(row["reserved"]))
        if amount > left:
            raise SpendCapReached(
                f"this reply may cost up to {shapes.credits(amount)} credits and your {name} "
                f"spend cap leaves {shapes.credits(left)}; it resets at {reset}",
                cap=name, limit=int(limit), left=left, needed=amount, resets_at=reset)
