"""The operator's usage figures for a period, from the ledger and the message rows.

Money comes from `transactions` only (kinds `usage` and `refund`, as every spend figure in the
product), so each sum matches what `transactions.list` shows to the micro-credit; tokens,
statuses and time to first token come from the assistant rows of `messages`.

A period is read in two parts (migration 0015): the closed days — before today, nothing of theirs
still streaming, so their rows are final — from the `usage_*_days` rollups, written once per day
by `close_day` from those same rows; and the rest, `[live_from, until)`, from the rows themselves
(covering partial indexes). Every read takes `closed = (first_day, live_day)`, days as
'YYYY-MM-DD' (empty when equal), and `live = (start, end)` timestamps, and adds both in SQL.
The per-user reads take the closed days as `Parts` instead (migration 0017): whole months and
weeks from `usage_user_spans` (written once per span by `close_span`, from `usage_user_days`),
the days left over from `usage_user_days`.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from .base import Executor, Row, iso

SPEND = "t.kind IN ('usage', 'refund') AND t.created_at >= ? AND t.created_at < ?"
REPLIES = "m.role = 'assistant' AND m.created_at >= ? AND m.created_at < ?"
CLOSED = "day >= ? AND day < ?"
PROVIDER = "COALESCE(c.provider, '')"
MODEL = "COALESCE(m.model, '')"
# First-token waits are kept per millisecond below 100 ms, per 10 ms below 1 s, per 100 ms below
# 10 s and per second above: percentiles to a tenth of the wait or better, and a rollup of at most
# ~330 rows per provider and day however many replies it had.
_MS = "m.first_token_ms"
WAIT = (f"CASE WHEN {_MS} < 100 THEN {_MS} WHEN {_MS} < 1000 THEN {_MS} - {_MS} % 10 "
        f"WHEN {_MS} < 10000 THEN {_MS} - {_MS} % 100 ELSE {_MS} - {_MS} % 1000 END")

Span = tuple[str, str]


@dataclass(frozen=True)
class Parts:
    """A run of closed days as the per-user rollups hold it: keys of `usage_user_spans`
    ('YYYY-MM', 'YYYY-Www') and the days of `usage_user_days` not in them."""
    spans: tuple[str, ...] = ()
    days: tuple[str, ...] = ()


def _among(column: str, values: tuple[str, ...]) -> tuple[str, tuple[str, ...]]:
    if not values:
        return "1 = 0", ()
    return f"{column} IN ({', '.join('?' for _ in values)})", values


def _per_user(parts: Parts, columns: str, where: str = "1 = 1") -> tuple[str, tuple]:
    """The closed days' per-user rows (`user_id, <columns>`, one per user and part) meeting
    `where`, as one UNION ALL, and its parameters."""
    spans, by_span = _among("span", parts.spans)
    days, by_day = _among("day", parts.days)
    return (f"""SELECT user_id, {columns} FROM usage_user_spans WHERE {spans} AND {where}
                UNION ALL
                SELECT user_id, {columns} FROM usage_user_days WHERE {days} AND {where}""",
            (*by_span, *by_day))


def _day(db: Executor, column: str) -> str:
    """The UTC date of a timestamp column as YYYY-MM-DD, on either engine."""
    if db.dialect == "sqlite":
        return f"substr({column}, 1, 10)"
    return f"to_char({column} AT TIME ZONE 'UTC', 'YYYY-MM-DD')"


async def spend_by_model(db: Executor, closed: Span, live: Span) -> list[Row]:
    """Charged less refunded per model of the reply charged; '' for charges that are no
    message's (a chat's title, an API call).

    The live charges find their reply among the replies begun from a day before (one hash
    join on PostgreSQL, where a full day's charges looked up one by one took ~60 ms and this
    ~30); a charge whose reply is older looks it up by id."""
    since = iso(datetime.fromisoformat(live[0]) - timedelta(days=1))
    return await db.fetchall(
        f"""SELECT model, SUM(cost) AS cost FROM (
                SELECT model, cost FROM usage_spend_days WHERE {CLOSED}
                UNION ALL
                SELECT COALESCE(m.model, (SELECT o.model FROM messages o
                                          WHERE o.id = t.message_id), '') AS model,
                       -SUM(t.amount) AS cost
                FROM transactions t LEFT JOIN (
                    SELECT id, model FROM messages
                    WHERE role = 'assistant' AND created_at >= ? AND created_at < ?) m
                    ON m.id = t.message_id
                WHERE {SPEND} GROUP BY 1) s GROUP BY model""",
        (*closed, since, live[1], *live))


async def total_spend(db: Executor, closed: Span, live: Span) -> int:
    """Charged less refunded in the period: `spend_by_model`'s rows added up."""
    return int(await db.fetchval(
        f"""SELECT SUM(cost) AS cost FROM (
                SELECT SUM(cost) AS cost FROM usage_spend_days WHERE {CLOSED}
                UNION ALL
                SELECT -SUM(t.amount) FROM transactions t WHERE {SPEND}) s""",
        (*closed, *live)) or 0)


