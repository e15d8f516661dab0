"""Stripe Checkout through the official `stripe` SDK (its async client over aiohttp).

The webhook is trusted only after `stripe.WebhookSignature` checked its `Stripe-Signature`
(HMAC-SHA256 of `t.body` with the endpoint's secret, within 5 minutes); its body is then what
Stripe vouched for. `STRIPE_API_BASE` points the SDK elsewhere (a local fake, staging).
"""
from __future__ import annotations

import logging
from typing import Any, Mapping

import orjson
import stripe

from protocol.errors import ProviderUnavailable

from .base import ORDER_KEY, BadSignature, Created, Notice, OrderRef, Payment, Reversal

log = logging.getLogger("chatwire.billing")
# The SDK logs every request's URL at INFO (and bodies at DEBUG): not into our logs.
logging.getLogger("stripe").setLevel(logging.WARNING)

PAID_EVENTS = ("checkout.session.completed", "checkout.session.async_payment_succeeded")
FAILED_EVENTS = ("checkout.session.expired", "checkout.session.async_payment_failed")
TOLERANCE_S = 300


def _session_payment(session: Mapping[str, Any], failed: bool = False) -> Payment:
    paid = session.get("payment_status") in ("paid", "no_payment_required")
    status = "failed" if failed or session.get("status") == "expired" else (
        "paid" if paid else "pending")
    return Payment(order_id=(session.get("metadata") or {}).get(ORDER_KEY),
                   payment_id=str(session.get("id")), status=status,
                   amount=int(session.get("amount_total") or 0),
                   currency=str(session.get("currency") or ""),
                   charge_ref=session.get("payment_intent") or None)


class StripePay:
    name = "stripe"

    def __init__(self, secret_key: str, webhook_secret: str, api_base: str | None,
                 currencies: tuple[str, ...]) -> None:
        self.currencies = currencies
        self._webhook_secret = webhook_secret
        self._http = stripe.AIOHTTPClient(timeout=20)
        self.client = stripe.StripeClient(
            secret_key, http_client=self._http, max_network_retries=1,
            base_addresses={"api": api_base.rstrip("/")} if api_base else None)

    async def create(self, order: OrderRef, return_url: str) -> Created:
        params: dict[str, Any] = {
            "mode": "payment",
            "line_items": [{"quantity": 1, "price_data": {
                "currency": order.currency, "unit_amount": order.amount,
                "product_data": {"name": order.title}}}],
            "success_url": return_url + "&session_id={CHECKOUT_SESSION_ID}",
            "cancel_url": return_url + "&cancelled=1",
            "client_reference_id": order.id,
            "metadata": {ORDER_KEY: order.id},
            "payment_intent_data": {"metadata": {ORDER_KEY: order.id}},
        }
        try:
            session = await self.client.v1.checkout.sessions.create_async(
                params, {"idempotency_key": f"chatwire-order-{order.id}"})
        except stripe.StripeError as exc:
            log.warning("stripe: checkout for order %s failed: %s", order.id, type(exc).__name__)
            raise ProviderUnavailable("the payment provider is not answering; try again later",
                                      provider=self.name) from None
        return Created(payment_id=session.id, url=session.url or "")

    async def lookup(self, order: Mapping[str, Any]) -> Payment | None:
        if not order.get("payment_id"):
            return None
        try:
            session = await self.client.v1.checkout.sessions.retrieve_async(order["payment_id"])
        except stripe.StripeError as exc:
            raise ProviderUnavailable(f"stripe: {type(exc).__name__}") from None
        return _session_payment(session.to_dict())

    async def notice(self, raw: bytes, headers: Mapping[str, str], peer: str | None) -> Notice:
        try:
            stripe.WebhookSignature.verify_header(raw.decode("utf-8", "replace"),
                                                  headers.get("Stripe-Signature"),
                                                  self._webhook_secret, TOLERANCE_S)
            event = orjson.loads(raw)
            kind, obj = event["type"], event["data"]["object"]
            event_id = str(event["id"])
        except stripe.SignatureVerificationError:
            raise BadSignature("the Stripe-Signature does not verify (or is too old)") from None
        except (ValueError, KeyError, TypeError):
            raise BadSignature("not a Stripe event") from None
        if kind in PAID_EVENTS or kind in FAILED_EVENTS:
            return Notice(event_id, payment=_session_payment(obj, failed=kind in FAILED_EVENTS))
        if kind == "charge.refunded" and obj.get("payment_intent"):
            return Notice(event_id, reversal=Reversal(str(obj["payment_intent"]),
                                                      int(obj.get("amount_refunded") or 0),
                                                      "refund"))
        if kind == "charge.dispute.created" and obj.get("payment_intent"):
            return Notice(event_id, reversal=Reversal(str(obj["payment_intent"]),
                                                      int(obj.get("amount") or 0), "dispute"))
        return Notice(event_id)

    async def aclose(self) -> None:
        await self._http.close_async()
