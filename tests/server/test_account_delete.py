"""Deleting one's own account over the socket (`account.delete`, issue 22): everything of the user's
goes, the ledger stays under an anonymised user, every socket closes, the email is free again."""
from datetime import date, timedelta
from pathlib import Path

from providers.factory import ProviderSettings
from server.web.state import CONTEXT
from storage.erasure import TOMBSTONE_DOMAIN
from tests.helpers import PASSWORD, deposit, make_admin, read_until_done, register, upload
from tests.samples import png
from tests.usage_helpers import months_back, place, reply, report


async def log_in(client, email="alice@example.com", password=PASSWORD):
    return await client.post("/api/v1/auth/login", json={"email": email, "password": password})


async def tables(db):
    if db.dialect == "sqlite":
        rows = await db.fetchall("SELECT name FROM sqlite_master WHERE type = 'table'")
        return [row["name"] for row in rows]
    rows = await db.fetchall("""SELECT table_name AS name FROM information_schema.tables
                                WHERE table_schema = current_schema()""")
    return [row["name"] for row in rows]


async def rows_naming(db, *needles):
    """Every row of every table (in whatever the engine keeps) with one of `needles` in it."""
    found = []
    for table in await tables(db):
        for row in await db.fetchall(f'SELECT * FROM "{table}"'):
            text = " ".join(str(value) for value in row.values()).casefold()
            if any(needle.casefold() in text for needle in needles):
                found.append((table, row))
    return found


async def alice_with_everything(client, alice, connect):
    """Chats (one trashed, one tagged, in a folder and shared), replies, an attached file, a
    profile, a second session."""
    sock = await connect(alice)
    status, image = await upload(client, alice, "кот.png", png(), "image/png")
    assert status == 201, image
    status, notes = await upload(client, alice, "notes.md", "# Список\n- молоко".encode())
    assert status == 201, notes
    chat = await sock.ok("chat.create", title="Поездка в Казань")
    folder = (await sock.ok("folder.create", name="Путешествия", instructions="Кратко."))["folder"]
    await sock.ok("chat.update", chat_id=chat["id"], tags=["travel"], favorite=True,
                  folder_id=folder["id"])
    sent = await sock.ok("message.send", chat_id=chat["id"], content="Что на фото?",
                         file_ids=[notes["file"]["id"]])
    await read_until_done(sock, sent["assistant_message"]["id"])
    await sock.ok("chat.share", chat_id=chat["id"])
    old = await sock.ok("chat.create", title="old one")
    await read_until_done(sock, (await sock.ok("message.send", chat_id=old["id"],
                                               content="hello"))["assistant_message"]["id"])
    await sock.ok("chat.delete", chat_id=old["id"])
    await sock.ok("profile.update", interests=[{"text": "архитектура"}])
    second = await (await log_in(client)).json()
    return sock, await connect(second), second, image


async def test_deleting_the_account_leaves_only_anonymised_ledger_rows(client, alice, bob,
                                                                        connect):
    services = client.app[CONTEXT].services
    db = services.db
    sock, other, second, image = await alice_with_everything(client, alice, connect)
    bobs_sock = await connect(bob)
    bobs_chat = await bobs_sock.ok("chat.create", title="Bob's")
    _, bobs_file = await upload(client, bob, "b.png", png(color="blue"), "image/png")
    user_id, email = alice["user"]["id"], alice["user"]["email"]
    ledger_before = await db.fetchall(
        "SELECT id, kind, amount, balance_after FROM transactions WHERE user_id = ? ORDER BY id",
        (user_id,))
    assert {row["kind"] for row in ledger_before} == {"deposit", "usage"}
    balance = (await sock.ok("balance.get"))["balance"]
    upload_dir = Path(services.settings.upload_dir)
    alices_path = upload_dir / (await db.fetchval(
        "SELECT storage_path FROM files WHERE id = ?", (image["file"]["id"],)))
    assert alices_path.is_file()

    assert await sock.ok("account.delete", password=PASSWORD) == {"deleted": True}
    assert await sock.closed() == 4401 and await other.closed() == 4401

    assert await rows_naming(db, user_id, email) == []
    tombstone = await db.fetchone(
        "SELECT id, email, display_name, balance, reserved FROM users WHERE email LIKE ?",
        (f"%@{TOMBSTONE_DOMAIN}",))
    assert tombstone["display_name"] == "" and tombstone["balance"] == balance
    assert tombstone["reserved"] == 0
    assert await db.fetchall(
        "SELECT id, kind, amount, balance_after FROM transactions WHERE user_id = ? ORDER BY id",
        (tombstone["id"],)) == ledger_before
    assert await db.fetchval("SELECT COUNT(*) FROM transactions WHERE message_id IS NOT NULL "
                             "AND user_id = ?", (tombstone["id"],)) == 0
    assert await services.ledger.check() == []  # what `run.py ledger check` runs
    assert not alices_path.exists()

    for token in (alice["refresh_token"], second["refresh_token"]):
        resp = await client.post("/api/v1/auth/refresh", json={"refresh_token": token})
        assert resp.status == 401
    assert (await log_in(client)).status == 401
    resp = await client.get("/api/v1/auth/me", headers={
        "Authorization": f"Bearer {alice['access_token']}"})
    assert resp.status == 401
    assert (await log_in(client, email=tombstone["email"], password="")).status in (400, 401)

    # Bob is untouched.
    assert [c["id"] for c in (await bobs_sock.ok("chat.list"))["chats"]] == [bobs_chat["id"]]
    assert [f["id"] for f in (await bobs_sock.ok("file.list"))["files"]] == [bobs_file["file"]["id"]]
    assert [p.name for p in upload_dir.rglob("*") if p.is_file()] == [Path(await db.fetchval(
        "SELECT storage_path FROM files WHERE id = ?", (bobs_file["file"]["id"],))).name]

    # The email is free: a new, empty account.
    again = await register(client, "Alice@Example.com")
    assert again["user"]["id"] != user_id
    fresh = await connect(again)
    assert (await fresh.ok("chat.list"))["chats"] == []
    assert (await fresh.ok("file.list"))["files"] == []
    assert len((await fresh.ok("transactions.list"))["transactions"]) == 1  # the welcome credits
    assert await services.ledger.check() == []