async def replies_by_model(db: Executor, closed: Span, live: Span) -> list[Row]:
    return await db.fetchall(
        f"""SELECT model, SUM(replies) AS replies, SUM(p) AS prompt_tokens,
                   SUM(c) AS completion_tokens FROM (
                SELECT model, replies, prompt_tokens AS p, completion_tokens AS c
                FROM usage_model_days WHERE {CLOSED}
                UNION ALL
                SELECT {MODEL}, COUNT(*), SUM(m.prompt_tokens), SUM(m.completion_tokens)
                FROM messages m WHERE {REPLIES} GROUP BY {MODEL}) s GROUP BY model""",
        (*closed, *live))


async def spend_by_day(db: Executor, closed: Span, live: Span) -> list[Row]:
    day = _day(db, "t.created_at")
    return await db.fetchall(
        f"""SELECT day, SUM(cost) AS cost FROM usage_spend_days WHERE {CLOSED} GROUP BY day
            UNION ALL
            SELECT {day}, -SUM(t.amount) FROM transactions t WHERE {SPEND} GROUP BY {day}""",
        (*closed, *live))


async def replies_by_day(db: Executor, closed: Span, live: Span) -> list[Row]:
    """Replies, tokens and active users (users with a reply that day) per UTC day."""
    day = _day(db, "m.created_at")
    return await db.fetchall(
        f"""SELECT d.day, SUM(d.replies) AS replies, SUM(d.prompt_tokens) AS prompt_tokens,
                   SUM(d.completion_tokens) AS completion_tokens,
                   (SELECT active_users FROM usage_days_done u WHERE u.day = d.day)
                       AS active_users
            FROM usage_model_days d WHERE d.day >= ? AND d.day < ? GROUP BY d.day
            UNION ALL
            SELECT {day}, COUNT(*), SUM(m.prompt_tokens), SUM(m.completion_tokens),
                   COUNT(DISTINCT m.user_id)
            FROM messages m WHERE {REPLIES} GROUP BY {day}""", (*closed, *live))


async def active_users(db: Executor, parts: Parts, live: Span) -> int:
    """Users with a reply in the period (each once, however many parts they are in)."""
    closed, params = _per_user(parts, "1 AS one", "replies > 0")
    return int(await db.fetchval(
        f"""SELECT COUNT(*) AS n FROM (
                SELECT user_id FROM ({closed}) c
                UNION
                SELECT m.user_id FROM messages m WHERE {REPLIES}) s""",
        (*params, *live)) or 0)


async def top_spenders(db: Executor, parts: Parts, live: Span, limit: int) -> list[Row]:
    """The users who spent most in the period (ties: by id), with their email, charges and
    replies, and on every row the period's `active_users` (users with a reply) and `spent` (by
    everyone): one pass over the per-user rows. Users with no charge sort last (the caller drops
    them)."""
    closed, params = _per_user(parts, "replies, charges, cost")
    charged = "CASE WHEN g.charges > 0 THEN 0 ELSE 1 END"
    return await db.fetchall(
        f"""SELECT g.user_id, COALESCE(u.email, '') AS email, g.replies, g.charges, g.cost,
                   g.active_users, g.spent FROM (
                SELECT user_id, SUM(replies) AS replies, SUM(charges) AS charges,
                       SUM(cost) AS cost,
                       SUM(CASE WHEN SUM(replies) > 0 THEN 1 ELSE 0 END) OVER () AS active_users,
                       SUM(SUM(cost)) OVER () AS spent
                FROM (
                    {closed}
                    UNION ALL
                    SELECT t.user_id, 0, COUNT(*), -SUM(t.amount) FROM transactions t
                    WHERE {SPEND} GROUP BY t.user_id
                    UNION ALL
                    SELECT m.user_id, COUNT(*), 0, 0 FROM messages m
                    WHERE {REPLIES} GROUP BY m.user_id) s
                GROUP BY user_id
                ORDER BY CASE WHEN SUM(charges) > 0 THEN 0 ELSE 1 END, SUM(cost) DESC, user_id
                LIMIT ?) g
            LEFT JOIN users u ON u.id = g.user_id
            ORDER BY {charged}, g.cost DESC, g.user_id""", (*params, *live, *live, limit))


async def statuses_by_provider(db: Executor, closed: Span, live: Span) -> list[Row]:
    """Replies per provider (the model's, in the catalogue; '' if it is no longer there) and
    status."""
    return await db.fetchall(
        f"""SELECT provider, status, SUM(replies) AS replies FROM (
                SELECT provider, status, replies FROM usage_model_days WHERE {CLOSED}
                UNION ALL
                SELECT {PROVIDER}, m.status, COUNT(*)
                FROM messages m LEFT JOIN models c ON c.id = m.model
                WHERE {REPLIES} GROUP BY {PROVIDER}, m.status) s GROUP BY provider, status""",
        (*closed, *live))


