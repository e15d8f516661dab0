"""Topping up through Stripe Checkout: the real `stripe` SDK against a local fake of Stripe's API,
webhooks signed as Stripe signs them, on SQLite and PostgreSQL."""
import asyncio
import time

import aiohttp
import pytest

from server.web.state import CONTEXT
from storage import new_id, utcnow
from storage import orders as order_rows
from tests.billing import STARTER, count, db, ledger_clean, ledger_rows, order_row
from tests.fakes.stripe import signature
from tests.helpers import register

WEBHOOK = "/api/v1/billing/webhooks/stripe"


async def checkout(sock, pack_id="starter"):
    return await sock.ok("billing.checkout", pack_id=pack_id, provider="stripe")


async def pay(url):
    """What the payer does on the hosted page: press Pay (the fake then sends the webhook)."""
    async with aiohttp.ClientSession() as http:
        async with http.post(url, allow_redirects=False) as resp:
            assert resp.status == 303
            return resp.headers["Location"]


async def test_a_pack_is_bought_end_to_end_over_the_websocket(stripe_billed, stripe_api, connect):
    ann = await register(stripe_billed, "ann@example.com")
    sock = await connect(ann, on=stripe_billed)
    packs = await sock.ok("billing.packs")
    assert packs["providers"] == ["stripe"]
    # The rouble pack is not offered: Stripe is not configured for RUB here.
    assert [(p["id"], p["credits"], p["price"], p["currency"], p["providers"])
            for p in packs["packs"]] == [("starter", STARTER, 500, "usd", ["stripe"]),
                                        ("big", 50_000_000, 4000, "usd", ["stripe"])]
    started = await checkout(sock)
    assert started["url"].startswith(stripe_api.url + "/pay/cs_test_")
    order = (await sock.ok("billing.orders"))["orders"]
    assert [(o["id"], o["status"], o["amount"], o["currency"], o["credits"]) for o in order] == [
        (started["order_id"], "pending", 500, "usd", STARTER)]
    sent = stripe_api.requests[-1]["headers"]
    assert sent["Idempotency-Key"] == f"chatwire-order-{started['order_id']}"

    # Coming back without paying credits nothing: the return page is only a page.
    back = await stripe_billed.get(f"/billing/return?order={started['order_id']}")
    assert back.status == 200 and "text/html" in back.headers["Content-Type"]
    assert await ledger_rows(stripe_billed, ann["user"]["id"]) == []

    location = await pay(started["url"])
    assert location.endswith(f"/billing/return?order={started['order_id']}&session_id="
                             f"{stripe_api.sessions and list(stripe_api.sessions)[-1]}")
    credited = await sock.event("balance.updated")
    assert credited == {**credited, "balance": STARTER, "available": STARTER}
    [paid] = (await sock.ok("billing.orders", order_id=started["order_id"]))["orders"]
    assert paid["status"] == "paid"
    deposits = (await sock.ok("transactions.list", kind="deposit"))["transactions"]
    session_id = list(stripe_api.sessions)[-1]
    assert [(t["amount"], t["idempotency_key"]) for t in deposits] == [
        (STARTER, f"stripe:{session_id}")]
    await ledger_clean(stripe_billed)


async def test_the_same_webhook_delivered_five_times_at_once_credits_once(stripe_billed, stripe_api,
                                                                          connect):
    ann = await register(stripe_billed, "ann@example.com")
    sock = await connect(ann, on=stripe_billed)
    started = await checkout(sock)
    session = stripe_api.pay(started["url"].rsplit("/", 1)[1])
    event = stripe_api.event("checkout.session.completed", dict(session))
    answers = await asyncio.gather(*(stripe_api.deliver(event) for _ in range(5)))
    assert [status for status, _ in answers] == [200] * 5
    assert sorted(body["outcome"] for _, body in answers) == ["credited"] + ["duplicate"] * 4
    # A day later, the same event again: still nothing more.
    assert (await stripe_api.deliver(event))[0] == 200
    assert await ledger_rows(stripe_billed, ann["user"]["id"]) == [("deposit", STARTER)]
    assert (await sock.ok("balance.get"))["balance"] == STARTER
    await ledger_clean(stripe_billed)


