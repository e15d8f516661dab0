"""SQLite on the event loop's own thread, for the short statements of the send path.

A trip to an aiosqlite connection's thread costs ~80 µs of CPU (a queue hand-over, a thread
wake-up, a self-pipe write and read back on the loop) around a statement that itself takes 3–20 µs.
A reply made eleven of them (bench/sends.py, issue 26). What `Database.quick` promises — a few
indexed statements — SQLite can run right here, so the engine does:

- reads go to one connection of their own, in autocommit: a statement runs and its rows are
  fetched without an `await` that suspends, so no other task ever sees it half-done and one
  connection serves them all;
- transactions go to one writer connection, one at a time (an `asyncio.Lock`; SQLite has one
  writer anyway). `BEGIN IMMEDIATE` is tried with no busy wait: when another connection (the
  thread pool's, or another process) holds the write lock, the wait for it happens on a worker
  thread, never on the loop;
- the writer never checkpoints the WAL itself (that writes pages back and syncs); every
  `CHECKPOINT_EVERY` commits a passive checkpoint runs on the thread pool instead, holding the
  writer's lock: SQLite starts the WAL over only when a writer begins on a fully checkpointed log,
  and under a steady load a checkpoint that runs beside the commits never catches up (the WAL
  grew past 1 GB in a minute of `bench/sends.py`);
- every `INDEX_EVERY` commits the search backlog (`storage/search_index.py`) is indexed as a
  batch, in transactions of its own between the turns'.

Anything that may be long — a search, an import, the analytics — keeps the aiosqlite pool.
"""
from __future__ import annotations

import asyncio
import logging
import sqlite3
from contextlib import asynccontextmanager
from typing import Any, AsyncIterator, Awaitable, Callable

from protocol.errors import Unavailable

from . import search_index
from .base import Database, Executor, IntegrityError, Params, Row, bound, ended

log = logging.getLogger("chatwire.storage")

BEGIN = "BEGIN IMMEDIATE"
CHECKPOINT_EVERY = 200  # commits (a few hundred WAL pages at most between checkpoints)
INDEX_EVERY = 32  # commits between two batches of the search backlog (storage/search_index.py)


def connect(path: str, *, busy_timeout_ms: int) -> sqlite3.Connection:
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    conn.row_factory = sqlite3.Row
    conn.execute(f"PRAGMA busy_timeout = {busy_timeout_ms}")
    conn.execute("PRAGMA synchronous = NORMAL")
    conn.execute("PRAGMA foreign_keys = ON")
    return conn


def _run(conn: sqlite3.Connection, sql: str, params: Params) -> sqlite3.Cursor:
    try:
        return conn.execute(sql, bound(params))
    except sqlite3.IntegrityError as exc:
        raise IntegrityError(str(exc)) from exc
    except sqlite3.OperationalError as exc:
        if "locked" in str(exc) or "busy" in str(exc):
            raise Unavailable(f"the database is busy: {exc}") from None
        raise


class _Reads(Executor):
    dialect = "sqlite"

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn

    async def fetchall(self, sql: str, params: Params = ()) -> list[Row]:
        return [dict(r) for r in _run(self._conn, sql, params).fetchall()]

    async def execute(self, sql: str, params: Params = ()) -> int:
        raise TypeError("quick reads do not write: use quick.transaction()")


class _InlineTx(Executor):
    """The writer's transaction: BEGIN on the first statement, everything on the loop's thread."""

    dialect = "sqlite"

    def __init__(self, conn: sqlite3.Connection, busy_timeout_ms: int) -> None:
        self._conn = conn
        self._busy_timeout_ms = busy_timeout_ms
        self.begun = False

    async def _begin(self) -> None:
        try:
            self._conn.execute(BEGIN)  # busy_timeout 0: answers at once, never sleeps here
        except sqlite3.OperationalError:
            waiting = asyncio.ensure_future(asyncio.to_thread(self._begin_waiting))
            try:
                await asyncio.shield(waiting)
            except asyncio.CancelledError:
                # The thread may still take the lock: let it answer, so the rollback ends it.
                await asyncio.gather(waiting, return_exceptions=True)
                raise
        self.begun = True

    def _begin_waiting(self) -> None:
        """On a worker thread: wait for the write lock as the pool's connections do."""
        self._conn.execute(f"PRAGMA busy_timeout = {self._busy_timeout_ms}")
        try:
            self._conn.execute(BEGIN)
        except sqlite3.OperationalError as exc:
            raise Unavailable(f"the database is busy: {exc}") from None
        finally:
            self._conn.execute("PRAGMA busy_timeout = 0")

    async def fetchall(self, sql: str, params: Params = ()) -> list[Row]:
        if not self.begun:
            await self._begin()
        return [dict(r) for r in _run(self._conn, sql, params).fetchall()]

    async def execute(self, sql: str, params: Params = ()) -> int:
        if not self.begun:
            await self._begin()
        return _run(self._conn, sql, params).rowcount

    async def write(self, sql: str, params: Params = ()) -> None:
        await self.execute(sql, params)  # inline, a write costs what it costs: nothing to batch

    async def commit(self) -> None:
        if self.begun:
            _run(self._conn, "COMMIT", ())

    async def rollback(self) -> None:
        if self._conn.in_transaction:
            self._conn.execute("ROLLBACK")


