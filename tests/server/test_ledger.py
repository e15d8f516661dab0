"""Credits as a user and an admin see them: reserve before a reply, charge exactly once, never overdraw."""
import asyncio

import pytest

from providers.factory import ProviderSettings
from server.web.state import CONTEXT
from tests.helpers import deltas_of, deposit, make_admin, register, reply_events, vendor_providers

NO_CAPS = {"caps": {"daily": None, "monthly": None}}  # balance.get with no spend cap set


async def ledger_ok(instance):
    assert await instance.app[CONTEXT].services.ledger.check() == []


async def test_a_new_user_starts_with_the_welcome_grant_in_the_ledger(client, alice, connect):
    sock = await connect(alice)
    assert await sock.ok("balance.get") == {"balance": 100_000_000, "reserved": 0,
                                            "available": 100_000_000, **NO_CAPS}
    history = await sock.ok("transactions.list")
    assert [(t["kind"], t["amount"], t["balance_after"], t["note"]) for t in history["transactions"]] \
        == [("deposit", 100_000_000, 100_000_000, "welcome credits")]
    await ledger_ok(client)


async def test_a_reply_is_reserved_then_charged_its_exact_price(client, alice, connect):
    sock = await connect(alice)
    chat = await sock.ok("chat.create")
    sent = await sock.ok("message.send", chat_id=chat["id"], content="count my tokens please")
    reserved = await sock.event("balance.updated")
    assert reserved["reserved"] > 0 and reserved["balance"] == 100_000_000
    done = (await reply_events(sock, sent["assistant_message"]["id"]))[-1]
    usage = done["usage"]
    price = -(-(usage["prompt_tokens"] * 100_000 + usage["completion_tokens"] * 200_000) // 1_000_000)
    assert done["cost"] == price and done["balance"] == 100_000_000 - price
    settled = await sock.event("balance.updated")
    assert settled == {**settled, "balance": 100_000_000 - price, "reserved": 0,
                       "available": 100_000_000 - price}
    usage_rows = (await sock.ok("transactions.list", kind="usage"))["transactions"]
    assert [(t["amount"], t["message_id"]) for t in usage_rows] == [
        (-price, sent["assistant_message"]["id"])]
    await ledger_ok(client)


@pytest.fixture
async def poor(make_client):
    """An instance whose new users get no credits, with a slow echo and no per-user cap."""
    return await make_client(signup_credits=0, max_concurrent_generations=1000,
                             providers=ProviderSettings(echo_tokens_per_second=5))


async def test_fifty_concurrent_sends_never_overdraw(poor, connect):
    # Replies long enough (40 words at 5 tokens/s) to still hold their reservations after all
    # 50 sends are handled, however slow the machine: a finished reply would release its hold.
    words = " ".join(["same"] * 40)
    carol = await register(poor, "carol@example.com")
    admin = await make_admin(poor)
    sock = await connect(carol, on=poor)
    chats = [(await sock.ok("chat.create"))["id"] for _ in range(50)]
    probe = await sock.error("message.send", chat_id=chats[0], content=words)
    hold = probe["needed"]
    status, _ = await deposit(poor, admin, carol["user"]["id"], {"amount": 10 * hold})
    assert status == 201
    sockets = [sock] + [await connect(carol, on=poor) for _ in range(4)]
    sent = {}
    for i, chat_id in enumerate(chats[1:] + chats[:1]):
        s = sockets[i % 5]
        sent.setdefault(s, []).append(await s.send("message.send", chat_id=chat_id, content=words))

    async def replies(s):
        return [await s.reply(rid) for rid in sent[s]]

    results = sum(await asyncio.gather(*[replies(s) for s in sockets]), [])
    ok = [r for r in results if r["ok"]]
    refused = [r for r in results if not r["ok"]]
    assert len(ok) == 10 and len(refused) == 40
    assert {r["error"]["code"] for r in refused} == {"insufficient_balance"}
    account = await sock.ok("balance.get")
    assert account["reserved"] == 10 * hold and account["available"] == 0
    assert account["balance"] >= 0
    await ledger_ok(poor)


async def test_without_credits_the_message_is_kept_and_nothing_reaches_the_provider(
        make_client, vendor, connect):
    instance = await make_client(signup_credits=0, providers=vendor_providers(vendor.url))
    dave = await register(instance, "dave@example.com")
    sock = await connect(dave, on=instance)
    chat = await sock.ok("chat.create", model="gpt-4o-mini")
    error = await sock.error("message.send", chat_id=chat["id"], content="hello?")
    assert error["code"] == "insufficient_balance" and error["needed"] > 0 and error["available"] == 0
    history = (await sock.ok("message.list", chat_id=chat["id"]))["messages"]
    assert [(m["role"], m["content"]) for m in history] == [("user", "hello?")]
    assert history[0]["id"] == error["message_id"]
    assert vendor.requests == []
    await ledger_ok(instance)


@pytest.mark.parametrize("script", [{"status": 500}, {"drop_after": 2}])
async def test_a_provider_failure_charges_nothing_and_releases_the_hold(vendored, vendor,
                                                                        connect, script):
    erin = await register(vendored, "erin@example.com")
    sock = await connect(erin, on=vendored)
    chat = await sock.ok("chat.create", model="gpt-4o-mini")
    for key, value in script.items():
        setattr(vendor.script, key, value)
    sent = await sock.ok("message.send", chat_id=chat["id"], content="fail please")
    events = await reply_events(sock, sent["assistant_message"]["id"])
    assert events[-1]["type"] == "message.error"
    assert await sock.ok("balance.get") == {"balance": 100_000_000, "reserved": 0,
                                            "available": 100_000_000, **NO_CAPS}
    assert (await sock.ok("transactions.list", kind="usage"))["transactions"] == []
    await ledger_ok(vendored)


async def test_stop_charges_exactly_what_was_generated(make_client, connect):
    instance = await make_client(providers=ProviderSettings(echo_tokens_per_second=40))
    fay = await register(instance, "fay@example.com")
    sock = await connect(fay, on=instance)
    chat = await sock.ok("chat.create")
    sent = await sock.ok("message.send", chat_id=chat["id"], content=" ".join(["w"] * 200))
    await deltas_of(sock, sent["assistant_message"]["id"], 3)
    stopped = (await sock.ok("message.stop", message_id=sent["assistant_message"]["id"]))["message"]
    price = -(-(stopped["prompt_tokens"] * 100_000 + stopped["completion_tokens"] * 200_000)
              // 1_000_000)
    assert 0 < stopped["cost"] == price
    account = await sock.ok("balance.get")
    assert account == {"balance": 100_000_000 - price, "reserved": 0,
                       "available": 100_000_000 - price, **NO_CAPS}
    await ledger_ok(instance)


async def test_deposits_retried_with_one_key_land_once(client, alice):
    admin = await make_admin(client)
    results = await asyncio.gather(*[
        deposit(client, admin, alice["user"]["id"], {"amount": 5_000_000, "note": "top-up"},
                key="order-42") for _ in range(20)])
    statuses = sorted(status for status, _ in results)
    assert statuses == [200] * 19 + [201]
    assert len({body["transaction"]["id"] for _, body in results}) == 1
    db = client.app[CONTEXT].services.db
    assert await db.fetchval("SELECT COUNT(*) AS n FROM transactions WHERE idempotency_key = ?",
                             ("order-42",)) == 1
    assert all(body["balance"] == 105_000_000 for _, body in results)
    status, body = await deposit(client, admin, alice["user"]["id"], {"amount": 6_000_000},
                                 key="order-42")
    assert status == 409 and body["error"]["code"] == "conflict"
    await ledger_ok(client)


async def test_the_admin_route_refuses_what_it_should(client, alice, bob):
    admin = await make_admin(client)
    status, body = await deposit(client, alice["access_token"], bob["user"]["id"], {"amount": 1})
    assert status == 403 and body["error"]["code"] == "forbidden"
    status, body = await deposit(client, admin, "no-such-user", {"amount": 1})
    assert status == 404
    for bad in ({"amount": 0}, {"amount": -5}, {"amount": "10"}, {"amount": 1.5}, {},
                {"amount": 5, "kind": "usage"}, {"amount": 5, "extra": 1}):
        status, body = await deposit(client, admin, bob["user"]["id"], bad)
        assert status == 400 and body["error"]["code"] == "bad_request", (bad, body)
    status, body = await deposit(client, admin, bob["user"]["id"],
                                 {"amount": -200_000_000, "kind": "adjustment",
                                  "note": "too much"})
    assert status == 409
    status, body = await deposit(client, admin, bob["user"]["id"],
                                 {"amount": -1_000_000, "kind": "adjustment", "note": "refund fix"})
    assert status == 201 and body["balance"] == 99_000_000
    await ledger_ok(client)


async def test_transactions_page_newest_first_and_filter_by_kind(client, alice, connect):
    admin = await make_admin(client)
    for i in range(5):
        await deposit(client, admin, alice["user"]["id"], {"amount": 1000 + i})
    sock = await connect(alice)
    page = await sock.ok("transactions.list", kind="deposit", limit=2)
    assert [t["amount"] for t in page["transactions"]] == [1004, 1003]
    page = await sock.ok("transactions.list", kind="deposit", limit=10, cursor=page["next_cursor"])
    assert [t["amount"] for t in page["transactions"]] == [1002, 1001, 1000, 100_000_000]
    assert (await sock.error("transactions.list", kind="theft"))["code"] == "bad_request"


async def test_every_change_reaches_every_socket_as_balance_updated(client, alice, connect):
    admin = await make_admin(client)
    tab1, tab2 = await connect(alice), await connect(alice)
    await deposit(client, admin, alice["user"]["id"], {"amount": 7})
    for tab in (tab1, tab2):
        event = await tab.event("balance.updated")
        assert event["balance"] == 100_000_007 and event["available"] == 100_000_007
