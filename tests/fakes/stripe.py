"""A local HTTP server speaking Stripe's wire format: Checkout Sessions, refunds, events, and a
hosted checkout page; it sends webhooks signed the way Stripe signs them.

The official SDK talks to it over loopback (`STRIPE_API_BASE`): form-encoded requests with
bracketed keys (`line_items[0][price_data][unit_amount]=500`), bearer secret key, Idempotency-Key
honoured (the same key answers the same session). `Stripe-Signature: t=<unix>,v1=<hex HMAC-SHA256
of "t.body" with the endpoint secret>` on every webhook. `down = True` answers 503 to the API.
"""
from __future__ import annotations

import hashlib
import hmac
import itertools
import time
from typing import Any

import aiohttp
import orjson
from aiohttp import web

SECRET_KEY = "sk_test_fake_0123456789"
WEBHOOK_SECRET = "whsec_fake_0123456789abcdef"
_ids = itertools.count(1)


def new_id(prefix: str) -> str:
    return f"{prefix}_test_{next(_ids):06d}{int(time.time() * 1000) % 100000:05d}"


def unflatten(form: Any) -> dict[str, Any]:
    """Stripe's bracket notation back into nested dicts and lists."""
    out: dict[str, Any] = {}
    for key, value in form.items():
        parts = key.replace("]", "").split("[")
        node: Any = out
        for part, nxt in zip(parts, parts[1:]):
            child = {} if not nxt.isdigit() else []
            if isinstance(node, list):
                idx = int(part)
                while len(node) <= idx:
                    node.append({} if not nxt.isdigit() else [])
                node = node[idx]
            else:
                node = node.setdefault(part, child)
        last = parts[-1]
        if isinstance(node, list):
            node.append(value)
        else:
            node[last] = value
    return out


def signature(payload: bytes, secret: str = WEBHOOK_SECRET, at: int | None = None) -> str:
    t = int(time.time()) if at is None else at
    mac = hmac.new(secret.encode(), f"{t}.".encode() + payload, hashlib.sha256).hexdigest()
    return f"t={t},v1={mac}"


