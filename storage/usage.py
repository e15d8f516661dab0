"""The operator's usage figures for a period, straight from the ledger and the message rows.

Money comes from `transactions` only (kinds `usage` and `refund`, as every spend figure in the
product), so each sum here matches what `transactions.list` shows to the micro-credit; tokens,
statuses and time to first token come from the assistant rows of `messages`. Every query is one
range scan of a covering partial index (migration 0015) over `[since, until)`.
"""
from __future__ import annotations

from .base import Executor, Row

SPEND = "t.kind IN ('usage', 'refund') AND t.created_at >= ? AND t.created_at < ?"
REPLIES = "m.role = 'assistant' AND m.created_at >= ? AND m.created_at < ?"


def _day(db: Executor, column: str) -> str:
    """The UTC date of a timestamp column as YYYY-MM-DD, on either engine."""
    if db.dialect == "sqlite":
        return f"substr({column}, 1, 10)"
    return f"to_char({column} AT TIME ZONE 'UTC', 'YYYY-MM-DD')"


async def spend_by_model(db: Executor, since: str, until: str) -> list[Row]:
    """Charged less refunded per model of the reply charged; '' for charges that are no
    message's (a chat's title, an API call)."""
    return await db.fetchall(
        f"""SELECT COALESCE(m.model, '') AS model, -SUM(t.amount) AS cost
            FROM transactions t LEFT JOIN messages m ON m.id = t.message_id
            WHERE {SPEND} GROUP BY COALESCE(m.model, '')""", (since, until))


async def replies_by_model(db: Executor, since: str, until: str) -> list[Row]:
    return await db.fetchall(
        f"""SELECT COALESCE(m.model, '') AS model, COUNT(*) AS replies,
                   SUM(m.prompt_tokens) AS prompt_tokens,
                   SUM(m.completion_tokens) AS completion_tokens
            FROM messages m WHERE {REPLIES} GROUP BY COALESCE(m.model, '')""", (since, until))


async def spend_by_day(db: Executor, since: str, until: str) -> list[Row]:
    day = _day(db, "t.created_at")
    return await db.fetchall(
        f"""SELECT {day} AS day, -SUM(t.amount) AS cost FROM transactions t
            WHERE {SPEND} GROUP BY {day}""", (since, until))


async def replies_by_day(db: Executor, since: str, until: str) -> list[Row]:
    """Replies, tokens and active users (users with a reply that day) per UTC day."""
    day = _day(db, "m.created_at")
    return await db.fetchall(
        f"""SELECT {day} AS day, COUNT(*) AS replies, SUM(m.prompt_tokens) AS prompt_tokens,
                   SUM(m.completion_tokens) AS completion_tokens,
                   COUNT(DISTINCT m.user_id) AS active_users
            FROM messages m WHERE {REPLIES} GROUP BY {day}""", (since, until))


async def active_users(db: Executor, since: str, until: str) -> int:
    return int(await db.fetchval(
        f"SELECT COUNT(DISTINCT m.user_id) AS n FROM messages m WHERE {REPLIES}",
        (since, until)) or 0)


async def top_spenders(db: Executor, since: str, until: str, limit: int) -> list[Row]:
    """The users who spent most in the period (ties: by id), with their email."""
    return await db.fetchall(
        f"""SELECT s.user_id, COALESCE(u.email, '') AS email, s.cost, s.charges FROM (
                SELECT t.user_id, -SUM(t.amount) AS cost, COUNT(*) AS charges
                FROM transactions t WHERE {SPEND} GROUP BY t.user_id) s
            LEFT JOIN users u ON u.id = s.user_id
            ORDER BY s.cost DESC, s.user_id LIMIT ?""", (since, until, limit))


async def replies_of(db: Executor, since: str, until: str, user_ids: list[str]) -> list[Row]:
    if not user_ids:
        return []
    marks = ", ".join("?" for _ in user_ids)
    return await db.fetchall(
        f"""SELECT m.user_id, COUNT(*) AS replies FROM messages m
            WHERE {REPLIES} AND m.user_id IN ({marks}) GROUP BY m.user_id""",
        (since, until, *user_ids))


async def statuses_by_provider(db: Executor, since: str, until: str) -> list[Row]:
    """Replies per provider (the model's, in the catalogue; '' if it is no longer there) and
    status."""
    return await db.fetchall(
        f"""SELECT COALESCE(c.provider, '') AS provider, m.status, COUNT(*) AS replies
            FROM messages m LEFT JOIN models c ON c.id = m.model
            WHERE {REPLIES} GROUP BY COALESCE(c.provider, ''), m.status""", (since, until))


async def first_token_histogram(db: Executor, since: str, until: str) -> list[Row]:
    """How many replies of each provider waited each whole number of milliseconds for their
    first token: exact percentiles without sending every row (a wait has at most as many
    distinct values as milliseconds in the first-token timeout)."""
    return await db.fetchall(
        f"""SELECT COALESCE(c.provider, '') AS provider, m.first_token_ms AS ms, COUNT(*) AS n
            FROM messages m LEFT JOIN models c ON c.id = m.model
            WHERE {REPLIES} AND m.first_token_ms IS NOT NULL
            GROUP BY COALESCE(c.provider, ''), m.first_token_ms""", (since, until))
