"""Credit packs edited in the operator's console (issue 24, item 1): admins list, add and change
packs over REST; the file seeds them and never overwrites an edit; the next checkout is made at
the new price at the fake Stripe while an order already made keeps its amount; a disabled pack
is not offered and cannot be checked out; every bad input and every non-admin is refused and
changes nothing; every change is audit-logged. Both engines."""
import asyncio

import aiohttp

from tests.billing import STARTER, ledger_clean, ledger_rows, order_row, stripe_settings
from tests.helpers import make_admin, register

PACKS = "/api/v1/admin/packs"


def bearer(token):
    return {"Authorization": f"Bearer {token}"}


async def call(instance, method, path, token, body=None):
    resp = await instance.request(method, path, json=body, headers=bearer(token))
    return resp.status, await resp.json()


async def listed(instance, token):
    status, body = await call(instance, "GET", PACKS, token)
    assert status == 200
    return body


async def audit(instance, token, action):
    return (await call(instance, "GET", f"/api/v1/admin/audit?action={action}", token))[1]["entries"]


def session_of(stripe_api, started):
    return stripe_api.sessions[started["url"].rsplit("/", 1)[1]]


async def test_the_file_seeds_the_packs_and_the_admin_lists_them(stripe_billed):
    admin = await make_admin(stripe_billed)
    body = await listed(stripe_billed, admin)
    assert body["currencies"] == ["eur", "usd"]  # what the enabled provider (Stripe) takes
    assert [(p["id"], p["title"], p["price"], p["currency"], p["credits"], p["enabled"],
             p["sellable"]) for p in body["packs"]] == [
        ("starter", "5 credits", 500, "usd", STARTER, True, True),
        ("big", "50 credits", 4000, "usd", 50_000_000, True, True),
        ("rub", "10 кредитов", 49900, "rub", 10_000_000, True, False)]


async def test_an_added_pack_is_offered_and_bought(stripe_billed, stripe_api, connect):
    admin = await make_admin(stripe_billed)
    ann = await register(stripe_billed, "ann@example.com")
    sock = await connect(ann, on=stripe_billed)
    status, body = await call(stripe_billed, "POST", PACKS, admin,
                              {"id": "huge", "price": 9900, "currency": "EUR",
                               "credits": 150_000_000})
    assert status == 201
    assert {k: body["pack"][k] for k in ("id", "title", "price", "currency", "credits",
                                         "enabled")} == {
        "id": "huge", "title": "150 credits", "price": 9900, "currency": "eur",
        "credits": 150_000_000, "enabled": True}
    offered = (await sock.ok("billing.packs"))["packs"]
    assert offered[-1] == {"id": "huge", "title": "150 credits", "credits": 150_000_000,
                           "price": 9900, "currency": "eur", "providers": ["stripe"]}
    started = await sock.ok("billing.checkout", pack_id="huge", provider="stripe")
    session = session_of(stripe_api, started)
    assert (session["amount_total"], session["currency"]) == (9900, "eur")
    stripe_api.pay(session["id"])
    assert (await stripe_api.deliver(stripe_api.event("checkout.session.completed",
                                                      dict(session))))[1]["outcome"] == "credited"
    assert await ledger_rows(stripe_billed, ann["user"]["id"]) == [("deposit", 150_000_000)]
    [entry] = await audit(stripe_billed, admin, "pack.create")
    assert entry["actor_email"] == "root@example.com" and entry["before"] is None
    assert entry["after"] == {"id": "huge", "title": "150 credits", "price": 9900,
                              "currency": "eur", "credits": 150_000_000, "enabled": True}


async def test_a_price_change_makes_the_next_checkout_and_leaves_a_pending_order(
        stripe_billed, stripe_api, connect):
    admin = await make_admin(stripe_billed)
    ann = await register(stripe_billed, "ann@example.com")
    sock = await connect(ann, on=stripe_billed)
    before = await sock.ok("billing.checkout", pack_id="starter", provider="stripe")

    status, body = await call(stripe_billed, "PATCH", f"{PACKS}/starter", admin,
                              {"price": 900, "title": "Starter"})
    assert status == 200 and body["pack"]["price"] == 900 and body["pack"]["title"] == "Starter"
    offered = {p["id"]: p for p in (await sock.ok("billing.packs"))["packs"]}
    assert (offered["starter"]["price"], offered["starter"]["title"]) == (900, "Starter")

    after = await sock.ok("billing.checkout", pack_id="starter", provider="stripe")
    assert session_of(stripe_api, after)["amount_total"] == 900
    assert (await order_row(stripe_billed, after["order_id"]))["amount"] == 900
    # The order made before the change keeps its amount, and is credited when paid at it.
    old = await order_row(stripe_billed, before["order_id"])
    assert (old["amount"], old["status"]) == (500, "pending")
    session = session_of(stripe_api, before)
    assert session["amount_total"] == 500
    stripe_api.pay(session["id"])
    answer = await stripe_api.deliver(stripe_api.event("checkout.session.completed",
                                                       dict(session)))
    assert answer[1]["outcome"] == "credited"
    assert await ledger_rows(stripe_billed, ann["user"]["id"]) == [("deposit", STARTER)]
    await ledger_clean(stripe_billed)

    [entry] = await audit(stripe_billed, admin, "pack.update")
    assert (entry["before"]["price"], entry["after"]["price"]) == (500, 900)
    assert (entry["before"]["title"], entry["after"]["title"]) == ("5 credits", "Starter")


