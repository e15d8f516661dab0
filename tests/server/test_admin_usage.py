"""The console's usage analytics over REST (`GET /api/v1/admin/usage`), on replies made through
the real WebSocket (the echo model and the fake vendor): every table's cost sums to what the
users' own `transactions.list` shows, to the micro-credit; tokens, statuses and time to first
token per provider; the CSV; bad periods refused; a non-admin refused. Both engines."""
import csv
import io
from datetime import date, datetime, timedelta, timezone

from server.domain.usage import percentile
from server.domain.usage_spans import split
from server.web.state import CONTEXT
from storage.base import iso
from tests.helpers import make_admin, register
from tests.usage_helpers import USAGE, bearer, months_back, noon, place, reply, report


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
    assert by["provider"]["totals"]["cost"] == ledger
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
        assert later["provider"]["totals"]["cost"] == ledger
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


# -- months and weeks (migration 0017) ---------------------------------------------------------


def span_days(key):
    """The days of a `usage_user_spans` key: 'YYYY-MM' or 'YYYY-Www'."""
    if "W" in key:
        year, week = key.split("-W")
        start = date.fromisocalendar(int(year), int(week), 1)
        return start, start + timedelta(days=7)
    start = date.fromisoformat(key + "-01")
    return start, (start + timedelta(days=32)).replace(day=1)


async def test_months_and_weeks_sum_to_the_ledger(client, alice, bob, connect):
    """Replies spread over four months; periods that start and end mid-month, a whole month, a
    custom stretch of weeks and days, the last 90 days with today: every user's cost, charges
    and replies, each day's active users and the period's are what the replies and the users'
    ledgers say — on the first report (which writes the month and week rollups) and after."""
    carol = await register(client, "carol@example.com")
    admin = await make_admin(client)
    socks = {u["user"]["email"]: await connect(u) for u in (alice, bob, carol)}
    db = client.app[CONTEXT].services.db
    chats = {email: (await sock.ok("chat.create", model="echo"))["id"]
             for email, sock in socks.items()}
    today = date.today()
    placed = []  # (email, day)
    ago = (1, 2, 6, 9, 15, 23, 31, 33, 38, 45, 52, 59, 61, 62, 68, 75, 88, 96, 103, 110, 118, 126)
    for n, days in enumerate(ago):
        email = ("alice@example.com", "bob@example.com", "alice@example.com",
                 "carol@example.com")[n % 4]
        done = await reply(socks[email], chats[email], f"reply {n}")
        await place(db, done["message_id"], today - timedelta(days=days))
        placed.append((email, today - timedelta(days=days)))
    done = await reply(socks["bob@example.com"], chats["bob@example.com"], "today")
    placed.append(("bob@example.com", today))
    ledgers = {email: (await sock.ok("transactions.list", limit=100))["transactions"]
               for email, sock in socks.items()}

    def expected(first, last):
        start, end = noon(first)[:10], noon(last + timedelta(days=1))[:10]
        users = {}
        for email, rows in ledgers.items():
            mine = [t for t in rows if t["kind"] in ("usage", "refund")
                    and start <= t["created_at"][:10] < end]
            replies = sum(1 for e, d in placed if e == email and first <= d <= last)
            if mine or replies:
                users[email] = {"cost": -sum(t["amount"] for t in mine), "charges": len(mine),
                                "replies": replies}
        days = {}
        for email, d in placed:
            if first <= d <= last:
                days.setdefault(d.isoformat(), set()).add(email)
        return users, {d: len(e) for d, e in days.items()}, len(
            {e for e, d in placed if first <= d <= last})

    periods = [(months_back(3) + timedelta(days=13), months_back(1) + timedelta(days=15)),
               (months_back(2), months_back(1) - timedelta(days=1)),
               (months_back(1) + timedelta(days=2), months_back(1) + timedelta(days=20)),
               (today - timedelta(days=89), today)]
    for first, last in periods:
        span = {"from": first.isoformat(), "to": last.isoformat()}
        users, days, active = expected(first, last)
        for _ in range(2):  # the first call writes the rollups, the second only reads them
            by_user = await report(client, admin, group_by="user", **span)
            got = {r["email"]: {k: r[k] for k in ("cost", "charges", "replies")}
                   for r in by_user["rows"]}
            assert got == users, (span, got, users)
            assert by_user["totals"]["cost"] == sum(u["cost"] for u in users.values())
            assert by_user["totals"]["active_users"] == active, span
            by_day = await report(client, admin, group_by="day", **span)
            assert {r["day"]: r["active_users"] for r in by_day["rows"]
                    if r["active_users"]} == days, span
            assert by_day["totals"]["active_users"] == active

    # The rollups were used: whole months and weeks, each summing its days' rows per user.
    spans = [r["span"] for r in await db.fetchall("SELECT span FROM usage_spans_done")]
    assert months_back(2).strftime("%Y-%m") in spans and any("W" in s for s in spans)
    for key in spans:
        start, end = span_days(key)
        assert end <= today
        by_days = await db.fetchall(
            """SELECT user_id, SUM(replies) AS r, SUM(charges) AS n, SUM(cost) AS c
               FROM usage_user_days WHERE day >= ? AND day < ? GROUP BY user_id ORDER BY user_id""",
            (start.isoformat(), end.isoformat()))
        by_span = await db.fetchall(
            """SELECT user_id, replies AS r, charges AS n, cost AS c FROM usage_user_spans
               WHERE span = ? ORDER BY user_id""", (key,))
        assert [dict(r) for r in by_span] == [{k: int(v) if k != "user_id" else v
                                                for k, v in r.items()} for r in by_days], key


