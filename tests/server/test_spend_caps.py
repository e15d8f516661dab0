"""Spend caps: a send whose worst case would pass the user's daily or monthly cap is refused
with `spend_cap_reached` and when the cap resets, storing nothing; users see their caps and what
is left in `balance.get`; new accounts start with DEFAULT_DAILY_CAP / DEFAULT_MONTHLY_CAP. Both
engines."""
from datetime import datetime, timezone

from tests.helpers import make_admin, read_until_done, register


async def set_caps(client, admin, user_id, **caps):
    resp = await client.patch(f"/api/v1/admin/users/{user_id}", json=caps,
                              headers={"Authorization": f"Bearer {admin}"})
    assert resp.status == 200, await resp.json()


async def counts(client):
    from server.web.state import CONTEXT
    db = client.app[CONTEXT].services.db
    return (await db.fetchval("SELECT COUNT(*) AS n FROM messages"),
            await db.fetchval("SELECT COUNT(*) AS n FROM holds"))


async def test_a_send_past_the_daily_cap_is_refused_with_its_reset(client, alice, connect):
    admin = await make_admin(client)
    sock = await connect(alice)
    chat = await sock.ok("chat.create")
    await set_caps(client, admin, alice["user"]["id"], daily_cap=0)
    before = await counts(client)
    refused = await sock.error("message.send", chat_id=chat["id"], content="hello there")
    assert refused["code"] == "spend_cap_reached" and refused["cap"] == "daily"
    assert refused["left"] == 0 and refused["limit"] == 0
    today = datetime.now(timezone.utc).date()
    assert refused["resets_at"].startswith(
        datetime.fromordinal(today.toordinal() + 1).date().isoformat() + "T00:00:00")
    assert await counts(client) == before
    assert (await sock.ok("balance.get"))["reserved"] == 0

    # A cap that fits one reply's worst case: the first goes, the one after it does not.
    await set_caps(client, admin, alice["user"]["id"], daily_cap=refused["needed"])
    sent = await sock.ok("message.send", chat_id=chat["id"], content="hello there")
    await read_until_done(sock, sent["assistant_message"]["id"])
    shown = await sock.ok("balance.get")
    spent = 100_000_000 - shown["balance"]
    assert spent > 0 and shown["caps"]["daily"] == {
        "cap": refused["needed"], "spent": spent, "left": refused["needed"] - spent,
        "resets_at": refused["resets_at"]} and shown["caps"]["monthly"] is None
    again = await sock.error("message.send", chat_id=chat["id"], content="hello there")
    assert again["code"] == "spend_cap_reached" and again["left"] == refused["needed"] - spent
    regen = await sock.error("message.regenerate", message_id=sent["assistant_message"]["id"])
    assert regen["code"] == "spend_cap_reached"
    # Lifted (null): sending works again.
    await set_caps(client, admin, alice["user"]["id"], daily_cap=None)
    assert (await sock.ok("message.regenerate",
                          message_id=sent["assistant_message"]["id"]))["message"]


async def test_the_monthly_cap_and_the_defaults_for_new_accounts(make_client, connect):
    instance = await make_client(default_daily_cap=None, default_monthly_cap=0)
    carol = await register(instance, "carol@example.com")
    sock = await connect(carol, on=instance)
    assert (await sock.ok("balance.get"))["caps"]["monthly"]["cap"] == 0
    chat = await sock.ok("chat.create")
    refused = await sock.error("message.send", chat_id=chat["id"], content="hi")
    assert refused["code"] == "spend_cap_reached" and refused["cap"] == "monthly"
    assert refused["resets_at"][8:10] == "01"
