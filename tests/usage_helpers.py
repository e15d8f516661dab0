"""Shared by the usage-analytics tests: the report as the console asks for it, a reply made over
the socket, and a reply moved to a day in the past (its rows and its ledger rows)."""
from datetime import date, datetime, time, timedelta, timezone

from storage.base import iso
from tests.helpers import reply_events

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


def noon(day):
    return iso(datetime.combine(day, time(12), timezone.utc))


async def place(db, reply_id, day):
    """A reply (its assistant row, the user's turn it answers, its ledger rows) as if made at
    noon UTC on `day`."""
    parent = await db.fetchval("SELECT parent_id FROM messages WHERE id = ?", (reply_id,))
    for table, column, key in (("messages", "id", reply_id), ("messages", "id", parent),
                               ("transactions", "message_id", reply_id)):
        await db.execute(f"UPDATE {table} SET created_at = ? WHERE {column} = ?", (noon(day), key))


def months_back(n):
    first = date.today().replace(day=1)
    for _ in range(n):
        first = (first - timedelta(days=1)).replace(day=1)
    return first
