"""Usage analytics speed (issue 23): how long each view of `GET /api/v1/admin/usage` takes over a
seeded history, p50 (and p95) of 20 calls, on SQLite or PostgreSQL.

Seeds N users and M replies spread over the last 90 days straight into the tables with SQL (a
generator, in batches: a user turn, an assistant reply with tokens, status, first-token time,
and its ledger charge), through the real migrations; then times the first report (which writes
the closed days' rollup, once) and `UsageReport.report` — what the route calls — for each
group_by over the last 7, 30 and 90 days. `--no-indexes` drops the two
indexes of migration 0015 first, to see what they buy. Prints one JSON line.

    .venv/bin/python bench/analytics.py --users 1000 --replies 100000          # SQLite
    .venv/bin/python bench/analytics.py --database-url postgresql://postgres@127.0.0.1/test
    (issue 23's scale: --users 10000 --replies 1000000; a long seed, ~1.5 GB of database,
    ~5 min on SQLite, ~15 min on PostgreSQL here)

`--sqlite-file PATH` keeps the SQLite database (and times one already there without seeding it);
`--keep` keeps the PostgreSQL schema and `--pg-schema NAME` times it again. A database timed again
is migrated first and its rollups emptied, so the first report writes them as after a seed.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import random
import sqlite3
import statistics
import sys
import tempfile
import time
import uuid
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Iterator

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.relay import pg_schema  # noqa: E402
from server.domain.usage import GROUPS, UsageReport  # noqa: E402
from storage import open_database  # noqa: E402
from storage.migrate import apply_migrations  # noqa: E402

MODELS = [("echo", "echo"), ("gpt-4o-mini", "openai"), ("gpt-4o", "openai"),
          ("claude-3-5-haiku", "anthropic"), ("claude-sonnet-4", "anthropic"),
          ("gemini-2.5-flash", "gemini")]
STATUSES = ["complete"] * 92 + ["stopped"] * 3 + ["error"] * 4 + ["interrupted"]
DAYS = 90
BATCH = 5000


def ts(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def seed_rows(users: int, replies: int, seed: int = 23) -> Iterator[tuple[str, list[tuple]]]:
    """(table, rows) batches: users with one chat each, then the replies, oldest first."""
    rng = random.Random(seed)
    now = datetime.now(timezone.utc)
    start = now - timedelta(days=DAYS)
    created = ts(start - timedelta(days=1))
    user_ids = [uuid.uuid4().hex for _ in range(users)]
    for i in range(0, users, BATCH):
        chunk = user_ids[i:i + BATCH]
        yield "users", [(u, f"u{i + k}@bench.test", f"u{i + k}@bench.test", "x", created, created)
                        for k, u in enumerate(chunk)]
        yield "chats", [(u, u, created, created) for u in chunk]
    # A few heavy users, many light ones (as real traffic): a Pareto pick of the user.
    cum, total = [], 0.0
    for k in range(users):
        total += 1 / (k + 1) ** 0.8
        cum.append(total)
    step = DAYS * 86400 / replies
    messages: list[tuple] = []
    charges: list[tuple] = []
    for n in range(replies):
        user = rng.choices(user_ids, cum_weights=cum)[0] if n % 64 else user_ids[n % users]
        model, provider = MODELS[rng.randrange(len(MODELS))]
        status = STATUSES[rng.randrange(len(STATUSES))]
        at = ts(start + timedelta(seconds=n * step + rng.random() * step))
        prompt, completion = rng.randint(20, 4000), rng.randint(1, 800)
        cost = 0 if status in ("error", "interrupted") else prompt * 3 + completion * 12
        ttft = None if status == "error" else int(rng.lognormvariate(6, 0.6))
        turn, reply = uuid.uuid4().hex, uuid.uuid4().hex
        messages.append((turn, user, user, None, "user", "q", None, "complete", 0, 0, 0, None,
                         at, at))
        messages.append((reply, user, user, turn, "assistant", "a", model, status, prompt,
                         completion, cost, ttft, at, at))
        if cost:
            charges.append((uuid.uuid4().hex, user, "usage", -cost, 1_000_000, reply, at))
        if len(messages) >= BATCH:
            yield "messages", messages
            yield "transactions", charges
            messages, charges = [], []
    yield "messages", messages
    yield "transactions", charges


INSERT = {
    "users": "INSERT INTO users (id, email, email_key, password_hash, created_at, updated_at) "
             "VALUES (?, ?, ?, ?, ?, ?)",
    "chats": "INSERT INTO chats (id, user_id, created_at, updated_at) VALUES (?, ?, ?, ?)",
    "messages": "INSERT INTO messages (id, chat_id, user_id, parent_id, role, content, model, "
                "status, prompt_tokens, completion_tokens, cost, first_token_ms, created_at, "
                "updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    "transactions": "INSERT INTO transactions (id, user_id, kind, amount, balance_after, "
                    "message_id, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
}
ROLLUPS = ("usage_days_done", "usage_model_days", "usage_spend_days", "usage_user_days",
           "usage_wait_days", "usage_spans_done", "usage_user_spans")
MODEL_ROW = ("INSERT INTO models (id, provider, upstream, input_price, output_price, "
             "context_window, max_output_tokens, created_at, updated_at) "
             "VALUES (?, ?, ?, 1, 1, 100000, 4096, ?, ?) ON CONFLICT (id) DO NOTHING")


def seed(url: str, users: int, replies: int, indexes: bool) -> float:
    """Fill the database; the seconds it took."""
    began = time.perf_counter()
    if url.startswith("sqlite:///"):
        conn: Any = sqlite3.connect(url[len("sqlite:///"):])
        mark = lambda sql: sql  # noqa: E731
        insert = lambda cur, sql, rows: cur.executemany(sql, rows)  # noqa: E731
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=OFF")
    else:
        import psycopg2
        base, _, schema = url.partition("?schema=")
        conn = psycopg2.connect(base)
        conn.cursor().execute(f"SET search_path TO {schema}")
        from psycopg2.extras import execute_values
        # One statement of many rows, not a round trip per row (psycopg2's executemany).
        mark = lambda sql: sql.replace("?", "%s")  # noqa: E731
        insert = lambda cur, sql, rows: execute_values(  # noqa: E731
            cur, sql[:sql.index("VALUES")] + "VALUES %s", rows, page_size=1000)
    cur = conn.cursor()
    if not indexes:
        cur.execute("DROP INDEX messages_usage_time")
        cur.execute("DROP INDEX transactions_spend_time")
    now = ts(datetime.now(timezone.utc))
    for model, provider in MODELS:
        cur.execute(mark(MODEL_ROW), (model, provider, model, now, now))
    for table, rows in seed_rows(users, replies):
        if rows:
            insert(cur, mark(INSERT[table]), rows)
    conn.commit()
    cur.execute("ANALYZE")
    conn.commit()
    conn.close()
    return time.perf_counter() - began


async def time_views(url: str, calls: int) -> dict[str, Any]:
    db = await open_database(url, pool_size=2)
    report = UsageReport(db)
    today = date.today()
    figures: dict[str, Any] = {}
    try:
        # A database timed again starts from no rollup, as a fresh seed does (and on PostgreSQL
        # without the dead rows a DELETE would leave for the reads to step over).
        for table in ROLLUPS:
            await db.execute(f"{'DELETE FROM' if db.dialect == 'sqlite' else 'TRUNCATE'} {table}")
        # The first report over the period writes the rollup of its closed days: once, timed.
        began = time.perf_counter()
        await report.report(since=(today - timedelta(days=DAYS)).isoformat(),
                            until=today.isoformat(), group_by="day")
        figures["first_call_writing_the_rollup_ms"] = round((time.perf_counter() - began) * 1000)
        for days in (7, 30, 90):
            since = (today - timedelta(days=days - 1)).isoformat()
            for group in GROUPS:
                took = []
                for _ in range(calls):
                    began = time.perf_counter()
                    answer = await report.report(since=since, until=today.isoformat(),
                                                 group_by=group)
                    took.append((time.perf_counter() - began) * 1000)
                took.sort()
                figures[f"{group}_{days}d"] = {
                    "p50_ms": round(statistics.median(took), 1),
                    "p95_ms": round(took[min(len(took) - 1, int(len(took) * 0.95))], 1),
                    "rows": len(answer["rows"])}
    finally:
        await db.close()
    return figures


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=1000)
    parser.add_argument("--replies", type=int, default=100_000)
    parser.add_argument("--calls", type=int, default=20)
    parser.add_argument("--database-url", default="", help="PostgreSQL (a schema of its own); "
                        "default: a fresh SQLite file")
    parser.add_argument("--no-indexes", action="store_true",
                        help="without migration 0015's two indexes")
    parser.add_argument("--sqlite-file", default="", help="keep the SQLite database at this "
                        "path; if it is there already, time it as it is (migrated, no new seed)")
    parser.add_argument("--pg-schema", default="", help="PostgreSQL: time this schema, seeded "
                        "by an earlier --keep run, as it is (migrated, no new seed)")
    parser.add_argument("--keep", action="store_true", help="PostgreSQL: keep the seeded schema "
                        "(its name goes to stderr)")
    args = parser.parse_args()
    drop, seeded, fresh = None, 0.0, True
    with tempfile.TemporaryDirectory() as tmp:
        if args.database_url and args.pg_schema:
            url = f"{args.database_url}?schema={args.pg_schema}"
        elif args.database_url:
            made = pg_schema(args.database_url)
            if made is None:
                return
            url, drop = made
            if args.keep:
                print(f"kept: --pg-schema {url.rpartition('=')[2]}", file=sys.stderr)
                drop = None
        else:
            path = Path(args.sqlite_file or Path(tmp) / "analytics.db")
            fresh = not path.exists()
            url = f"sqlite:///{path}"
        try:
            apply_migrations(url)
            if (args.database_url and not args.pg_schema) or (not args.database_url and fresh):
                seeded = seed(url, args.users, args.replies, not args.no_indexes)
            views = await time_views(url, args.calls)
        finally:
            if drop:
                drop()
    reused = bool(args.pg_schema) or (not args.database_url and not fresh)
    print(json.dumps({"engine": "postgresql" if args.database_url else "sqlite",
                      "users": None if reused else args.users,
                      "replies": None if reused else args.replies, "reused": reused,
                      "indexes": not args.no_indexes, "seed_s": round(seeded, 1),
                      "views": views}))


if __name__ == "__main__":
    asyncio.run(main())