async def test_a_disabled_pack_is_not_offered_nor_sold_until_enabled(stripe_billed, connect):
    admin = await make_admin(stripe_billed)
    sock = await connect(await register(stripe_billed, "ann@example.com"), on=stripe_billed)
    assert (await call(stripe_billed, "PATCH", f"{PACKS}/big", admin, {"enabled": False}))[0] == 200
    assert [p["id"] for p in (await sock.ok("billing.packs"))["packs"]] == ["starter"]
    error = await sock.error("billing.checkout", pack_id="big", provider="stripe")
    assert (error["code"], error["field"]) == ("bad_request", "pack_id")
    assert (await sock.ok("billing.orders"))["orders"] == []
    assert [p["enabled"] for p in (await listed(stripe_billed, admin))["packs"]] == [
        True, False, True]
    assert (await call(stripe_billed, "PATCH", f"{PACKS}/big", admin, {"enabled": True}))[0] == 200
    assert [p["id"] for p in (await sock.ok("billing.packs"))["packs"]] == ["starter", "big"]
    assert (await sock.ok("billing.checkout", pack_id="big", provider="stripe"))["order_id"]


BAD_NEW = [
    ({"id": "x", "price": 0, "currency": "usd", "credits": 1}, "bad_request", "price"),
    ({"id": "x", "price": -5, "currency": "usd", "credits": 1}, "bad_request", "price"),
    ({"id": "x", "price": "500", "currency": "usd", "credits": 1}, "bad_request", "price"),
    ({"id": "x", "price": 1.5, "currency": "usd", "credits": 1}, "bad_request", "price"),
    ({"id": "x", "price": 500, "currency": "usd", "credits": 0}, "bad_request", "credits"),
    ({"id": "x", "price": 500, "currency": "usd", "credits": -1}, "bad_request", "credits"),
    ({"id": "x", "price": 500, "currency": "rub", "credits": 1}, "bad_request", "currency"),
    ({"id": "x", "price": 500, "currency": "us", "credits": 1}, "bad_request", "currency"),
    ({"id": "x", "price": 500, "credits": 1}, "bad_request", "currency"),
    ({"id": "", "price": 500, "currency": "usd", "credits": 1}, "bad_request", "id"),
    ({"id": "x" * 65, "price": 500, "currency": "usd", "credits": 1}, "bad_request", "id"),
    ({"id": "starter", "price": 500, "currency": "usd", "credits": 1}, "conflict", "id"),
]
BAD_CHANGE = [
    ("starter", {}, "bad_request", None),
    ("starter", {"price": 0}, "bad_request", "price"),
    ("starter", {"credits": -1}, "bad_request", "credits"),
    ("starter", {"currency": "rub"}, "bad_request", "currency"),
    ("starter", {"title": ""}, "bad_request", "title"),
    ("starter", {"enabled": "no"}, "bad_request", "enabled"),
    ("nope", {"price": 100}, "not_found", None),
]


async def test_every_bad_input_is_refused_and_changes_nothing(stripe_billed):
    admin = await make_admin(stripe_billed)
    before = await listed(stripe_billed, admin)
    for body, code, field in BAD_NEW:
        status, answer = await call(stripe_billed, "POST", PACKS, admin, body)
        assert (status, answer["error"]["code"], answer["error"].get("field")) == (
            {"conflict": 409}.get(code, 400), code, field), body
    for pack_id, body, code, field in BAD_CHANGE:
        status, answer = await call(stripe_billed, "PATCH", f"{PACKS}/{pack_id}", admin, body)
        assert (status, answer["error"]["code"], answer["error"].get("field")) == (
            {"not_found": 404}.get(code, 400), code, field), body
    assert await listed(stripe_billed, admin) == before
    for action in ("pack.create", "pack.update"):
        assert await audit(stripe_billed, admin, action) == []


async def test_a_non_admin_is_forbidden_and_changes_nothing(stripe_billed):
    admin = await make_admin(stripe_billed)
    ann = (await register(stripe_billed, "ann@example.com"))["access_token"]
    before = await listed(stripe_billed, admin)
    for method, path, body in [("GET", PACKS, None),
                               ("POST", PACKS, {"id": "x", "price": 1, "currency": "usd",
                                                "credits": 1}),
                               ("PATCH", f"{PACKS}/starter", {"price": 1})]:
        status, answer = await call(stripe_billed, method, path, ann, body)
        assert (status, answer["error"]["code"]) == (403, "forbidden")
        async with aiohttp.ClientSession() as anonymous:  # no token, no cookie
            async with anonymous.request(method, stripe_billed.make_url(path), json=body) as resp:
                assert resp.status == 401
    assert await listed(stripe_billed, admin) == before


async def test_a_restart_keeps_the_edits_and_another_instance_hears_them(
        make_client, redis_url, stripe_api, packs_file, connect):
    settings = stripe_settings(stripe_api.url, packs_file, redis_url=redis_url)
    a = await make_client(**settings)
    admin = await make_admin(a)
    b = await make_client(**settings)
    sock = await connect(await register(b, "ann@example.com"), on=b)
    assert (await call(a, "PATCH", f"{PACKS}/starter", admin, {"price": 700}))[0] == 200
    offered = {}
    for _ in range(50):  # the broker's news reaches b on its own schedule
        offered = {p["id"]: p for p in (await sock.ok("billing.packs"))["packs"]}
        if offered["starter"]["price"] == 700:
            break
        await asyncio.sleep(0.05)
    assert offered["starter"]["price"] == 700
    started = await sock.ok("billing.checkout", pack_id="starter", provider="stripe")
    assert session_of(stripe_api, started)["amount_total"] == 700
    # A start reads the file again: it adds nothing that is there, and overwrites no edit.
    c = await make_client(**settings)
    assert [(p["id"], p["price"]) for p in (await listed(c, admin))["packs"]] == [
        ("starter", 700), ("big", 4000), ("rub", 49900)]
