"""Flagged payments in the operator's console: orders listed with what was expected and what the
provider reported, a flagged one credited once (a webhook replayed afterwards, or reconcile,
credits nothing more) or dismissed, each audit-logged; every bad input and every non-admin is
refused and changes nothing. Orders are flagged the way they are in production: the fake Stripe
or YooKassa reports another amount than the order's. Both engines."""
import aiohttp
import pytest

from server.web.state import CONTEXT
from tests.billing import STARTER, count, ledger_clean, ledger_rows, order_row
from tests.helpers import make_admin, register

ORDERS = "/api/v1/admin/orders"
RUB_PACK = 10_000_000


def bearer(token):
    return {"Authorization": f"Bearer {token}"}


async def get(instance, path, token):
    resp = await instance.get(path, headers=bearer(token))
    return resp.status, await resp.json()


async def resolve(instance, token, order_id, body):
    resp = await instance.post(f"{ORDERS}/{order_id}/resolve", json=body, headers=bearer(token))
    return resp.status, await resp.json()


async def flagged_stripe_order(instance, stripe_api, sock):
    """A Stripe checkout whose session reports 5 cents for a $5.00 order: (order id, event)."""
    started = await sock.ok("billing.checkout", pack_id="starter", provider="stripe")
    session = dict(stripe_api.pay(started["url"].rsplit("/", 1)[1]), amount_total=5)
    event = stripe_api.event("checkout.session.completed", session)
    assert (await stripe_api.deliver(event))[1]["outcome"] == "flagged"
    return started["order_id"], event


async def audit_entries(instance, token, action):
    return (await get(instance, f"/api/v1/admin/audit?action={action}", token))[1]["entries"]


async def test_orders_are_listed_with_the_flagged_count_and_what_was_paid(stripe_billed,
                                                                          stripe_api, connect):
    admin = await make_admin(stripe_billed)
    ann = await register(stripe_billed, "ann@example.com")
    sock = await connect(ann, on=stripe_billed)
    paid = await sock.ok("billing.checkout", pack_id="big", provider="stripe")
    await stripe_api.send("checkout.session.completed",
                          dict(stripe_api.pay(paid["url"].rsplit("/", 1)[1])))
    flagged_id, _ = await flagged_stripe_order(stripe_billed, stripe_api, sock)

    status, page = await get(stripe_billed, ORDERS, admin)
    assert status == 200 and page["flagged"] == 1 and page["next_cursor"] is None
    assert [(o["id"], o["status"]) for o in page["orders"]] == [(flagged_id, "flagged"),
                                                                (paid["order_id"], "paid")]
    _, only = await get(stripe_billed, f"{ORDERS}?status=flagged", admin)
    [order] = only["orders"]
    session_id = (await order_row(stripe_billed, flagged_id))["payment_id"]
    assert order == {**order, "email": "ann@example.com", "user_id": ann["user"]["id"],
                     "provider": "stripe", "pack_id": "starter", "amount": 500,
                     "currency": "usd", "credits": STARTER, "payment_id": session_id,
                     "expected": {"amount": 500, "currency": "usd"},
                     "received": {"amount": 5, "currency": "usd"}, "resolution": None}
    assert session_id.startswith("cs_test_")
    _, paid_only = await get(stripe_billed, f"{ORDERS}?status=paid", admin)
    assert [(o["id"], o["expected"], o["received"]) for o in paid_only["orders"]] == [
        (paid["order_id"], None, None)]
    assert (await get(stripe_billed, f"{ORDERS}?status=reversed", admin))[1]["orders"] == []