async def test_a_forged_or_stale_signature_is_refused_and_writes_nothing(stripe_billed, stripe_api,
                                                                         connect):
    ann = await register(stripe_billed, "ann@example.com")
    sock = await connect(ann, on=stripe_billed)
    started = await checkout(sock)
    session = stripe_api.pay(started["url"].rsplit("/", 1)[1])
    event = stripe_api.event("checkout.session.completed", dict(session))
    for attempt in (dict(secret="whsec_someone_else"),
                    dict(at=int(time.time()) - 600),  # older than the 5-minute tolerance
                    dict(header=""), dict(header="t=1,v1=deadbeef")):
        status, body = await stripe_api.deliver(event, **attempt)
        assert status == 400 and body["error"]["code"] == "bad_request", attempt
    raw = b'{"not": "an event"'
    resp = await stripe_billed.post(WEBHOOK, data=raw, headers={"Stripe-Signature": signature(raw)})
    assert resp.status == 400
    assert (await order_row(stripe_billed, started["order_id"]))["status"] == "pending"
    assert await count(stripe_billed, "billing_events") == 0
    assert await ledger_rows(stripe_billed, ann["user"]["id"]) == []


async def test_a_webhook_body_over_64_kib_is_refused_unread(stripe_billed):
    resp = await stripe_billed.post(WEBHOOK, data=b"{" + b" " * (64 * 1024 + 1) + b"}",
                                    headers={"Stripe-Signature": "t=1,v1=00"})
    assert resp.status == 413 and (await resp.json())["error"]["code"] == "too_large"
    assert await count(stripe_billed, "billing_events") == 0


async def test_an_event_before_its_order_is_visible_is_503_then_credited_on_retry(stripe_billed,
                                                                                 stripe_api):
    ann = await register(stripe_billed, "ann@example.com")
    order_id = new_id()
    session = {"id": "cs_test_early", "object": "checkout.session", "amount_total": 500,
               "currency": "usd", "payment_status": "paid", "status": "complete",
               "payment_intent": "pi_test_early", "metadata": {"chatwire_order_id": order_id}}
    event = stripe_api.event("checkout.session.completed", session)
    status, body = await stripe_api.deliver(event)
    assert status == 503 and body["error"]["code"] == "unavailable"
    assert await count(stripe_billed, "billing_events") == 0
    # The order commits (as billing.checkout writes it), and Stripe retries the same event.
    await order_rows.create(db(stripe_billed), id=order_id, user_id=ann["user"]["id"],
                            provider="stripe", pack_id="starter", amount=500, currency="usd",
                            credits=STARTER, now=utcnow())
    status, body = await stripe_api.deliver(event)
    assert (status, body["outcome"]) == (200, "credited")
    assert await ledger_rows(stripe_billed, ann["user"]["id"]) == [("deposit", STARTER)]


async def test_events_of_other_systems_on_the_account_are_acknowledged_and_ignored(stripe_billed,
                                                                                   stripe_api):
    other = {"id": "cs_test_shop", "object": "checkout.session", "amount_total": 999,
             "currency": "usd", "payment_status": "paid", "metadata": {"shop_order": "77"}}
    for kind, obj in (("checkout.session.completed", other),
                      ("customer.created", {"id": "cus_1", "object": "customer"}),
                      ("charge.refunded", {"id": "ch_x", "payment_intent": "pi_unknown",
                                           "amount_refunded": 100})):
        status, body = await stripe_api.send(kind, obj)
        assert (status, body["outcome"]) == (200, "ignored"), kind
    assert await count(stripe_billed, "transactions") == 0


async def test_an_amount_mismatch_is_not_credited_but_flagged(stripe_billed, stripe_api, connect):
    ann = await register(stripe_billed, "ann@example.com")
    sock = await connect(ann, on=stripe_billed)
    started = await checkout(sock)
    session = dict(stripe_api.pay(started["url"].rsplit("/", 1)[1]), amount_total=5)
    status, body = await stripe_api.send("checkout.session.completed", session)
    assert (status, body["outcome"]) == (200, "flagged")
    order = await order_row(stripe_billed, started["order_id"])
    assert order["status"] == "flagged" and "paid 5 usd" in order["flag_reason"]
    assert await ledger_rows(stripe_billed, ann["user"]["id"]) == []
    flagged = await stripe_billed.app[CONTEXT].services.billing.flagged()
    assert [o["id"] for o in flagged] == [started["order_id"]]
    # Right amount, wrong currency: flagged just the same.
    started = await checkout(sock)
    session = dict(stripe_api.pay(started["url"].rsplit("/", 1)[1]), currency="eur")
    assert (await stripe_api.send("checkout.session.completed", session))[1]["outcome"] == "flagged"
    assert await ledger_rows(stripe_billed, ann["user"]["id"]) == []


