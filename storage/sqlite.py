"""SQLite engine (aiosqlite): the embedded default.

A small pool of connections, each used by one task at a time. WAL lets readers run beside the one
writer; `BEGIN IMMEDIATE` takes the write lock before the first statement, so two writers queue on
the busy timeout instead of deadlocking on a lock upgrade.
"""
from __future__ import annotations

import asyncio
import sqlite3
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, AsyncIterator

import aiosqlite

from protocol.errors import Unavailable

from .base import Database, Executor, IntegrityError, Params, Row, bound, ended, private_file
from .sqlite_inline import InlineSqlite

BUSY_TIMEOUT_MS = 5000
BEGIN = "BEGIN IMMEDIATE"


class _SqliteConn(Executor):
    dialect = "sqlite"

    def __init__(self, conn: aiosqlite.Connection) -> None:
        self._conn = conn

    # One trip to the connection's thread per statement. Each trip costs a wake-up of the event
    # loop (a self-pipe write and read); `async with conn.execute() as cur` then `cur.fetchall()`
    # made three (execute, fetch, close), a third of the SQLite engine's CPU (bench/relay.py).

    async def fetchall(self, sql: str, params: Params = ()) -> list[Row]:
        try:
            rows = await self._conn.execute_fetchall(sql, bound(params))
        except sqlite3.IntegrityError as exc:
            raise IntegrityError(str(exc)) from exc
        return [dict(r) for r in rows]

    async def execute(self, sql: str, params: Params = ()) -> int:
        try:
            cur = await self._conn.execute(sql, bound(params))
        except sqlite3.IntegrityError as exc:
            raise IntegrityError(str(exc)) from exc
        return cur.rowcount  # a finished write: dropping the cursor needs no trip to close it


class _Busy(Exception):
    """BEGIN IMMEDIATE waited the whole busy timeout for the write lock."""


def _in_thread(conn: sqlite3.Connection, pending: list[tuple[str, Params]], sql: str | None,
               params: Params, fetch: bool) -> Any:
    """Runs on the connection's thread: the waiting statements, then this one (if any)."""
    for text, values in pending:
        if text == BEGIN:
            try:
                conn.execute(text)
            except sqlite3.OperationalError as exc:
                raise _Busy(str(exc)) from None
        else:
            conn.execute(text, values).fetchall()  # stepped to the end, whatever it is
    if sql is None:
        return None
    cur = conn.execute(sql, params)
    return cur.fetchall() if fetch else cur.rowcount


class _SqliteTx(_SqliteConn):
    """A transaction whose BEGIN and `write()`s share a thread trip with the next statement.

    Each trip to the connection's thread costs two thread wake-ups and a self-pipe write; the
    waiting statements run in the same trip as the statement that follows them, or as COMMIT.
    (aiosqlite has no public call for "run this function on the connection's thread"; `_execute`
    is the one its own methods use.)
    """

    def __init__(self, conn: aiosqlite.Connection) -> None:
        super().__init__(conn)
        self._pending: list[tuple[str, Params]] = [(BEGIN, ())]
        self.begun = False

    async def write(self, sql: str, params: Params = ()) -> None:
        self._pending.append((sql, bound(params)))

    async def fetchall(self, sql: str, params: Params = ()) -> list[Row]:
        return [dict(r) for r in await self._trip(sql, params, fetch=True)]

    async def execute(self, sql: str, params: Params = ()) -> int:
        return await self._trip(sql, params, fetch=False)

    async def _trip(self, sql: str | None, params: Params, *, fetch: bool) -> Any:
        pending, self._pending = self._pending, []
        self.begun = self.begun or bool(pending)
        try:
            return await self._conn._execute(_in_thread, self._conn._conn, pending, sql, bound(params),
                                             fetch)
        except sqlite3.IntegrityError as exc:
            raise IntegrityError(str(exc)) from exc
        except _Busy as exc:
            raise Unavailable(f"the database is busy: {exc}") from None

    async def commit(self) -> None:
        if self.begun or len(self._pending) > 1:
            await self._trip("COMMIT", (), fetch=False)

    async def rollback(self) -> None:
        self._pending = []
        if self.begun:  # queued behind the trip it ends, even one a cancellation left running
            try:
                await self._conn.execute("ROLLBACK")
            except sqlite3.OperationalError:  # BEGIN itself had failed: nothing to end
                pass


class SqliteDatabase(Database):
    dialect = "sqlite"

    def __init__(self, path: str, pool_size: int = 4) -> None:
        self.path = path
        self._pool_size = pool_size
        self._idle: asyncio.Queue[aiosqlite.Connection] = asyncio.Queue()
        self._all: list[aiosqlite.Connection] = []
        self._inline: InlineSqlite | None = None

    @property
    def quick(self) -> Database:
        return self._inline or self  # ":memory:" is one database per connection: no second one

    async def open(self) -> "SqliteDatabase":
        if self.path != ":memory:":
            private_file(Path(self.path))
        for _ in range(self._pool_size):
            conn = await aiosqlite.connect(self.path, isolation_level=None)
            conn.row_factory = sqlite3.Row
            await conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            await conn.execute("PRAGMA journal_mode = WAL")
            await conn.execute("PRAGMA synchronous = NORMAL")
            await conn.execute("PRAGMA foreign_keys = ON")
            self._all.append(conn)
            self._idle.put_nowait(conn)
        if self.path != ":memory:":
            self._inline = InlineSqlite(self.path, BUSY_TIMEOUT_MS, self._checkpoint)
        return self

    async def _checkpoint(self, mode: str = "PASSIVE") -> None:
        """A WAL checkpoint on a pooled connection's thread (for the inline writer): PASSIVE
        copies what it can beside the writers; RESTART waits (busy timeout) for other processes'
        writers, so that the next one starts the log over."""
        assert mode in ("PASSIVE", "RESTART")
        await self.fetchall(f"PRAGMA wal_checkpoint({mode})")

    @asynccontextmanager
    async def _acquire(self) -> AsyncIterator[aiosqlite.Connection]:
        if not self._idle.empty():  # the usual case, without wait_for's task and timer
            conn = self._idle.get_nowait()
        else:
            try:
                conn = await asyncio.wait_for(self._idle.get(), timeout=BUSY_TIMEOUT_MS / 1000)
            except asyncio.TimeoutError:
                raise Unavailable("the database is busy; try again") from None
        try:
            yield conn
        finally:
            self._idle.put_nowait(conn)

    async def fetchall(self, sql: str, params: Params = ()) -> list[Row]:
        async with self._acquire() as conn:
            return await _SqliteConn(conn).fetchall(sql, params)

    async def execute(self, sql: str, params: Params = ()) -> int:
        async with self._acquire() as conn:
            return await _SqliteConn(conn).execute(sql, params)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Executor]:
        async with self._acquire() as conn, ended(_SqliteTx(conn)) as tx:
            yield tx

    async def close(self) -> None:
        if self._inline is not None:
            await self._inline.close()
            self._inline = None
        for conn in self._all:
            await conn.close()
        self._all.clear()
