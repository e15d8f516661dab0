"""Topping up through YooKassa: the real (synchronous) `yookassa` SDK against a local fake of its
API; notifications are trusted only as far as a GET of the payment confirms them."""
import asyncio

import aiohttp

from server.web.state import CONTEXT
from tests.billing import count, ledger_clean, ledger_rows, order_row
from tests.helpers import register

RUB_PACK = 10_000_000


async def checkout(sock):
    return await sock.ok("billing.checkout", pack_id="rub", provider="yookassa")


def payment_of(url):
    return url.rsplit("/", 1)[1]


async def test_a_pack_is_bought_end_to_end_over_the_websocket(yookassa_billed, yookassa_api,
                                                              connect):
    ann = await register(yookassa_billed, "ann@example.com")
    sock = await connect(ann, on=yookassa_billed)
    packs = await sock.ok("billing.packs")
    assert [(p["id"], p["price"], p["currency"], p["providers"]) for p in packs["packs"]] == [
        ("rub", 49900, "rub", ["yookassa"])]
    started = await checkout(sock)
    payment = yookassa_api.payments[payment_of(started["url"])]
    assert payment["amount"] == {"value": "499.00", "currency": "RUB"}
    assert payment["metadata"]["chatwire_order_id"] == started["order_id"]
    assert yookassa_api.requests[-1]["headers"]["Idempotence-Key"] == \
        f"chatwire-order-{started['order_id']}"
    async with aiohttp.ClientSession() as http:
        async with http.post(started["url"], allow_redirects=False) as resp:
            assert resp.status == 303
            assert resp.headers["Location"].endswith(f"/billing/return?order={started['order_id']}")
    credited = await sock.event("balance.updated")
    assert credited["balance"] == RUB_PACK
    [order] = (await sock.ok("billing.orders"))["orders"]
    assert order["status"] == "paid"
    await ledger_clean(yookassa_billed)


async def test_the_same_notification_five_times_at_once_credits_once(yookassa_billed,
                                                                     yookassa_api, connect):
    ann = await register(yookassa_billed, "ann@example.com")
    sock = await connect(ann, on=yookassa_billed)
    started = await checkout(sock)
    payment = yookassa_api.pay(payment_of(started["url"]))
    answers = await asyncio.gather(*(yookassa_api.notify("payment.succeeded", payment)
                                     for _ in range(5)))
    assert sorted(body["outcome"] for _, body in answers) == ["credited"] + ["duplicate"] * 4
    assert await ledger_rows(yookassa_billed, ann["user"]["id"]) == [("deposit", RUB_PACK)]


async def test_a_forged_notification_credits_nothing(yookassa_billed, yookassa_api, connect):
    ann = await register(yookassa_billed, "ann@example.com")
    sock = await connect(ann, on=yookassa_billed)
    started = await checkout(sock)
    payment = dict(yookassa_api.payments[payment_of(started["url"])])
    # It claims success, but the API says the payment is still pending: nothing happens.
    status, body = await yookassa_api.notify("payment.succeeded", {**payment, "status": "succeeded"})
    assert (status, body["outcome"]) == (200, "pending")
    # A payment the API has never heard of, and a body that is no notification: 400.
    status, body = await yookassa_api.notify("payment.succeeded", {**payment, "id": "forged-1"})
    assert status == 400 and body["error"]["code"] == "bad_request"
    resp = await yookassa_billed.post("/api/v1/billing/webhooks/yookassa", data=b"[1, 2]")
    assert resp.status == 400
    assert (await order_row(yookassa_billed, started["order_id"]))["status"] == "pending"
    assert await ledger_rows(yookassa_billed, ann["user"]["id"]) == []
    # The forgery used up nothing: the real notification, once paid, credits.
    paid = yookassa_api.pay(payment["id"])
    assert (await yookassa_api.notify("payment.succeeded", paid))[1]["outcome"] == "credited"


async def test_an_amount_mismatch_is_not_credited_but_flagged(yookassa_billed, yookassa_api,
                                                              connect):
    ann = await register(yookassa_billed, "ann@example.com")
    sock = await connect(ann, on=yookassa_billed)
    started = await checkout(sock)
    payment = yookassa_api.pay(payment_of(started["url"]),
                               amount={"value": "1.00", "currency": "RUB"})
    assert (await yookassa_api.notify("payment.succeeded", payment))[1]["outcome"] == "flagged"
    assert (await order_row(yookassa_billed, started["order_id"]))["status"] == "flagged"
    assert await ledger_rows(yookassa_billed, ann["user"]["id"]) == []


async def test_a_refund_takes_the_credits_back_once(yookassa_billed, yookassa_api, connect):
    ann = await register(yookassa_billed, "ann@example.com")
    sock = await connect(ann, on=yookassa_billed)
    started = await checkout(sock)
    payment = yookassa_api.pay(payment_of(started["url"]))
    await yookassa_api.notify("payment.succeeded", payment)
    from yookassa import Refund
    refund = await asyncio.to_thread(Refund.create, {"payment_id": payment["id"],
                                                     "amount": payment["amount"]})
    again = await yookassa_api.notify("refund.succeeded", yookassa_api.refunds[refund.id])
    assert again[1]["outcome"] == "duplicate"
    assert await ledger_rows(yookassa_billed, ann["user"]["id"]) == [
        ("deposit", RUB_PACK), ("reversal", -RUB_PACK)]
    assert (await sock.ok("balance.get"))["balance"] == 0
    await ledger_clean(yookassa_billed)


async def test_reconcile_credits_a_lost_notification_once_while_a_late_one_races_it(
        yookassa_billed, yookassa_api, connect):
    ann = await register(yookassa_billed, "ann@example.com")
    sock = await connect(ann, on=yookassa_billed)
    started = await checkout(sock)
    payment = yookassa_api.pay(payment_of(started["url"]))
    billing = yookassa_billed.app[CONTEXT].services.billing
    results = await asyncio.gather(billing.reconcile(older_than_minutes=0),
                                   yookassa_api.notify("payment.succeeded", payment))
    outcomes = [o for _, o in results[0]] + [results[1][1]["outcome"]]
    assert outcomes.count("credited") == 1
    assert await ledger_rows(yookassa_billed, ann["user"]["id"]) == [("deposit", RUB_PACK)]


async def test_the_provider_down_during_checkout_fails_the_order(yookassa_billed, yookassa_api,
                                                                 connect):
    ann = await register(yookassa_billed, "ann@example.com")
    sock = await connect(ann, on=yookassa_billed)
    yookassa_api.down = True
    assert (await sock.error("billing.checkout", pack_id="rub",
                             provider="yookassa"))["code"] == "provider_unavailable"
    [order] = (await sock.ok("billing.orders"))["orders"]
    assert order["status"] == "failed"
    # And a notification while its API is down is 503: YooKassa will retry it.
    status, _ = await yookassa_api.notify("payment.succeeded", {"id": "2000-x"})
    assert status == 503
    assert await count(yookassa_billed, "transactions") == 0


async def test_a_usd_pack_is_not_sold_through_yookassa(yookassa_billed, connect):
    ann = await register(yookassa_billed, "ann@example.com")
    sock = await connect(ann, on=yookassa_billed)
    error = await sock.error("billing.checkout", pack_id="starter", provider="yookassa")
    assert error["code"] == "bad_request" and error["field"] == "provider"
    assert await count(yookassa_billed, "orders") == 0