async def test_a_refund_after_spending_goes_negative_refuses_sends_and_a_top_up_restores(
        stripe_billed, stripe_api, connect):
    ann = await register(stripe_billed, "ann@example.com")
    sock = await connect(ann, on=stripe_billed)
    started = await checkout(sock)
    await pay(started["url"])
    await sock.event("balance.updated")
    chat = await sock.ok("chat.create")
    sent = await sock.ok("message.send", chat_id=chat["id"], content="spend a little")
    while (done := await sock.event("message.done"))["message_id"] != sent["assistant_message"]["id"]:
        pass
    spent = done["cost"]
    assert spent > 0
    session = list(stripe_api.sessions.values())[-1]
    client = stripe_billed.app[CONTEXT].services.billing.providers["stripe"].client
    await client.v1.refunds.create_async({"payment_intent": session["payment_intent"]})
    account = await sock.ok("balance.get")
    assert account["balance"] == -spent
    assert (await ledger_rows(stripe_billed, ann["user"]["id"]))[-1] == ("reversal", -STARTER)
    # A dispute of the same payment afterwards takes nothing more.
    status, body = await stripe_api.send("charge.dispute.created", {
        "id": "dp_1", "object": "dispute", "amount": 500,
        "payment_intent": session["payment_intent"]})
    assert (status, body["outcome"]) == (200, "settled")
    refused = await sock.error("message.send", chat_id=chat["id"], content="more please")
    assert refused["code"] == "insufficient_balance"
    await ledger_clean(stripe_billed)
    await pay((await checkout(sock))["url"])
    assert (await sock.ok("balance.get"))["balance"] == STARTER - spent
    await sock.ok("message.send", chat_id=chat["id"], content="and again")
    [order] = [o for o in (await sock.ok("billing.orders"))["orders"]
               if o["id"] == started["order_id"]]
    assert order["status"] == "reversed"
    await ledger_clean(stripe_billed)


async def test_reconcile_credits_a_lost_webhook_once_while_the_late_webhook_races_it(
        stripe_billed, stripe_api, connect):
    ann = await register(stripe_billed, "ann@example.com")
    sock = await connect(ann, on=stripe_billed)
    started = await checkout(sock)
    session = stripe_api.pay(started["url"].rsplit("/", 1)[1])  # paid; the webhook got lost
    billing = stripe_billed.app[CONTEXT].services.billing
    assert await billing.reconcile(older_than_minutes=60) == []  # not old enough yet
    late = stripe_api.event("checkout.session.completed", dict(session))
    results = await asyncio.gather(billing.reconcile(older_than_minutes=0),
                                   stripe_api.deliver(late), billing.reconcile(older_than_minutes=0))
    outcomes = [o for _, o in results[0]] + [results[1][1]["outcome"]] + [o for _, o in results[2]]
    assert outcomes.count("credited") == 1
    assert await ledger_rows(stripe_billed, ann["user"]["id"]) == [("deposit", STARTER)]
    await ledger_clean(stripe_billed)


async def test_the_provider_down_during_checkout_fails_the_order_and_charges_nothing(
        stripe_billed, stripe_api, connect):
    ann = await register(stripe_billed, "ann@example.com")
    sock = await connect(ann, on=stripe_billed)
    stripe_api.down = True
    error = await sock.error("billing.checkout", pack_id="starter", provider="stripe")
    assert error["code"] == "provider_unavailable"
    [order] = (await sock.ok("billing.orders"))["orders"]
    assert order["status"] == "failed"
    assert await ledger_rows(stripe_billed, ann["user"]["id"]) == []


@pytest.mark.parametrize("params, code", [
    (dict(pack_id="nope", provider="stripe"), "not_found"),
    (dict(pack_id="rub", provider="stripe"), "bad_request"),  # Stripe takes no RUB here
    (dict(pack_id="starter", provider="yookassa"), "bad_request"),  # not enabled
    (dict(pack_id="starter", provider="paypal"), "bad_request"),
    (dict(pack_id="starter"), "bad_request"),
    (dict(pack_id="", provider="stripe"), "bad_request"),
])
async def test_a_bad_checkout_is_a_typed_error_and_stores_nothing(stripe_billed, connect, params,
                                                                  code):
    ann = await register(stripe_billed, "ann@example.com")
    sock = await connect(ann, on=stripe_billed)
    assert (await sock.error("billing.checkout", **params))["code"] == code
    assert await count(stripe_billed, "orders") == 0


