"""Orders for credit packs and the payment-provider events already processed.

An order moves pending → paid | failed | flagged, and paid → reversed; every change that credits
or takes back credits runs inside the caller's transaction under `lock`, together with its ledger
row and its event record, so a webhook and a reconcile racing each other settle an order once.
"""
from __future__ import annotations

from .base import Executor, Row

COLUMNS = ("id", "user_id", "provider", "pack_id", "amount", "currency", "credits", "status",
           "payment_id", "charge_ref", "receipt_url", "flag_reason", "reversed_amount",
           "created_at", "updated_at")
SELECT = ", ".join(COLUMNS)


async def create(db: Executor, *, id: str, user_id: str, provider: str, pack_id: str, amount: int,
                 currency: str, credits: int, now: str) -> Row:
    row = await db.fetchone(
        f"""INSERT INTO orders (id, user_id, provider, pack_id, amount, currency, credits, status,
                                created_at, updated_at)
            VALUES (?, ?, ?, ?, ?, ?, ?, 'pending', ?, ?) RETURNING {SELECT}""",
        (id, user_id, provider, pack_id, amount, currency, credits, now, now))
    assert row is not None
    return row


async def get(db: Executor, order_id: str) -> Row | None:
    return await db.fetchone(f"SELECT {SELECT} FROM orders WHERE id = ?", (order_id,))


async def lock(db: Executor, order_id: str) -> Row | None:
    """The order, locked until the transaction ends (SQLite's BEGIN IMMEDIATE already is)."""
    suffix = "" if db.dialect == "sqlite" else " FOR UPDATE"
    return await db.fetchone(f"SELECT {SELECT} FROM orders WHERE id = ?{suffix}", (order_id,))


async def find_by_charge(db: Executor, provider: str, ref: str) -> str | None:
    """The id of the order whose payment is `ref` (a Stripe payment intent, a YooKassa payment)."""
    return await db.fetchval(
        "SELECT id FROM orders WHERE provider = ? AND (charge_ref = ? OR payment_id = ?)",
        (provider, ref, ref))


async def set_payment(db: Executor, order_id: str, payment_id: str, now: str) -> None:
    await db.execute("UPDATE orders SET payment_id = ?, updated_at = ? WHERE id = ?",
                     (payment_id, now, order_id))


async def mark(db: Executor, order_id: str, status: str, now: str, *, payment_id: str | None = None,
               charge_ref: str | None = None, receipt_url: str | None = None,
               flag_reason: str | None = None, reversed_amount: int | None = None) -> None:
    """Set the status and whatever of the rest is given (None keeps what is stored)."""
    await db.execute(
        """UPDATE orders SET status = ?, updated_at = ?,
                  payment_id = COALESCE(?, payment_id), charge_ref = COALESCE(?, charge_ref),
                  receipt_url = COALESCE(?, receipt_url), flag_reason = COALESCE(?, flag_reason),
                  reversed_amount = COALESCE(?, reversed_amount)
           WHERE id = ?""",
        (status, now, payment_id, charge_ref, receipt_url, flag_reason, reversed_amount, order_id))


async def page(db: Executor, user_id: str, *, after: tuple[str, str] | None, limit: int) -> list[Row]:
    where, params = ["user_id = ?"], [user_id]
    if after is not None:
        where.append("(created_at < ? OR (created_at = ? AND id < ?))")
        params += [after[0], after[0], after[1]]
    return await db.fetchall(
        f"""SELECT {SELECT} FROM orders WHERE {' AND '.join(where)}
            ORDER BY created_at DESC, id DESC LIMIT ?""", (*params, limit))


async def pending_before(db: Executor, before: str, limit: int = 500) -> list[Row]:
    return await db.fetchall(
        f"""SELECT {SELECT} FROM orders WHERE status = 'pending' AND created_at < ?
            ORDER BY created_at LIMIT ?""", (before, limit))


async def flagged(db: Executor, limit: int = 100) -> list[Row]:
    return await db.fetchall(
        f"SELECT {SELECT} FROM orders WHERE status = 'flagged' ORDER BY updated_at DESC LIMIT ?",
        (limit,))


async def record_event(db: Executor, provider: str, event_id: str, order_id: str | None,
                       now: str) -> bool:
    """Note an event as processed; False when it already was (a duplicate delivery). A second
    delivery racing the first waits on the key until the first commits, then sees it."""
    row = await db.fetchone(
        """INSERT INTO billing_events (provider, event_id, order_id, created_at)
           VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING RETURNING event_id""",
        (provider, event_id, order_id, now))
    return row is not None


# -- the operator's console --

STATUSES = ("pending", "paid", "failed", "flagged", "reversed")


async def admin_page(db: Executor, *, status: str | None, after: tuple[str, str] | None,
                     limit: int) -> list[Row]:
    """Everyone's orders, newest first, each with its owner's email."""
    where, params = [], []
    if status:
        where.append("o.status = ?")
        params.append(status)
    if after is not None:
        where.append("(o.created_at < ? OR (o.created_at = ? AND o.id < ?))")
        params += [after[0], after[0], after[1]]
    clause = f"WHERE {' AND '.join(where)}" if where else ""
    columns = ", ".join(f"o.{c}" for c in COLUMNS)
    return await db.fetchall(
        f"""SELECT {columns}, u.email AS email FROM orders o JOIN users u ON u.id = o.user_id
            {clause} ORDER BY o.created_at DESC, o.id DESC LIMIT ?""", (*params, limit))


async def admin_get(db: Executor, order_id: str) -> Row | None:
    columns = ", ".join(f"o.{c}" for c in COLUMNS)
    return await db.fetchone(
        f"""SELECT {columns}, u.email AS email FROM orders o JOIN users u ON u.id = o.user_id
            WHERE o.id = ?""", (order_id,))


async def count_flagged(db: Executor) -> int:
    return int(await db.fetchval("SELECT COUNT(*) AS n FROM orders WHERE status = 'flagged'"))
