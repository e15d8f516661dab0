"""The console's usage analytics over REST (`GET /api/v1/admin/usage`), on replies made through
the real WebSocket (the echo model and the fake vendor): every table's cost sums to what the
users' own `transactions.list` shows, to the micro-credit; tokens, statuses and time to first
token per provider; the CSV; bad periods refused; a non-admin refused. Both engines."""
import csv
import io
from datetime import date, datetime, timedelta

from server.domain.usage import percentile
from server.web.state import CONTEXT
from storage.base import iso
from tests.helpers import make_admin, register, reply_events

USAGE = "/api/v1/admin/usage"


def bearer(token):
    return {"Authorization": f"Bearer {token}"}


async def report(client, token, **query):
    resp = await client.get(USAGE, params=query, headers=bearer(token))
    body = await resp.json()
    assert resp.status == 200, body
    return body


async def reply(sock, chat_id, content="hello"):
    sent = await sock.ok("message.send", chat_id=chat_id, content=content)
    return (await reply_events(sock, sent["assistant_message"]["id"]))[-1]


async def spent(sock):
    """What the user's own ledger says they were charged (less refunds)."""
    rows = (await sock.ok("transactions.list", limit=100))["transactions"]
    return -sum(t["amount"] for t in rows if t["kind"] in ("usage", "refund"))


async def test_every_table_sums_to_the_ledger(vendored, vendor, connect):
    alice = await register(vendored, "alice@example.com", display_name="Alice")
    bob = await register(vendored, "bob@example.com", display_name="Bob")
    admin = await make_admin(vendored)
    a, b = await connect(alice, on=vendored), await connect(bob, on=vendored)
    vendor.script.tokens = ["Да", ", ", "это", " так", "."]
    echo = await a.ok("chat.create", model="echo")
    gpt = await a.ok("chat.create", model="gpt-4o-mini")
    claude = await b.ok("chat.create", model="claude-3-5-haiku")
    finals = [await reply(a, echo["id"]), await reply(a, echo["id"], "again"),
              await reply(a, gpt["id"]), await reply(b, claude["id"])]
    vendor.script.status, vendor.script.fail_times = 500, 1
    failed = await reply(b, claude["id"], "and now?")
    assert [f["type"] for f in finals] == ["message.done"] * 4 and failed["type"] == "message.error"
    today = date.today().isoformat()

    by = {g: await report(vendored, admin, group_by=g, **{"from": today, "to": today})
          for g in ("model", "day", "user", "provider")}
    ledger = await spent(a) + await spent(b)
    assert ledger > 0
    assert by["model"]["totals"]["cost"] == ledger
    for group in ("model", "day", "user"):
        assert sum(r["cost"] for r in by[group]["rows"]) == ledger, group
        assert by[group]["totals"]["cost"] == ledger, group
    users = {r["email"]: r for r in by["user"]["rows"]}
    assert users["alice@example.com"]["cost"] == await spent(a)
    assert users["bob@example.com"]["cost"] == await spent(b)
    assert users["alice@example.com"]["replies"] == 3 and users["bob@example.com"]["replies"] == 2
    assert [r["email"] for r in by["user"]["rows"]] == sorted(users, key=lambda e: -users[e]["cost"])

    models = {r["model"]: r for r in by["model"]["rows"]}
    assert models["echo"]["replies"] == 2 and models["claude-3-5-haiku"]["replies"] == 2
    assert models["gpt-4o-mini"]["cost"] == finals[2]["cost"]
    assert models["echo"]["prompt_tokens"] == sum(f["usage"]["prompt_tokens"] for f in finals[:2])
    assert models["echo"]["completion_tokens"] == sum(
        f["usage"]["completion_tokens"] for f in finals[:2])
    # A charge that is no message's (the chat titles) is its own row, not lost.
    assert sum(r["cost"] for r in by["model"]["rows"]) == ledger

    [day] = by["day"]["rows"]
    assert day["day"] == today and day["replies"] == 5 and day["active_users"] == 2
    assert by["day"]["totals"]["active_users"] == 2

    providers = {r["provider"]: r for r in by["provider"]["rows"]}
    assert providers["anthropic"]["replies"] == 2 and providers["anthropic"]["error"] == 1
    assert providers["anthropic"]["error_rate"] == 0.5 and providers["echo"]["error_rate"] == 0
    assert providers["openai"]["complete"] == 1
    for name in ("echo", "openai", "anthropic"):
        assert providers[name]["ttft_p50_ms"] is not None, name
        assert 0 <= providers[name]["ttft_p50_ms"] <= providers[name]["ttft_p95_ms"] < 5000
    # The runner stored each wait; the failed reply never had a first token.
    db = vendored.app[CONTEXT].services.db
    assert await db.fetchall("SELECT first_token_ms FROM messages WHERE role = 'assistant' "
                             "AND status = 'error'") == [{"first_token_ms": None}]
    assert await db.fetchval("SELECT COUNT(*) AS n FROM messages WHERE role = 'assistant' "
                             "AND first_token_ms >= 0") == 4

    # Three days later those days are closed: read from the rollup (written on the first report
    # covering them) and still the ledger's figures, with today's new reply read live beside.
    await backdate(db, days=3)
    again = await reply(a, echo["id"], "three days on")
    span = {"from": (date.today() - timedelta(days=5)).isoformat(), "to": today}
    for _ in range(2):  # the first call writes the rollup, the second only reads it
        later = {g: await report(vendored, admin, group_by=g, **span) for g in by}
        ledger = await spent(a) + await spent(b)
        for group in ("model", "day", "user"):
            assert sum(r["cost"] for r in later[group]["rows"]) == ledger, group
            assert later[group]["totals"]["cost"] == ledger, group
        days = {r["day"]: r for r in later["day"]["rows"]}
        assert days[(date.today() - timedelta(days=3)).isoformat()]["replies"] == 5
        assert days[today]["replies"] == 1 and days[today]["cost"] == again["cost"]
        assert later["day"]["totals"]["active_users"] == 2
        assert {r["model"]: r["replies"] for r in later["model"]["rows"]}["echo"] == 3
        assert {r["provider"]: r for r in later["provider"]["rows"]}["anthropic"]["error"] == 1
        assert {r["email"]: r["replies"] for r in later["user"]["rows"]}["alice@example.com"] == 4
    closed = [r["day"] for r in await db.fetchall("SELECT day FROM usage_days_done ORDER BY day")]
    assert closed == [(date.today() - timedelta(days=n)).isoformat() for n in (5, 4, 3, 2, 1)]

    # Another period holds none of it; the day table still lists each day of it, empty.
    week_ago = (date.today() - timedelta(days=9)).isoformat()
    before = await report(vendored, admin, group_by="day", **{"from": week_ago, "to": week_ago})
    assert before["totals"]["cost"] == 0 and before["rows"][0]["replies"] == 0


