"""A local HTTP server speaking YooKassa's API v3: payments create/get, refunds create/get, a
hosted confirmation page, and notifications sent the way YooKassa sends them (unsigned JSON).

The official SDK talks to it over loopback (`YOOKASSA_API_BASE`): JSON bodies, HTTP Basic with
shop id and secret key, `Idempotence-Key` honoured. `down = True` answers 500 to the API.
"""
from __future__ import annotations

import base64
import itertools
import time
import uuid
from typing import Any

import aiohttp
from aiohttp import web

SHOP_ID = "123456"
SECRET_KEY = "test_fake_yookassa_secret"
_ids = itertools.count(1)


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime())


class FakeYooKassa:
    def __init__(self) -> None:
        self.url = ""
        self.webhook_url = ""
        self.down = False
        self.notify_on_pay = True  # False: the payer pays, the notification waits for the test
        self.payments: dict[str, dict[str, Any]] = {}
        self.refunds: dict[str, dict[str, Any]] = {}
        self.by_key: dict[str, str] = {}
        self.requests: list[dict[str, Any]] = []
        self.app = web.Application()
        r = self.app.router
        r.add_post("/v3/payments", self.create_payment)
        r.add_get("/v3/payments/{id}", self.get_payment)
        r.add_post("/v3/refunds", self.create_refund)
        r.add_get("/v3/refunds/{id}", self.get_refund)
        r.add_get("/confirm/{id}", self.hosted_page)
        r.add_post("/confirm/{id}", self.hosted_pay)

    @property
    def api(self) -> str:
        return f"{self.url}/v3"

    def _error(self, status: int, code: str, description: str) -> web.Response:
        return web.json_response({"type": "error", "id": str(uuid.uuid4()), "code": code,
                                  "description": description}, status=status)

    def _refused(self, request: web.Request) -> web.Response | None:
        self.requests.append({"path": request.path, "headers": dict(request.headers)})
        if self.down:
            return self._error(500, "internal_server_error", "fake YooKassa is down")
        expected = "Basic " + base64.b64encode(f"{SHOP_ID}:{SECRET_KEY}".encode()).decode()
        if request.headers.get("Authorization") != expected:
            return self._error(401, "invalid_credentials", "Basic auth failed")
        return None

    async def create_payment(self, request: web.Request) -> web.Response:
        if (refused := self._refused(request)) is not None:
            return refused
        key = request.headers.get("Idempotence-Key", "")
        if key in self.by_key:
            return web.json_response(self.payments[self.by_key[key]])
        body = await request.json()
        pid = f"2{next(_ids):07d}-000f-5000-9000-{uuid.uuid4().hex[:12]}"
        payment = {
            "id": pid, "status": "pending", "paid": False, "amount": body["amount"],
            "confirmation": {"type": "redirect", "return_url": body["confirmation"]["return_url"],
                             "confirmation_url": f"{self.url}/confirm/{pid}"},
            "created_at": _now(), "description": body.get("description", ""),
            "metadata": body.get("metadata", {}), "recipient": {"account_id": SHOP_ID,
                                                                "gateway_id": "100500"},
            "refundable": False, "test": True,
        }
        self.payments[pid] = payment
        self.by_key[key] = pid
        return web.json_response(payment)

    async def get_payment(self, request: web.Request) -> web.Response:
        if (refused := self._refused(request)) is not None:
            return refused
        payment = self.payments.get(request.match_info["id"])
        if payment is None:
            return self._error(404, "not_found", "Payment not found")
        return web.json_response(payment)

    async def create_refund(self, request: web.Request) -> web.Response:
        if (refused := self._refused(request)) is not None:
            return refused
        body = await request.json()
        refund = {"id": f"2{next(_ids):07d}-0015-5000-8000-{uuid.uuid4().hex[:12]}",
                  "payment_id": body["payment_id"], "status": "succeeded",
                  "amount": body["amount"], "created_at": _now()}
        self.refunds[refund["id"]] = refund
        await self.notify("refund.succeeded", refund)
        return web.json_response(refund)

    async def get_refund(self, request: web.Request) -> web.Response:
        if (refused := self._refused(request)) is not None:
            return refused
        refund = self.refunds.get(request.match_info["id"])
        if refund is None:
            return self._error(404, "not_found", "Refund not found")
        return web.json_response(refund)

    # -- what a payer does --

    def pay(self, payment_id: str, **changes: Any) -> dict[str, Any]:
        payment = self.payments[payment_id]
        payment.update(status="succeeded", paid=True, refundable=True,
                       captured_at=_now(), **changes)
        return payment

    async def hosted_page(self, request: web.Request) -> web.Response:
        payment = self.payments[request.match_info["id"]]
        amount = f"{payment['amount']['value']} {payment['amount']['currency']}"
        return web.Response(content_type="text/html", text=f"""<!doctype html><html><head>
<title>Fake YooKassa</title></head><body style="font-family:sans-serif;margin:3rem">
<h1>Fake YooKassa</h1><p>Оплата <b id="amount">{amount}</b></p>
<form method="post"><button id="pay" type="submit">Заплатить</button></form></body></html>""")

    async def hosted_pay(self, request: web.Request) -> web.Response:
        payment = self.pay(request.match_info["id"])
        if self.notify_on_pay:
            await self.notify("payment.succeeded", payment)
        raise web.HTTPSeeOther(payment["confirmation"]["return_url"])

    # -- notifications --

    async def deliver(self, body: dict[str, Any]) -> tuple[int, Any]:
        async with aiohttp.ClientSession() as http:
            async with http.post(self.webhook_url, json=body) as resp:
                return resp.status, await resp.json(content_type=None)

    async def notify(self, event: str, obj: dict[str, Any]) -> tuple[int, Any]:
        return await self.deliver({"type": "notification", "event": event, "object": dict(obj)})
