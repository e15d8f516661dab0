"""SQLite's search backlog: finished messages noted by the triggers, indexed many at a time.

Migration 0020 has the `messages` triggers note a finished message's rowid in `search_pending`
instead of writing it into `messages_fts` in the turn's own transaction (a new FTS5 segment per
commit, ~5 pages of it). `catch_up` moves what is noted into the index in one transaction per
`BATCH` rows: the inline writer calls it every few dozen commits, and a search calls it before
it reads the index, so what a search finds is never behind what was written. PostgreSQL's search
columns are kept by the database itself: nothing to do there.
"""
from __future__ import annotations

import asyncio

from .base import Database

BATCH = 500
_NEXT = "SELECT rowid FROM search_pending ORDER BY rowid LIMIT ?"
INDEX = f"""INSERT INTO messages_fts(rowid, content)
            SELECT m.rowid, m.content FROM messages m
            WHERE m.rowid IN ({_NEXT}) AND m.content <> '' AND m.status IS NOT 'streaming'"""
CLEAR = f"DELETE FROM search_pending WHERE rowid IN ({_NEXT})"


async def catch_up(db: Database, *, batches: int | None = None) -> int:
    """Index the noted messages (all of them, or at most `batches` batches); how many were.
    Writes through `db.quick` (the inline writer on a file), a batch (~2 ms) per transaction
    and a turn of the loop between two, so neither writers nor the loop wait long behind a big
    backlog (an import's thousands of messages)."""
    if db.dialect != "sqlite" or not await db.quick.fetchval(
            "SELECT EXISTS (SELECT 1 FROM search_pending) AS noted"):
        return 0  # the usual search: nothing noted since the last batch, no write to begin
    done = 0
    while True:
        async with db.quick.transaction() as tx:
            await tx.execute(INDEX, (BATCH,))
            cleared = await tx.execute(CLEAR, (BATCH,))
        done += cleared
        if cleared < BATCH or (batches is not None and done >= batches * BATCH):
            return done
        await asyncio.sleep(0)


async def backlog(db: Database) -> int:
    """How many finished messages wait to be indexed (0 on PostgreSQL)."""
    if db.dialect != "sqlite":
        return 0
    return await db.fetchval("SELECT COUNT(*) AS n FROM search_pending")