async def backdate(db, days):
    """Every message and ledger row as if written `days` earlier."""
    for table in ("messages", "transactions"):
        for row in await db.fetchall(f"SELECT id, created_at FROM {table}"):
            when = row["created_at"]
            if isinstance(when, str):
                when = datetime.fromisoformat(when.replace("Z", "+00:00"))
            await db.execute(f"UPDATE {table} SET created_at = ? WHERE id = ?",
                             (iso(when - timedelta(days=days)), row["id"]))


async def test_a_day_with_a_reply_still_streaming_is_not_closed(client, alice, connect):
    admin = await make_admin(client)
    sock = await connect(alice)
    chat = await sock.ok("chat.create", model="echo")
    await reply(sock, chat["id"])
    db = client.app[CONTEXT].services.db
    await backdate(db, days=2)
    await db.execute("UPDATE messages SET status = 'streaming' WHERE role = 'assistant'")
    yesterday = (date.today() - timedelta(days=1)).isoformat()
    span = {"from": (date.today() - timedelta(days=3)).isoformat(), "to": yesterday}
    first = await report(client, admin, group_by="provider", **span)
    assert first["rows"][0]["streaming"] == 1
    assert [r["day"] for r in await db.fetchall("SELECT day FROM usage_days_done")] == [
        (date.today() - timedelta(days=3)).isoformat()]  # the day before it only
    await db.execute("UPDATE messages SET status = 'complete' WHERE role = 'assistant'")
    second = await report(client, admin, group_by="provider", **span)
    assert second["rows"][0]["complete"] == 1 and second["rows"][0]["streaming"] == 0
    assert len(await db.fetchall("SELECT day FROM usage_days_done")) == 3
    assert second["totals"]["cost"] == await spent(sock)


async def test_the_csv_is_the_table(client, alice, connect):
    admin = await make_admin(client)
    sock = await connect(alice)
    chat = await sock.ok("chat.create", model="echo")
    await reply(sock, chat["id"])
    json_report = await report(client, admin, group_by="user")
    resp = await client.get(USAGE, params={"group_by": "user", "format": "csv"},
                            headers=bearer(admin))
    assert resp.status == 200 and resp.content_type == "text/csv"
    assert "attachment" in resp.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(await resp.text())))
    assert rows[0] == ["user_id", "email", "replies", "charges", "cost"]
    assert rows[1] == [str(json_report["rows"][0][c]) for c in rows[0]]
    assert rows[1][1] == "alice@example.com", (rows, json_report)
    assert int(rows[1][4]) == await spent(sock)


async def test_bad_periods_and_parameters_are_refused(client, alice):
    admin = await make_admin(client)
    today = date.today()
    bad = [{"from": today.isoformat(), "to": (today - timedelta(days=1)).isoformat()},
           {"from": (today - timedelta(days=400)).isoformat(), "to": today.isoformat()},
           {"from": "2026-02-30"}, {"from": "yesterday"}, {"to": "2026-1-1"},
           {"group_by": "week"}, {"format": "xml"}, {"colour": "blue"}]
    for query in bad:
        resp = await client.get(USAGE, params=query, headers=bearer(admin))
        body = await resp.json()
        assert resp.status == 400 and body["error"]["code"] == "bad_request", query
    longest = await report(client, admin, group_by="day",
                           **{"from": (today - timedelta(days=399)).isoformat(),
                              "to": today.isoformat()})
    assert len(longest["rows"]) == 400


async def test_a_non_admin_is_refused(client, alice):
    for fmt in ("json", "csv"):
        resp = await client.get(USAGE, params={"format": fmt}, headers=bearer(alice["access_token"]))
        assert resp.status == 403 and (await resp.json())["error"]["code"] == "forbidden"
    resp = await client.get(USAGE, headers=bearer("not-a-token"))
    assert resp.status == 401 and (await resp.json())["error"]["code"] == "unauthorized"


def test_percentiles_are_nearest_rank():
    assert percentile([], 0.5) is None
    assert percentile([(10, 1)], 0.95) == 10
    histogram = [(v, 1) for v in range(1, 101)]
    assert percentile(histogram, 0.5) == 50 and percentile(histogram, 0.95) == 95
    assert percentile([(5, 9), (900, 1)], 0.95) == 900 and percentile([(5, 9), (900, 1)], 0.5) == 5
