"""The operator's console: find users, see one, change role, status and caps, end sessions, move
credits — each change with its audit record in the same transaction.

A disabled account keeps everything (chats, files, credits); its log-in, refresh and tokens are
refused with `account_disabled`, and its open sockets close with 4403. An admin cannot disable
themselves, and the last enabled admin cannot lose the role (`conflict`): the console always has
someone who can use it.
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

from protocol import shapes
from protocol.errors import BadRequest, Conflict, NotFound
from storage import Database, Executor, utcnow
from storage import admin_users as rows
from storage import refresh_tokens, users
from storage.base import iso

from . import audit, caps, cursors
from .audit import Actor
from .events import CLOSE_LOGGED_OUT, EventSink
from .ledger import Ledger

CLOSE_DISABLED = 4403
SORTS = tuple(rows.SORTS)
ROLES = ("user", "admin")
PAGE = 50


def _days_ago(days: int) -> str:
    return iso(datetime.now(timezone.utc) - timedelta(days=days))


def _listed(row: dict[str, Any]) -> dict[str, Any]:
    return {"id": row["id"], "email": row["email"], "display_name": row["display_name"],
            "role": row["role"], "disabled": row["disabled_at"] is not None,
            "disabled_at": row["disabled_at"], "balance": int(row["balance"]),
            "reserved": int(row["reserved"]), "created_at": row["created_at"],
            "last_active_at": row.get("last_active_at"), "spend": int(row.get("spend") or 0),
            "daily_cap": row["daily_cap"], "monthly_cap": row["monthly_cap"]}


def _settings(row: dict[str, Any]) -> dict[str, Any]:
    """What an update may change, as the audit log records it."""
    return {"role": row["role"], "disabled": row["disabled_at"] is not None,
            "daily_cap": row["daily_cap"], "monthly_cap": row["monthly_cap"]}


class Admin:
    def __init__(self, db: Database, events: EventSink, ledger: Ledger) -> None:
        self.db = db
        self.events = events
        self.ledger = ledger

    async def users(self, *, q: str | None = None, sort: str = "created", days: int = 30,
                    cursor: str | None = None, limit: int = PAGE) -> dict[str, Any]:
        """A page of users; `spend` is each one's spend in the last `days` days."""
        if sort not in SORTS:
            raise BadRequest(f"sort must be one of {', '.join(SORTS)}", field="sort")
        if not 1 <= days <= 400:
            raise BadRequest("days must be 1 to 400", field="days")
        offset = int(cursors.decode_id(cursor) or "0", 16)  # a position in the ordering
        found = await rows.page(self.db, q=(q or "").strip() or None, sort=sort,
                                since=_days_ago(days), offset=offset, limit=limit + 1)
        more = len(found) > limit
        return {"users": [_listed(r) for r in found[:limit]],
                "next_cursor": cursors.encode_id(f"{offset + limit:032x}") if more else None}

    async def user(self, user_id: str) -> dict[str, Any]:
        row = await users.get(self.db, user_id)
        if row is None:
            raise NotFound(f"user {user_id} does not exist", user_id=user_id)
        now = utcnow()
        sessions = await refresh_tokens.live_sessions(self.db, user_id, now)
        return {
            "user": {**_listed({**row, "last_active_at": max(
                (s["last_used_at"] for s in sessions), default=None)}),
                     "email_verified": row["email_verified_at"] is not None},
            "account": await self.ledger.balance(user_id),
            "caps": await caps.status(self.db, user_id, row),
            "transactions": await self.ledger.transactions(user_id, limit=20),
            "sessions": sessions,
            "usage": {"spend_today": await rows.spend_since(self.db, user_id,
                                                            caps.windows()["daily"][0]),
                      "spend_30d": await rows.spend_since(self.db, user_id, _days_ago(30)),
                      "replies_30d": await rows.replies_since(self.db, user_id, _days_ago(30))},
        }

    async def update(self, actor: Actor, user_id: str, changes: dict[str, Any]) -> dict[str, Any]:
        """PATCH {role?, disabled?, daily_cap?, monthly_cap?}: the user's settings after."""
        if "role" in changes and changes["role"] not in ROLES:
            raise BadRequest("role must be user or admin", field="role")
        for name in ("daily_cap", "monthly_cap"):
            if changes.get(name) is not None and changes[name] < 0:
                raise BadRequest(f"{name} must be 0 or more micro-credits (null: no cap)",
                                 field=name)
        if not changes:
            raise BadRequest("nothing to change: send role, disabled, daily_cap or monthly_cap")
        async with self.db.transaction() as tx:
            row = await rows.lock_user(tx, user_id)
            if row is None:
                raise NotFound(f"user {user_id} does not exist", user_id=user_id)
            before = _settings(row)
            after = {**before, **changes}
            await self._guard(tx, actor, user_id, before, after)
            values: dict[str, Any] = {k: changes[k] for k in ("role", "daily_cap", "monthly_cap")
                                      if k in changes}
            if "disabled" in changes and changes["disabled"] != before["disabled"]:
                values["disabled_at"] = utcnow() if changes["disabled"] else None
            await rows.update(tx, user_id, values, utcnow())
            await audit.record(tx, actor, "user.update", user_id, before, after)
        if after["disabled"] and not before["disabled"]:
            await self.events.disconnect(user_id, CLOSE_DISABLED, "account disabled")
        elif after["role"] != before["role"]:  # their open tabs show or hide the console
            user = await users.get(self.db, user_id)
            if user is not None:
                await self.events.publish(user_id, "account.updated", {"user": shapes.user(user)})
        return {"id": user_id, **after}

    async def _guard(self, tx: Executor, actor: Actor, user_id: str, before: dict[str, Any],
                     after: dict[str, Any]) -> None:
        if actor.user_id == user_id and after["disabled"] and not before["disabled"]:
            raise Conflict("you cannot disable your own account", field="disabled")
        loses_admin = before["role"] == "admin" and not before["disabled"] and (
            after["role"] != "admin" or after["disabled"])
        if loses_admin and await rows.admins_left(tx, user_id) == 0:
            raise Conflict("this is the last admin: make another admin first",
                           field="role" if after["role"] != "admin" else "disabled")

    async def revoke_sessions(self, actor: Actor, user_id: str) -> dict[str, Any]:
        """End every session of the user; their sockets close with 4401."""
        now = utcnow()
        async with self.db.transaction() as tx:
            if await rows.lock_user(tx, user_id) is None:
                raise NotFound(f"user {user_id} does not exist", user_id=user_id)
            live = len(await refresh_tokens.live_sessions(tx, user_id, now))
            await refresh_tokens.revoke_all(tx, user_id, now)
            await audit.record(tx, actor, "user.sessions_revoke", user_id,
                               {"sessions": live}, {"sessions": 0})
        await self.events.disconnect(user_id, CLOSE_LOGGED_OUT, "sessions ended by an admin")
        return {"revoked": live}

    async def deposit(self, actor: Actor, user_id: str, amount: int, *, kind: str, note: str,
                      idempotency_key: str | None) -> tuple[dict[str, Any], dict[str, int], bool]:
        """A deposit or adjustment (the ledger's rules), announced to the user's open tabs."""
        async def record(tx: Executor, row: dict[str, Any], before: dict[str, int],
                         after: dict[str, int]) -> None:
            await audit.record(tx, actor, f"credits.{kind}", user_id,
                               {"balance": before["balance"]},
                               {"balance": after["balance"], "amount": amount, "note": note,
                                "transaction_id": row["id"]})

        return await self.ledger.credit(user_id, amount, kind=kind, note=note,
                                        idempotency_key=idempotency_key,
                                        created_by=actor.user_id or actor.email, audit=record)

    async def audit(self, *, cursor: str | None, actor: str | None,
                    action: str | None) -> dict[str, Any]:
        return await audit.page(self.db, cursor=cursor, actor=actor, action=action)