class InlineSqlite(Database):
    """`SqliteDatabase.quick`: the same file, its statements run on the loop's thread."""

    dialect = "sqlite"

    def __init__(self, path: str, busy_timeout_ms: int,
                 checkpoint: Callable[..., Awaitable[Any]]) -> None:
        self._reader = connect(path, busy_timeout_ms=busy_timeout_ms)
        self._reader.execute("PRAGMA query_only = ON")
        self._writer = connect(path, busy_timeout_ms=0)
        self._writer.execute("PRAGMA wal_autocheckpoint = 0")
        self._busy_timeout_ms = busy_timeout_ms
        self._lock = asyncio.Lock()
        self._reads = _Reads(self._reader)
        self._checkpoint = checkpoint
        self._commits = 0
        self._checkpointing: asyncio.Task[Any] | None = None
        self._indexing: asyncio.Task[Any] | None = None

    @property
    def quick(self) -> "InlineSqlite":
        return self

    async def fetchall(self, sql: str, params: Params = ()) -> list[Row]:
        return await self._reads.fetchall(sql, params)

    async def settled(self, reads: list[Awaitable[Any]]) -> list[Any]:
        """One after another: each runs to its end here, so gathering them would only add a
        task and a turn of the loop for each (the same answers, in order)."""
        results: list[Any] = []
        for read in reads:
            try:
                results.append(await read)
            except Exception as exc:  # noqa: BLE001 - answered in order, as gather's would be
                results.append(exc)
        return results

    async def execute(self, sql: str, params: Params = ()) -> int:
        async with self.transaction() as tx:
            return await tx.execute(sql, params)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Executor]:
        async with self._lock:
            tx = _InlineTx(self._writer, self._busy_timeout_ms)
            async with ended(tx):
                yield tx
            if tx.begun:
                self._committed()

    def _committed(self) -> None:
        self._commits += 1
        if self._commits % INDEX_EVERY == 0 and (self._indexing is None or self._indexing.done()):
            self._indexing = asyncio.ensure_future(self._index_between_writes())
        if self._commits % CHECKPOINT_EVERY == 0 and (
                self._checkpointing is None or self._checkpointing.done()):
            self._checkpointing = asyncio.ensure_future(self._checkpoint_between_writes())

    async def _checkpoint_between_writes(self) -> None:
        """Copy the log back beside the writes (the long part: thousands of pages), again for
        what they added meanwhile (fewer), then a last time holding the writer's lock, as a
        RESTART (which also waits out other processes' writers, say the other workers): no commit
        lands during that short one, so the next writer finds the log whole and restarts it.
        (One pass under the lock held every writer ~12 ms in a burst of sends.)"""
        try:
            for _ in range(2):
                await self._checkpoint()
            async with self._lock:
                await self._checkpoint("RESTART")
        except Exception:  # the next one tries again; the WAL only grows meanwhile
            log.exception("the WAL checkpoint failed")

    async def _index_between_writes(self) -> None:
        """The search backlog, a batch at a time between the turns' own transactions."""
        try:
            await search_index.catch_up(self, batches=1)  # the rest at the next, or at a search
        except Exception:  # the next one (or the next search) tries again
            log.exception("indexing the search backlog failed")

    async def close(self) -> None:
        for task in (self._checkpointing, self._indexing):
            if task is not None:
                await asyncio.gather(task, return_exceptions=True)
        async with self._lock:
            self._reader.close()
            self._writer.close()
