"""The operator's side of billing: every order in the console, and a flagged one resolved.

A flagged order (the provider reported another amount or currency than the order's) credits
nothing until an admin decides. "credit" deposits the pack through the ledger with the very key a
webhook would have used (the provider's payment id), so a webhook or a reconcile arriving later
cannot credit it again; "dismiss" closes it as `failed` with nothing credited. Either way the
order keeps its flag reason, and the decision (who, the note) is an audit record written in the
same transaction — the console reads an order's resolution back from the audit log.
"""
from __future__ import annotations

import logging
from typing import Any, Mapping

import orjson

from protocol.errors import BadRequest, Conflict, NotFound
from server import metrics
from storage import Database, utcnow
from storage import audit as audit_rows
from storage import orders as rows

from .. import audit, cursors
from ..audit import Actor
from ..ledger import Ledger
from .settle import deposit_key, received

log = logging.getLogger("chatwire.billing")

RESOLUTIONS = {"credit": "order.credit", "dismiss": "order.dismiss"}
PAGE = 50


def admin_view(row: Mapping[str, Any]) -> dict[str, Any]:
    """An order as the console shows it; a flagged (or once flagged) one says what was expected
    and what the provider reported instead."""
    flagged = bool(row["flag_reason"])
    return {
        "id": row["id"], "user_id": row["user_id"], "email": row["email"],
        "provider": row["provider"], "pack_id": row["pack_id"], "amount": int(row["amount"]),
        "currency": row["currency"], "credits": int(row["credits"]), "status": row["status"],
        "payment_id": row["payment_id"], "charge_ref": row["charge_ref"],
        "receipt_url": row["receipt_url"], "flag_reason": row["flag_reason"] or None,
        "expected": ({"amount": int(row["amount"]), "currency": row["currency"]} if flagged
                     else None),
        "received": received(row["flag_reason"]) if flagged else None,
        "resolution": None, "created_at": row["created_at"], "updated_at": row["updated_at"]}


class OrderReview:
    def __init__(self, db: Database, ledger: Ledger) -> None:
        self.db = db
        self.ledger = ledger

    async def orders(self, *, status: str | None, cursor: str | None,
                     limit: int = PAGE) -> dict[str, Any]:
        """A page of everyone's orders (newest first), and how many are flagged right now."""
        if status and status not in rows.STATUSES:
            raise BadRequest(f"status must be one of {', '.join(rows.STATUSES)}", field="status")
        found = await rows.admin_page(self.db, status=status or None,
                                      after=cursors.decode(cursor), limit=limit + 1)
        more = len(found) > limit
        found = found[:limit]
        views = [admin_view(r) for r in found]
        await self._resolutions(views)
        return {"orders": views, "flagged": await rows.count_flagged(self.db),
                "next_cursor": cursors.encode(found[-1]["created_at"], found[-1]["id"]) if more
                else None}

    async def _resolutions(self, views: list[dict[str, Any]]) -> None:
        """Fill in who resolved each once-flagged order, how, and why (from the audit log)."""
        closed = {v["id"]: v for v in views if v["flag_reason"] and v["status"] != "flagged"}
        if not closed:
            return
        entries = await audit_rows.of_targets(self.db, tuple(RESOLUTIONS.values()),
                                              sorted({v["user_id"] for v in closed.values()}))
        for entry in entries:
            after = orjson.loads(entry["after"]) if entry["after"] else {}
            view = closed.get(after.get("order_id"))
            if view is not None:
                view["resolution"] = {"action": after.get("action"), "note": after.get("note"),
                                      "by": entry["actor_email"], "at": entry["created_at"]}

    async def resolve(self, actor: Actor, order_id: str, action: str,
                      note: str) -> dict[str, Any]:
        """Credit or dismiss a flagged order, audited in the same transaction."""
        if action not in RESOLUTIONS:
            raise BadRequest("action must be credit or dismiss", field="action")
        note = note.strip()
        if not note:
            raise BadRequest("a note saying why is required", field="note")
        announce = None
        async with self.db.transaction() as tx:
            order = await rows.lock(tx, order_id)
            if order is None:
                raise NotFound(f"order {order_id} does not exist")
            if order["status"] != "flagged":
                raise Conflict(f"order {order_id} is {order['status']}, not flagged: "
                               "there is nothing to resolve", status=order["status"])
            provider, now = order["provider"], utcnow()
            after: dict[str, Any] = {"order_id": order_id, "action": action, "note": note}
            if action == "credit":
                # The key a webhook would use: a later delivery (or reconcile) finds it paid,
                # and even a path that missed the status could not write a second deposit.
                key = deposit_key(provider, order["payment_id"] or f"order:{order_id}")
                row, announce = await self.ledger.apply(
                    tx, order["user_id"], int(order["credits"]), kind="deposit",
                    note=f"{provider} order {order_id}, credited by an admin: {note}"[:500],
                    idempotency_key=key, created_by=actor.user_id or actor.email)
                await rows.mark(tx, order_id, "paid", now)
                after.update(status="paid", credits=int(order["credits"]),
                             transaction_id=row["id"])
            else:
                await rows.mark(tx, order_id, "failed", now)
                after.update(status="failed")
            await audit.record(tx, actor, RESOLUTIONS[action], order["user_id"],
                               {"order_id": order_id, "status": "flagged",
                                "flag_reason": order["flag_reason"]}, after)
        if announce is not None:
            await self.ledger.announce(order["user_id"], announce)
        metrics.BILLING.labels(provider, f"resolved_{action}").inc()
        log.warning("billing: flagged order %s resolved by admin %s: %s", order_id,
                    actor.user_id or actor.email, action)
        return {"order": await self.order(order_id)}

    async def order(self, order_id: str) -> dict[str, Any]:
        row = await rows.admin_get(self.db, order_id)
        if row is None:
            raise NotFound(f"order {order_id} does not exist")
        view = admin_view(row)
        await self._resolutions([view])
        return view