async def test_twenty_checkouts_a_minute_are_rate_limited(make_client, stripe_api, packs_file,
                                                          connect):
    from tests.billing import stripe_settings
    instance = await make_client(**stripe_settings(stripe_api.url, packs_file,
                                                   rate_checkout_per_minute=10))
    ann = await register(instance, "ann@example.com")
    sock = await connect(ann, on=instance)
    codes = [(await sock.call("billing.checkout", pack_id="starter", provider="stripe"))
             for _ in range(20)]
    refused = [c for c in codes if not c["ok"]]
    assert len(refused) == 10 and {c["error"]["code"] for c in refused} == {"rate_limited"}
    assert await count(instance, "orders") == 10


async def test_another_users_order_is_not_found(stripe_billed, connect):
    ann = await register(stripe_billed, "ann@example.com")
    bea = await register(stripe_billed, "bea@example.com")
    ann_sock = await connect(ann, on=stripe_billed)
    bea_sock = await connect(bea, on=stripe_billed)
    started = await checkout(ann_sock)
    error = await bea_sock.error("billing.orders", order_id=started["order_id"])
    assert error["code"] == "not_found"
    assert (await bea_sock.ok("billing.orders"))["orders"] == []


async def test_an_account_that_may_not_spend_yet_cannot_check_out(make_client, stripe_api,
                                                                  packs_file, connect):
    """REQUIRE_EMAIL_VERIFICATION on and the link not followed: `email_unverified`, nothing stored."""
    from tests.billing import stripe_settings
    instance = await make_client(**stripe_settings(stripe_api.url, packs_file),
                                 require_email_verification=True, smtp_url="smtp://127.0.0.1:9",
                                 mail_from="Chatwire <noreply@example.com>")
    ann = await register(instance, "ann@example.com")
    sock = await connect(ann, on=instance)
    error = await sock.error("billing.checkout", pack_id="starter", provider="stripe")
    assert error["code"] == "email_unverified"
    assert await count(instance, "orders") == 0 and stripe_api.sessions == {}


async def test_the_providers_secrets_never_reach_the_logs(stripe_billed, stripe_api, connect,
                                                          caplog):
    from tests.fakes.stripe import SECRET_KEY, WEBHOOK_SECRET
    caplog.set_level("DEBUG")
    ann = await register(stripe_billed, "ann@example.com")
    sock = await connect(ann, on=stripe_billed)
    await pay((await checkout(sock))["url"])
    stripe_api.down = True
    await sock.error("billing.checkout", pack_id="starter", provider="stripe")
    await stripe_api.deliver(stripe_api.event("checkout.session.completed", {}), secret="whsec_x")
    assert "billing: order" in caplog.text  # the log was captured
    assert SECRET_KEY not in caplog.text and WEBHOOK_SECRET not in caplog.text


async def test_a_disabled_account_cannot_check_out(stripe_billed, stripe_api, connect):
    """Disabled by an admin: the open socket closes (4403), a new one is refused, and a checkout
    that slipped in before the close is `account_disabled` — no order, no session at Stripe."""
    from tests.helpers import make_admin, open_socket
    admin = await make_admin(stripe_billed)
    ann = await register(stripe_billed, "ann@example.com")
    sock, late = await connect(ann, on=stripe_billed), await connect(ann, on=stripe_billed)
    await stripe_billed.app[CONTEXT].services.db.execute(  # disabled, the sockets not yet told
        "UPDATE users SET disabled_at = ? WHERE id = ?", (utcnow(), ann["user"]["id"]))
    error = await late.error("billing.checkout", pack_id="starter", provider="stripe")
    assert error["code"] == "account_disabled"
    await stripe_billed.app[CONTEXT].services.db.execute(
        "UPDATE users SET disabled_at = NULL WHERE id = ?", (ann["user"]["id"],))
    resp = await stripe_billed.patch(f"/api/v1/admin/users/{ann['user']['id']}",
                                     json={"disabled": True},
                                     headers={"Authorization": f"Bearer {admin}"})
    assert resp.status == 200
    assert await sock.closed() == 4403
    with pytest.raises(AssertionError, match="account_disabled"):
        await open_socket(stripe_billed, ann)  # its first frame is the error, not a hello
    assert await count(stripe_billed, "orders") == 0 and stripe_api.sessions == {}