class FakeStripe:
    def __init__(self) -> None:
        self.url = ""
        self.webhook_url = ""  # where events go (the server's /api/v1/billing/webhooks/stripe)
        self.down = False
        self.sessions: dict[str, dict[str, Any]] = {}
        self.by_key: dict[str, str] = {}
        self.events: dict[str, dict[str, Any]] = {}
        self.requests: list[dict[str, Any]] = []
        self.app = web.Application()
        r = self.app.router
        r.add_post("/v1/checkout/sessions", self.create_session)
        r.add_get("/v1/checkout/sessions/{id}", self.get_session)
        r.add_post("/v1/refunds", self.create_refund)
        r.add_get("/v1/events/{id}", self.get_event)
        r.add_get("/pay/{id}", self.hosted_page)
        r.add_post("/pay/{id}", self.hosted_pay)

    # -- the API --

    def _error(self, status: int, message: str, kind: str = "invalid_request_error") -> web.Response:
        return web.json_response({"error": {"type": kind, "message": message}}, status=status)

    async def _form(self, request: web.Request) -> dict[str, Any] | web.Response:
        self.requests.append({"path": request.path, "headers": dict(request.headers)})
        if self.down:
            return self._error(503, "Stripe is down (fake)", "api_error")
        if request.headers.get("Authorization") != f"Bearer {SECRET_KEY}":
            return self._error(401, "Invalid API Key provided")
        return unflatten(await request.post())

    async def create_session(self, request: web.Request) -> web.Response:
        form = await self._form(request)
        if isinstance(form, web.Response):
            return form
        key = request.headers.get("Idempotency-Key")
        if key and key in self.by_key:
            return web.json_response(self.sessions[self.by_key[key]])
        item = form["line_items"][0]
        price = item["price_data"]
        sid = new_id("cs")
        session = {
            "id": sid, "object": "checkout.session", "mode": form.get("mode", "payment"),
            "amount_total": int(price["unit_amount"]) * int(item.get("quantity", 1)),
            "currency": price["currency"], "metadata": form.get("metadata", {}),
            "client_reference_id": form.get("client_reference_id"),
            "success_url": form.get("success_url"), "cancel_url": form.get("cancel_url"),
            "payment_status": "unpaid", "status": "open", "payment_intent": None,
            "url": f"{self.url}/pay/{sid}", "livemode": False, "created": int(time.time()),
        }
        self.sessions[sid] = session
        if key:
            self.by_key[key] = sid
        return web.json_response(session)

    async def get_session(self, request: web.Request) -> web.Response:
        self.requests.append({"path": request.path, "headers": dict(request.headers)})
        if self.down:
            return self._error(503, "Stripe is down (fake)", "api_error")
        session = self.sessions.get(request.match_info["id"])
        if session is None:
            return self._error(404, "No such checkout.session")
        return web.json_response(session)

    async def get_event(self, request: web.Request) -> web.Response:
        event = self.events.get(request.match_info["id"])
        return web.json_response(event) if event else self._error(404, "No such event")

    async def create_refund(self, request: web.Request) -> web.Response:
        form = await self._form(request)
        if isinstance(form, web.Response):
            return form
        session = next(s for s in self.sessions.values()
                       if s["payment_intent"] == form["payment_intent"])
        amount = int(form.get("amount") or session["amount_total"])
        refund = {"id": new_id("re"), "object": "refund", "amount": amount,
                  "payment_intent": form["payment_intent"], "status": "succeeded"}
        await self.send("charge.refunded", self.charge(session, amount_refunded=amount))
        return web.json_response(refund)

    # -- what a payer does --

    def pay(self, session_id: str) -> dict[str, Any]:
        session = self.sessions[session_id]
        if session["payment_intent"] is None:
            session.update(payment_status="paid", status="complete",
                           payment_intent=new_id("pi"))
        return session

    def charge(self, session: dict[str, Any], **extra: Any) -> dict[str, Any]:
        return {"id": "ch_" + session["payment_intent"][3:], "object": "charge",
                "amount": session["amount_total"], "currency": session["currency"],
                "payment_intent": session["payment_intent"], "refunded": True, **extra}

    async def hosted_page(self, request: web.Request) -> web.Response:
        session = self.sessions[request.match_info["id"]]
        amount = f"{session['amount_total'] / 100:.2f} {session['currency'].upper()}"
        return web.Response(content_type="text/html", text=f"""<!doctype html><html><head>
<title>Fake Stripe Checkout</title></head><body style="font-family:sans-serif;margin:3rem">
<h1>Fake Stripe Checkout</h1><p>Pay <b id="amount">{amount}</b></p>
<form method="post"><button id="pay" type="submit">Pay</button></form></body></html>""")

    async def hosted_pay(self, request: web.Request) -> web.Response:
        session = self.pay(request.match_info["id"])
        await self.send("checkout.session.completed", dict(session))
        raise web.HTTPSeeOther(session["success_url"].replace("{CHECKOUT_SESSION_ID}",
                                                              session["id"]))

    # -- webhooks --

    def event(self, kind: str, obj: dict[str, Any]) -> dict[str, Any]:
        event = {"id": new_id("evt"), "object": "event", "type": kind, "api_version": "2024-06-20",
                 "created": int(time.time()), "livemode": False, "data": {"object": obj}}
        self.events[event["id"]] = event
        return event

    async def deliver(self, event: dict[str, Any], *, secret: str = WEBHOOK_SECRET,
                      at: int | None = None, header: str | None = None) -> tuple[int, Any]:
        """POST an event to the webhook URL as Stripe does; (status, body)."""
        payload = orjson.dumps(event)
        sig = header if header is not None else signature(payload, secret, at)
        async with aiohttp.ClientSession() as http:
            async with http.post(self.webhook_url, data=payload, headers={
                    "Stripe-Signature": sig, "Content-Type": "application/json; charset=utf-8",
                    "User-Agent": "Stripe/1.0 (+https://stripe.com/docs/webhooks)"}) as resp:
                return resp.status, await resp.json(content_type=None)

    async def send(self, kind: str, obj: dict[str, Any]) -> tuple[int, Any]:
        return await self.deliver(self.event(kind, obj))
