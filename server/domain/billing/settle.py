"""Settling an order: the one transaction that credits a paid order, or takes a refunded one back.

Under the order's row lock, in one database transaction: the provider event recorded as processed
(a duplicate stops here), the order's state checked and moved, and the ledger row written — its
idempotency key the provider's payment id, so not even two code paths can credit one payment
twice. A webhook and `run.py payments reconcile` both come through here, and may race.
"""
from __future__ import annotations

import logging
import re
from typing import Any, Mapping

from server import metrics
from storage import Database, utcnow
from storage import orders as rows

from ..ledger import Ledger
from .base import Payment, RetryLater, Reversal

log = logging.getLogger("chatwire.billing")
_MISMATCH = re.compile(r"paid (\d+) (\S*), the order says ")


def deposit_key(provider: str, payment_id: str) -> str:
    """The ledger key of a payment's deposit: one per payment, whoever credits it (a webhook,
    reconcile, or an admin resolving a flagged order)."""
    return f"{provider}:{payment_id}"


def mismatch(amount: int, currency: str, order: Mapping[str, Any]) -> str:
    """A flagged order's reason, as stored (`received` reads it back for the console)."""
    return f"paid {amount} {currency}, the order says {order['amount']} {order['currency']}"


def received(reason: str) -> dict[str, Any] | None:
    """What the provider reported for a flagged order: {amount, currency}, from its reason."""
    found = _MISMATCH.match(reason or "")
    return {"amount": int(found[1]), "currency": found[2]} if found else None


class Settlement:
    def __init__(self, db: Database, ledger: Ledger) -> None:
        self.db = db
        self.ledger = ledger

    async def payment(self, provider: str, payment: Payment, event_id: str | None) -> str:
        """Apply a payment's state to its order; the outcome: credited, failed, flagged, duplicate,
        settled (the order was no longer pending) or pending (nothing to do yet)."""
        assert payment.order_id is not None
        if payment.status == "pending":
            # Nothing to do, so nothing recorded: YooKassa's event ids are ours (event:object), and
            # an early or forged "succeeded" for a payment still pending must not use up the id
            # its real notification will come with.
            return self._count(provider, "pending")
        announce = None
        async with self.db.transaction() as tx:
            if event_id and not await rows.record_event(tx, provider, event_id, payment.order_id,
                                                        utcnow()):
                return self._count(provider, "duplicate")
            order = await rows.lock(tx, payment.order_id)
            if order is None or order["provider"] != provider:
                # Not visible yet (or not ours by this provider): roll the event record back, 503.
                raise RetryLater(f"order {payment.order_id} is not known (yet)")
            if order["status"] != "pending":
                return self._count(provider, "settled")
            now = utcnow()
            if payment.status == "failed":
                await rows.mark(tx, order["id"], "failed", now, payment_id=payment.payment_id)
                return self._count(provider, "failed")
            if (payment.amount, payment.currency.lower()) != (int(order["amount"]),
                                                              order["currency"]):
                reason = mismatch(payment.amount, payment.currency.lower(), order)
                await rows.mark(tx, order["id"], "flagged", now, payment_id=payment.payment_id,
                                charge_ref=payment.charge_ref, flag_reason=reason)
                log.error("billing: order %s NOT credited, flagged for the operator: %s",
                          order["id"], reason)
                return self._count(provider, "flagged")
            _, announce = await self.ledger.apply(
                tx, order["user_id"], int(order["credits"]), kind="deposit",
                note=f"{provider} order {order['id']}",
                idempotency_key=deposit_key(provider, payment.payment_id), created_by=None)
            await rows.mark(tx, order["id"], "paid", now, payment_id=payment.payment_id,
                            charge_ref=payment.charge_ref, receipt_url=payment.receipt_url)
        await self.ledger.announce(order["user_id"], announce)
        log.info("billing: order %s paid through %s, %s micro-credits", order["id"], provider,
                 order["credits"])
        return self._count(provider, "credited")

    async def reversal(self, provider: str, reversal: Reversal, event_id: str) -> str:
        """Take a refunded or disputed order's credits back, once per order (spent or not)."""
        announce = None
        async with self.db.transaction() as tx:
            order_id = await rows.find_by_charge(tx, provider, reversal.charge_ref)
            if not await rows.record_event(tx, provider, event_id, order_id, utcnow()):
                return self._count(provider, "duplicate")
            order = await rows.lock(tx, order_id) if order_id else None
            if order is None:
                return self._count(provider, "ignored")  # another system's payment
            if order["status"] != "paid":
                return self._count(provider, "settled")  # reversed before, or never credited
            amount = int(order["amount"])
            credits = int(order["credits"]) * min(reversal.amount, amount) // amount
            if credits <= 0:
                return self._count(provider, "ignored")
            announce = await self.ledger.reverse(
                tx, order["user_id"], credits, note=f"{provider} {reversal.reason} of order "
                f"{order['id']}", idempotency_key=f"{provider}:reversal:{order['id']}")
            await rows.mark(tx, order["id"], "reversed", utcnow(),
                            reversed_amount=min(reversal.amount, amount))
        await self.ledger.announce(order["user_id"], announce)
        log.warning("billing: order %s %s through %s: %s micro-credits taken back", order["id"],
                    reversal.reason, provider, credits)
        return self._count(provider, "reversed")

    @staticmethod
    def _count(provider: str, outcome: str) -> str:
        metrics.BILLING.labels(provider, outcome).inc()
        return outcome