def test_closed_days_split_into_months_then_weeks_then_days():
    sept4, dec2 = date(2026, 9, 4), date(2026, 12, 2)  # a Friday; a Wednesday
    spans, days = split(sept4, dec2)
    assert [s.key for s in spans] == ["2026-W37", "2026-W38", "2026-W39", "2026-10", "2026-11"]
    assert days == [date(2026, 9, d) for d in (4, 5, 6, 28, 29, 30)] + [date(2026, 12, 1)]
    assert split(date(2026, 11, 1), date(2026, 12, 1))[1] == []  # exactly a month
    assert [s.key for s in split(date(2026, 12, 28), date(2027, 1, 4))[0]] == ["2026-W53"]
    assert split(dec2, dec2) == ([], [])
    for first in (date(2025, 12, 17) + timedelta(days=n * 11) for n in range(40)):
        for length in (0, 1, 6, 7, 13, 30, 31, 61, 90, 400):
            end = first + timedelta(days=length)
            spans, days = split(first, end)
            covered = sorted(days + [s.start + timedelta(days=i) for s in spans
                                     for i in range((s.end - s.start).days)])
            assert covered == [first + timedelta(days=i) for i in range(length)], (first, end)
            assert all(span_days(s.key) == (s.start, s.end) for s in spans)
            assert len(days) <= 24 and sum("W" in s.key for s in spans) <= 8


async def test_a_charge_today_for_an_older_reply_counts_for_its_model(client, alice, connect):
    """A reply begun days before it was charged (or refunded) is still found for today's
    figures by model."""
    admin = await make_admin(client)
    sock = await connect(alice)
    chat = await sock.ok("chat.create", model="echo")
    done = await reply(sock, chat["id"])
    db = client.app[CONTEXT].services.db
    old = iso(datetime.now(timezone.utc) - timedelta(days=5))
    await db.execute("UPDATE messages SET created_at = ? WHERE id = ?", (old, done["message_id"]))
    today = date.today().isoformat()
    models = {r["model"]: r for r in (await report(client, admin, group_by="model",
                                                   **{"from": today, "to": today}))["rows"]}
    assert done["cost"] > 0 and models["echo"]["cost"] == done["cost"]
    assert models["echo"]["replies"] == 0  # the reply itself is five days old