async def test_a_wrong_password_changes_nothing(client, alice, connect):
    sock, other, second, image = await alice_with_everything(client, alice, connect)
    db = client.app[CONTEXT].services.db
    before = await rows_naming(db, alice["user"]["id"])
    assert {"users", "refresh_tokens", "user_profiles", "chats", "chat_tags", "messages", "files",
            "transactions"} <= {table for table, _ in before}  # the scan sees them all
    error = await sock.error("account.delete", password="not my password")
    assert error["code"] == "unauthorized" and error["field"] == "password"
    for params in ({}, {"password": ""}, {"password": 7}):
        assert (await sock.error("account.delete", **params))["code"] == "bad_request"
    assert await rows_naming(db, alice["user"]["id"]) == before
    assert (await other.ok("ping"))["pong"] and (await sock.ok("ping"))["pong"]
    assert (await log_in(client)).status == 200


async def test_a_streaming_reply_refuses_the_deletion_until_it_ends(make_client, connect):
    slow = await make_client(providers=ProviderSettings(echo_tokens_per_second=5))
    carol = await register(slow, "carol@example.com")
    sock = await connect(carol, on=slow)
    chat = await sock.ok("chat.create")
    sent = await sock.ok("message.send", chat_id=chat["id"], content=" ".join(["word"] * 30))
    error = await sock.error("account.delete", password=PASSWORD)
    assert error["code"] == "conflict"
    assert error["message_id"] == sent["assistant_message"]["id"]
    assert (await sock.ok("chat.list"))["chats"]
    await sock.ok("message.stop", message_id=sent["assistant_message"]["id"])
    await sock.event("message.stopped")
    assert await sock.ok("account.delete", password=PASSWORD) == {"deleted": True}
    assert await sock.closed() == 4401
    assert await slow.app[CONTEXT].services.ledger.check() == []


async def test_an_operator_s_deposits_to_others_name_the_anonymised_user(client, bob, connect):
    services = client.app[CONTEXT].services
    token = await make_admin(client)
    root_id = (await services.accounts.me(
        await services.accounts.authenticate_access_token(token)))["id"]
    status, _ = await deposit(client, token, bob["user"]["id"], {"amount": 5_000_000})
    assert status == 201
    root = await connect({"access_token": token})
    assert await root.ok("account.delete", password=PASSWORD) == {"deleted": True}
    assert await rows_naming(services.db, root_id, "root@example.com") == []
    made_by = await services.db.fetchval(
        "SELECT created_by FROM transactions WHERE user_id = ? AND amount = 5000000",
        (bob["user"]["id"],))
    tombstone = await services.db.fetchval("SELECT email FROM users WHERE id = ?", (made_by,))
    assert tombstone.endswith(f"@{TOMBSTONE_DOMAIN}")
    assert await services.ledger.check() == []


async def test_an_erased_accounts_usage_rollups_move_to_its_tombstone(client, alice, bob, connect):
    """The console's closed days (per day, and per month and week) keep the erased user's
    figures under the tombstone, as the ledger does: the same period reports the same."""
    admin = await make_admin(client)
    db = client.app[CONTEXT].services.db
    sock, bobs = await connect(alice), await connect(bob)
    chat, bobs_chat = (await sock.ok("chat.create"))["id"], (await bobs.ok("chat.create"))["id"]
    for n, day in enumerate((months_back(2), months_back(2) + timedelta(days=9),
                             months_back(1) + timedelta(days=3), months_back(1) + timedelta(days=20),
                             date.today() - timedelta(days=1))):
        await place(db, (await reply(sock, chat, f"reply {n}"))["message_id"], day)
        await place(db, (await reply(bobs, bobs_chat))["message_id"], day)
    period = {"from": months_back(2).isoformat(),
              "to": (date.today() - timedelta(days=1)).isoformat()}
    before = await report(client, admin, group_by="user", **period)
    user_id, email = alice["user"]["id"], alice["user"]["email"]
    assert await db.fetchval("SELECT COUNT(*) FROM usage_user_spans WHERE user_id = ?",
                             (user_id,)) >= 2  # a month and a week, at least
    assert await sock.ok("account.delete", password=PASSWORD) == {"deleted": True}

    assert await rows_naming(db, user_id, email) == []
    tombstone = await db.fetchval("SELECT id FROM users WHERE email LIKE ?",
                                  (f"%@{TOMBSTONE_DOMAIN}",))
    after = await report(client, admin, group_by="user", **period)
    assert after["totals"] == before["totals"]
    mine = [r for r in before["rows"] if r["user_id"] == user_id]
    theirs = [r for r in after["rows"] if r["user_id"] == tombstone]
    assert [{**r, "user_id": tombstone, "email": theirs[0]["email"]} for r in mine] == theirs
    assert [r for r in after["rows"] if r["user_id"] != tombstone] == [
        r for r in before["rows"] if r["user_id"] != user_id]
    assert await db.fetchval("SELECT COUNT(*) FROM usage_user_spans WHERE user_id = ?",
                             (tombstone,)) >= 2
