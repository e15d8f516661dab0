"""`billing.packs`, `billing.checkout`, `billing.orders`, the webhooks, and reconciling.

A checkout stores its order (pending) before the provider is asked, so a webhook always finds it;
the provider's answer (a hosted page's URL) goes back to the client, which redirects. Only a
verified webhook, or a reconcile asking the provider's API, credits — never the return page.
"""
from __future__ import annotations

import logging
from datetime import datetime, timedelta, timezone
from typing import Any, Mapping

from protocol.errors import AccountDisabled, BadRequest, NotFound, ProviderUnavailable
from storage import Database, new_id, utcnow
from storage.base import iso
from storage import orders as rows
from storage import users as user_rows

from .. import cursors
from ..ledger import Ledger
from ..limits import Limits
from .base import OrderRef, PaymentProvider
from .packs import Pack
from .settle import Settlement

log = logging.getLogger("chatwire.billing")

ORDER_FIELDS = ("id", "provider", "pack_id", "amount", "currency", "credits", "status",
                "receipt_url", "created_at", "updated_at")


def order_view(row: Mapping[str, Any]) -> dict[str, Any]:
    view = {k: row[k] for k in ORDER_FIELDS}
    view["amount"], view["credits"] = int(view["amount"]), int(view["credits"])
    return view


class Billing:
    def __init__(self, db: Database, ledger: Ledger, limits: Limits, packs: dict[str, Pack],
                 providers: dict[str, PaymentProvider], return_base: str) -> None:
        self.db = db
        self.packs = packs  # live (PackCatalogue's): disabled packs too, replaced in place
        self.providers = providers
        self.limits = limits
        self.return_base = return_base.rstrip("/")
        self.settlement = Settlement(db, ledger)

    @property
    def enabled(self) -> bool:
        return bool(self.providers) and any(p.enabled for p in self.packs.values())

    def _sellers(self, pack: Pack) -> list[str]:
        return sorted(n for n, p in self.providers.items() if pack.currency in p.currencies)

    async def list_packs(self, user_id: str) -> dict[str, Any]:
        """The packs a user can buy now (none when no provider is on), each with its providers."""
        packs = ([p.view(self._sellers(p)) for p in self.packs.values() if p.enabled]
                 if self.enabled else [])
        return {"packs": [p for p in packs if p["providers"]],
                "providers": sorted(self.providers)}

    async def checkout(self, user_id: str, pack_id: str, provider: str) -> dict[str, Any]:
        if not self.enabled:
            raise BadRequest("billing is not enabled on this server", field="provider")
        await self.limits.checkout(user_id)
        user = await user_rows.get(self.db, user_id)
        if user is None or user.get("disabled_at"):  # a socket a moment from its 4403 close
            raise AccountDisabled("this account is disabled; it cannot buy credits")
        pack = self.packs.get(pack_id)
        if pack is None:
            raise NotFound(f"pack {pack_id} does not exist", field="pack_id")
        if not pack.enabled:
            raise BadRequest(f"pack {pack_id} is not on sale", field="pack_id")
        seller = self.providers.get(provider)
        if seller is None:
            raise BadRequest(f"provider must be one of {', '.join(sorted(self.providers))}",
                             field="provider")
        if pack.currency not in seller.currencies:
            raise BadRequest(f"{provider} does not take {pack.currency.upper()}; this pack is sold "
                             f"through {', '.join(self._sellers(pack)) or 'no provider here'}",
                             field="provider")
        order = await rows.create(self.db, id=new_id(), user_id=user_id, provider=provider,
                                  pack_id=pack.id, amount=pack.price, currency=pack.currency,
                                  credits=pack.credits, now=utcnow())
        ref = OrderRef(order["id"], pack.price, pack.currency, pack.credits, pack.title)
        try:
            created = await seller.create(ref, f"{self.return_base}/billing/return?order={ref.id}")
        except ProviderUnavailable:
            await rows.mark(self.db, ref.id, "failed", utcnow())
            raise
        await rows.set_payment(self.db, ref.id, created.payment_id, utcnow())
        return {"order_id": ref.id, "url": created.url}

    async def orders(self, user_id: str, order_id: str | None = None, cursor: str | None = None,
                     limit: int = 50) -> dict[str, Any]:
        """The user's orders, newest first; or just `order_id` (another's: `not_found`)."""
        if order_id is not None:
            return {"orders": [await self.order(user_id, order_id)], "next_cursor": None}
        page = await rows.page(self.db, user_id, after=cursors.decode(cursor), limit=limit + 1)
        more = len(page) > limit
        page = page[:limit]
        next_cursor = cursors.encode(page[-1]["created_at"], page[-1]["id"]) if more else None
        return {"orders": [order_view(r) for r in page], "next_cursor": next_cursor}

    async def order(self, user_id: str, order_id: str) -> dict[str, Any]:
        row = await rows.get(self.db, order_id)
        if row is None or row["user_id"] != user_id:
            raise NotFound(f"order {order_id} does not exist")
        return order_view(row)

    async def webhook(self, provider: str, raw: bytes, headers: Mapping[str, str],
                      peer: str | None) -> str:
        """Verify and settle one webhook; the outcome (2xx) or a typed error (400 forged, 503
        retry). Settled before the answer, so a 2xx means it is committed."""
        seller = self.providers.get(provider)
        if seller is None:
            raise NotFound(f"no {provider} billing on this server")
        notice = await seller.notice(raw, headers, peer)
        if notice.reversal is not None:
            return await self.settlement.reversal(provider, notice.reversal, notice.event_id)
        if notice.payment is None or notice.payment.order_id is None:
            return self.settlement._count(provider, "ignored")
        return await self.settlement.payment(provider, notice.payment, notice.event_id)

    async def reconcile(self, older_than_minutes: int) -> list[tuple[str, str]]:
        """Ask the providers about orders pending longer than that and settle them as a webhook
        would (for webhooks that never came); safe while webhooks arrive. [(order id, outcome)]"""
        before = iso(datetime.now(timezone.utc) - timedelta(minutes=older_than_minutes))
        done = []
        for order in await rows.pending_before(self.db, before):
            seller = self.providers.get(order["provider"])
            if seller is None:
                done.append((order["id"], "provider off"))
                continue
            try:
                payment = await seller.lookup(order)
            except ProviderUnavailable as exc:
                done.append((order["id"], f"unavailable: {exc.message}"))
                continue
            if payment is None:
                done.append((order["id"], "no payment"))
                continue
            done.append((order["id"], await self.settlement.payment(
                order["provider"], payment, None)))
        return done

    async def flagged(self) -> list[dict[str, Any]]:
        return [{**order_view(r), "user_id": r["user_id"], "flag_reason": r["flag_reason"]}
                for r in await rows.flagged(self.db)]

    async def aclose(self) -> None:
        for seller in self.providers.values():
            await seller.aclose()
