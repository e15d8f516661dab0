"""YooKassa payments (redirect confirmation) through the official `yookassa` SDK.

The SDK is synchronous (requests), so every call runs in a worker thread. YooKassa signs nothing:
a notification is only a hint naming a payment or refund, which is then fetched from the API with
our shop's credentials; only that answer is trusted. `YOOKASSA_API_BASE` points the SDK at
another address (a local fake). YooKassa takes roubles only.
"""
from __future__ import annotations

import asyncio
import logging
from typing import Any, Callable, Mapping

import orjson
from yookassa import Configuration
from yookassa import Payment as Payments
from yookassa import Refund as Refunds
from yookassa.domain.exceptions.bad_request_error import BadRequestError
from yookassa.domain.exceptions.not_found_error import NotFoundError

from protocol.errors import ProviderUnavailable

from .base import (ORDER_KEY, BadSignature, Created, Notice, OrderRef, Payment, Reversal,
                   RetryLater, as_decimal, minor_units)

log = logging.getLogger("chatwire.billing")

DEFAULT_API = "https://api.yookassa.ru/v3"
CALL_TIMEOUT_S = 20.0


class YooKassaPay:
    name = "yookassa"
    currencies = ("rub",)

    def __init__(self, shop_id: str, secret_key: str, api_base: str | None) -> None:
        # The SDK keeps its configuration process-wide; one shop per server. timeout is its
        # retry backoff in ms; max_attempts its retries of a 202 (not of an error).
        Configuration.configure(shop_id, secret_key, api_url=(api_base or DEFAULT_API).rstrip("/"),
                                timeout=200, max_attempts=2)

    async def _call(self, fn: Callable[..., Any], *args: Any) -> Any:
        try:
            return await asyncio.wait_for(asyncio.to_thread(fn, *args), CALL_TIMEOUT_S)
        except (NotFoundError, BadRequestError, ValueError):
            raise BadSignature("YooKassa knows no such object") from None
        except Exception as exc:  # the SDK raises its ApiErrors, requests' errors, or worse
            log.warning("yookassa: %s failed: %s", getattr(fn, "__name__", "call"),
                        type(exc).__name__)
            raise ProviderUnavailable("the payment provider is not answering; try again later",
                                      provider=self.name) from None

    async def create(self, order: OrderRef, return_url: str) -> Created:
        try:
            payment = await self._call(Payments.create, {
                "amount": {"value": as_decimal(order.amount), "currency": order.currency.upper()},
                "confirmation": dict(type="redirect", return_url=return_url),
                "capture": True,
                "description": order.title[:128],
                "metadata": {ORDER_KEY: order.id},
            }, f"chatwire-order-{order.id}")
        except BadSignature:  # YooKassa refused the payment itself (400): nothing was charged
            raise ProviderUnavailable("the payment provider refused the payment",
                                      provider=self.name) from None
        return Created(payment_id=payment.id, url=payment.confirmation.confirmation_url)

    @staticmethod
    def _payment(p: Any) -> Payment:
        status = {"succeeded": "paid", "canceled": "failed"}.get(p.status, "pending")
        return Payment(order_id=(p.metadata or {}).get(ORDER_KEY), payment_id=p.id, status=status,
                       amount=minor_units(str(p.amount.value)), currency=p.amount.currency.lower(),
                       charge_ref=p.id)

    async def lookup(self, order: Mapping[str, Any]) -> Payment | None:
        if not order.get("payment_id"):
            return None
        return self._payment(await self._call(Payments.find_one, order["payment_id"]))

    async def notice(self, raw: bytes, headers: Mapping[str, str], peer: str | None) -> Notice:
        try:
            body = orjson.loads(raw)
            event, object_id = str(body["event"]), str(body["object"]["id"])
        except (ValueError, KeyError, TypeError):
            raise BadSignature("not a YooKassa notification") from None
        if not object_id or len(object_id) > 64 or "/" in object_id:
            raise BadSignature("not a YooKassa object id")
        event_id = f"{event}:{object_id}"
        try:
            if event.startswith("payment."):
                return Notice(event_id, payment=self._payment(
                    await self._call(Payments.find_one, object_id)))
            if event == "refund.succeeded":
                refund = await self._call(Refunds.find_one, object_id)
                if refund.status != "succeeded":
                    return Notice(event_id)
                return Notice(event_id, reversal=Reversal(refund.payment_id,
                                                          minor_units(str(refund.amount.value)),
                                                          "refund"))
        except ProviderUnavailable:  # the API is down: 503, and YooKassa retries the notification
            raise RetryLater("could not confirm the notification with YooKassa") from None
        return Notice(event_id)

    async def aclose(self) -> None:
        return None