async def first_token_histogram(db: Executor, closed: Span, live: Span) -> list[Row]:
    """How many replies of each provider waited how long (`WAIT`'s steps) for their first
    token: percentiles without sending every row."""
    return await db.fetchall(
        f"""SELECT provider, ms, SUM(n) AS n FROM (
                SELECT provider, ms, n FROM usage_wait_days WHERE {CLOSED}
                UNION ALL
                SELECT {PROVIDER}, {WAIT}, COUNT(*)
                FROM messages m LEFT JOIN models c ON c.id = m.model
                WHERE {REPLIES} AND m.first_token_ms IS NOT NULL
                GROUP BY {PROVIDER}, {WAIT}) s GROUP BY provider, ms""", (*closed, *live))


# -- the rollups ------------------------------------------------------------------------------

async def closed_days(db: Executor, first: str, last: str) -> list[str]:
    rows = await db.fetchall("SELECT day FROM usage_days_done WHERE day >= ? AND day <= ?",
                             (first, last))
    return [r["day"] for r in rows]


async def streaming_in(db: Executor, start: str, end: str) -> bool:
    """Whether a reply begun in [start, end) is still streaming (its day cannot close yet)."""
    return await db.fetchone(
        """SELECT 1 AS x FROM messages WHERE status = 'streaming' AND role = 'assistant'
           AND created_at >= ? AND created_at < ? LIMIT 1""", (start, end)) is not None


async def close_day(db: Executor, day: str, start: str, end: str) -> bool:
    """Write a closed day's rollup rows (in the caller's transaction); False, and nothing
    written, if it was already written (by another report at the same time, say)."""
    if not await db.execute("INSERT INTO usage_days_done (day) VALUES (?) ON CONFLICT (day) DO NOTHING",
                            (day,)):
        return False
    span = (start, end)
    await db.execute(
        f"""INSERT INTO usage_model_days (day, model, provider, status, replies, prompt_tokens,
                                          completion_tokens)
            SELECT ?, {MODEL}, {PROVIDER}, m.status, COUNT(*), COALESCE(SUM(m.prompt_tokens), 0),
                   COALESCE(SUM(m.completion_tokens), 0)
            FROM messages m LEFT JOIN models c ON c.id = m.model
            WHERE {REPLIES} GROUP BY {MODEL}, {PROVIDER}, m.status""", (day, *span))
    await db.execute(
        f"""INSERT INTO usage_spend_days (day, model, cost)
            SELECT ?, {MODEL}, -SUM(t.amount) FROM transactions t
            LEFT JOIN messages m ON m.id = t.message_id WHERE {SPEND} GROUP BY {MODEL}""",
        (day, *span))
    await db.execute(
        f"""INSERT INTO usage_user_days (day, user_id, charges, cost)
            SELECT ?, t.user_id, COUNT(*), -SUM(t.amount) FROM transactions t
            WHERE {SPEND} GROUP BY t.user_id""", (day, *span))
    await db.execute(
        f"""INSERT INTO usage_user_days (day, user_id, replies)
            SELECT ?, m.user_id, COUNT(*) FROM messages m WHERE {REPLIES} GROUP BY m.user_id
            ON CONFLICT (day, user_id) DO UPDATE SET replies = excluded.replies""", (day, *span))
    await db.execute(
        """UPDATE usage_days_done SET active_users = (
               SELECT COUNT(*) FROM usage_user_days WHERE day = ? AND replies > 0)
           WHERE day = ?""", (day, day))
    await db.execute(
        f"""INSERT INTO usage_wait_days (day, provider, ms, n)
            SELECT ?, {PROVIDER}, {WAIT}, COUNT(*) FROM messages m
            LEFT JOIN models c ON c.id = m.model
            WHERE {REPLIES} AND m.first_token_ms IS NOT NULL GROUP BY {PROVIDER}, {WAIT}""",
        (day, *span))
    return True


async def closed_spans(db: Executor, keys: list[str]) -> set[str]:
    if not keys:
        return set()
    where, params = _among("span", tuple(keys))
    return {r["span"] for r in await db.fetchall(
        f"SELECT span FROM usage_spans_done WHERE {where}", params)}


async def close_span(db: Executor, key: str, first: str, end: str) -> bool:
    """Write a month's or a week's per-user rows (days [first, end), every one closed) from
    those days' rows, in the caller's transaction; False, and nothing written, if it was
    already written."""
    if not await db.execute(
            "INSERT INTO usage_spans_done (span) VALUES (?) ON CONFLICT (span) DO NOTHING", (key,)):
        return False
    await db.execute(
        """INSERT INTO usage_user_spans (span, user_id, replies, charges, cost)
           SELECT ?, user_id, SUM(replies), SUM(charges), SUM(cost) FROM usage_user_days
           WHERE day >= ? AND day < ? GROUP BY user_id""", (key, first, end))
    return True