async def test_credit_deposits_once_and_a_replayed_or_late_webhook_credits_nothing_more(
        stripe_billed, stripe_api, connect):
    admin = await make_admin(stripe_billed)
    ann = await register(stripe_billed, "ann@example.com")
    sock = await connect(ann, on=stripe_billed)
    order_id, event = await flagged_stripe_order(stripe_billed, stripe_api, sock)
    session_id = (await order_row(stripe_billed, order_id))["payment_id"]

    status, body = await resolve(stripe_billed, admin, order_id,
                                 {"action": "credit", "note": "Stripe support: paid in full"})
    assert status == 200
    assert body["order"]["status"] == "paid"
    assert body["order"]["resolution"] == {**body["order"]["resolution"], "action": "credit",
                                           "note": "Stripe support: paid in full",
                                           "by": "root@example.com"}
    assert (await sock.event("balance.updated"))["balance"] == STARTER
    deposits = (await sock.ok("transactions.list", kind="deposit"))["transactions"]
    assert [(t["amount"], t["idempotency_key"]) for t in deposits] == [
        (STARTER, f"stripe:{session_id}")]  # the key the webhook would have used

    # The same event again, a corrected one from Stripe, a reconcile: nothing more is credited.
    assert (await stripe_api.deliver(event))[1]["outcome"] == "duplicate"
    corrected = dict(stripe_api.sessions[session_id], amount_total=500)
    assert (await stripe_api.send("checkout.session.completed", corrected))[1]["outcome"] == \
        "settled"
    assert await stripe_billed.app[CONTEXT].services.billing.reconcile(0) == []
    assert await ledger_rows(stripe_billed, ann["user"]["id"]) == [("deposit", STARTER)]
    # Resolved once: a second resolution is a conflict and changes nothing.
    status, again = await resolve(stripe_billed, admin, order_id,
                                  {"action": "credit", "note": "twice"})
    assert status == 409 and again["error"]["code"] == "conflict"
    assert await ledger_rows(stripe_billed, ann["user"]["id"]) == [("deposit", STARTER)]
    await ledger_clean(stripe_billed)

    [entry] = await audit_entries(stripe_billed, admin, "order.credit")
    assert entry["target_id"] == ann["user"]["id"] and entry["actor_email"] == "root@example.com"
    assert entry["before"]["status"] == "flagged" and entry["after"] == {
        **entry["after"], "order_id": order_id, "status": "paid", "credits": STARTER,
        "note": "Stripe support: paid in full"}
    _, page = await get(stripe_billed, ORDERS, admin)
    assert page["flagged"] == 0
    assert page["orders"][0]["resolution"]["action"] == "credit"


async def test_dismiss_closes_a_flagged_yookassa_order_with_nothing_credited(
        yookassa_billed, yookassa_api, connect):
    admin = await make_admin(yookassa_billed)
    ann = await register(yookassa_billed, "ann@example.com")
    sock = await connect(ann, on=yookassa_billed)
    started = await sock.ok("billing.checkout", pack_id="rub", provider="yookassa")
    payment = yookassa_api.pay(started["url"].rsplit("/", 1)[1],
                               amount={"value": "1.00", "currency": "RUB"})
    assert (await yookassa_api.notify("payment.succeeded", payment))[1]["outcome"] == "flagged"
    _, page = await get(yookassa_billed, f"{ORDERS}?status=flagged", admin)
    assert [(o["id"], o["expected"], o["received"]) for o in page["orders"]] == [
        (started["order_id"], {"amount": 49900, "currency": "rub"},
         {"amount": 100, "currency": "rub"})]

    status, body = await resolve(yookassa_billed, admin, started["order_id"],
                                 {"action": "dismiss", "note": "a test payment"})
    assert status == 200 and body["order"]["status"] == "failed"
    assert body["order"]["resolution"]["action"] == "dismiss"
    assert body["order"]["flag_reason"].startswith("paid 100 rub")  # the reason stays
    # YooKassa notifies again (a retry), or the payment is reported in full later: no credit.
    assert (await yookassa_api.notify("payment.succeeded", payment))[1]["outcome"] == "duplicate"
    yookassa_api.pay(payment["id"], amount={"value": "499.00", "currency": "RUB"})
    assert (await yookassa_api.notify("payment.waiting_for_capture", payment))[1]["outcome"] \
        == "settled"
    assert await ledger_rows(yookassa_billed, ann["user"]["id"]) == []
    assert (await sock.ok("balance.get"))["balance"] == 0
    [entry] = await audit_entries(yookassa_billed, admin, "order.dismiss")
    assert entry["after"]["note"] == "a test payment" and entry["after"]["status"] == "failed"
    assert (await get(yookassa_billed, ORDERS, admin))[1]["flagged"] == 0


@pytest.mark.parametrize("body, code", [
    ({"action": "credit"}, "bad_request"),  # no note
    ({"action": "credit", "note": ""}, "bad_request"),
    ({"action": "credit", "note": "   "}, "bad_request"),
    ({"action": "credit", "note": None}, "bad_request"),
    ({"action": "credit", "note": "x" * 501}, "bad_request"),
    ({"note": "why"}, "bad_request"),  # no action
    ({"action": "refund", "note": "why"}, "bad_request"),
    ({"action": 1, "note": "why"}, "bad_request"),
])
async def test_a_bad_resolution_is_a_typed_error_and_changes_nothing(stripe_billed, stripe_api,
                                                                      connect, body, code):
    admin = await make_admin(stripe_billed)
    ann = await register(stripe_billed, "ann@example.com")
    sock = await connect(ann, on=stripe_billed)
    order_id, _ = await flagged_stripe_order(stripe_billed, stripe_api, sock)
    status, answer = await resolve(stripe_billed, admin, order_id, body)
    assert status == 400 and answer["error"]["code"] == code
    assert (await order_row(stripe_billed, order_id))["status"] == "flagged"
    assert await count(stripe_billed, "transactions") == 0
    assert await count(stripe_billed, "audit_log") == 0


async def test_unknown_or_unflagged_orders_and_bad_queries_are_refused(stripe_billed,
                                                                       stripe_api, connect):
    admin = await make_admin(stripe_billed)
    ann = await register(stripe_billed, "ann@example.com")
    sock = await connect(ann, on=stripe_billed)
    pending = await sock.ok("billing.checkout", pack_id="starter", provider="stripe")
    for order_id, status, code in (("0" * 32, 404, "not_found"), ("nope", 404, "not_found"),
                                   (pending["order_id"], 409, "conflict")):
        answer = await resolve(stripe_billed, admin, order_id, {"action": "credit", "note": "n"})
        assert answer[0] == status and answer[1]["error"]["code"] == code, order_id
    resp = await stripe_billed.post(f"{ORDERS}/{pending['order_id']}/resolve", data=b"[1",
                                    headers=bearer(admin))
    assert resp.status == 400 and (await resp.json())["error"]["code"] == "bad_request"
    for query in ("status=refunded", "status=" + "x" * 21, "cursor=nonsense"):
        status, answer = await get(stripe_billed, f"{ORDERS}?{query}", admin)
        assert status == 400 and answer["error"]["code"] == "bad_request", query
    assert (await order_row(stripe_billed, pending["order_id"]))["status"] == "pending"
    assert await count(stripe_billed, "transactions") == 0
    assert await count(stripe_billed, "audit_log") == 0


async def test_a_non_admin_is_refused_and_changes_nothing(stripe_billed, stripe_api, connect):
    await make_admin(stripe_billed)
    ann = await register(stripe_billed, "ann@example.com")
    sock = await connect(ann, on=stripe_billed)
    order_id, _ = await flagged_stripe_order(stripe_billed, stripe_api, sock)
    token = ann["access_token"]
    status, answer = await get(stripe_billed, ORDERS, token)
    assert status == 403 and answer["error"]["code"] == "forbidden"
    status, answer = await resolve(stripe_billed, token, order_id,
                                   {"action": "credit", "note": "for me"})
    assert status == 403 and answer["error"]["code"] == "forbidden"
    async with aiohttp.ClientSession() as fresh:  # no session cookie of anyone's
        async with fresh.get(str(stripe_billed.make_url(ORDERS))) as anonymous:
            assert anonymous.status == 401
    assert (await order_row(stripe_billed, order_id))["status"] == "flagged"
    assert await ledger_rows(stripe_billed, ann["user"]["id"]) == []
    assert await count(stripe_billed, "audit_log") == 0


async def test_pages_of_orders_follow_the_cursor(stripe_billed, connect):
    admin = await make_admin(stripe_billed)
    ann = await register(stripe_billed, "ann@example.com")
    sock = await connect(ann, on=stripe_billed)
    made = [(await sock.ok("billing.checkout", pack_id="starter", provider="stripe"))["order_id"]
            for _ in range(3)]
    review = stripe_billed.app[CONTEXT].services.order_review
    first = await review.orders(status="pending", cursor=None, limit=2)
    second = await review.orders(status="pending", cursor=first["next_cursor"], limit=2)
    assert [o["id"] for o in first["orders"] + second["orders"]] == made[::-1]
    assert second["next_cursor"] is None
    status, answer = await get(stripe_billed, f"{ORDERS}?status=pending&cursor="
                               f"{first['next_cursor']}", admin)
    assert status == 200 and [o["id"] for o in answer["orders"]] == made[:1]
