"""PostgreSQL engine (aiopg + psycopg2), for production and several instances.

aiopg runs in autocommit mode, so a transaction is ours to open and close (`_PgTx`). Acquiring from an exhausted pool
would wait a minute by default, so it is bounded and surfaces `unavailable` instead. A connection
lost under a request (PostgreSQL restarted) is `unavailable` too — retryable — and the pool drops
it, so the next request gets a fresh one.
"""
from __future__ import annotations

import asyncio
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any, AsyncIterator
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import aiopg
import psycopg2
from psycopg2.extensions import TRANSACTION_STATUS_IDLE

from protocol.errors import Unavailable

from .base import Database, Executor, IntegrityError, Params, Row, bound, ended, iso, to_pyformat

ACQUIRE_TIMEOUT_S = 5.0
JOIN = b"\n;\n"  # between the statements of one query (own line: safe after a -- comment)
LOST = (psycopg2.OperationalError, psycopg2.InterfaceError)


def dsn_from_url(url: str) -> str:
    """Our URL to a libpq DSN: `?schema=x` (yoyo's spelling) becomes a search_path option."""
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query))
    schema = query.pop("schema", None)
    if schema:
        query["options"] = f"-csearch_path={schema}"
    return urlunsplit(("postgresql", parts.netloc, parts.path, urlencode(query), ""))


def _row(description: Any, values: tuple[Any, ...]) -> Row:
    row: Row = {}
    for col, value in zip(description, values):
        row[col.name] = iso(value) if isinstance(value, datetime) else value
    return row


def _first_line(exc: Exception) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]


class _PgConn(Executor):
    dialect = "postgresql"

    def __init__(self, cur: aiopg.Cursor) -> None:
        self._cur = cur

    async def fetchall(self, sql: str, params: Params = ()) -> list[Row]:
        await self._run(sql, params)
        if self._cur.description is None:
            return []
        desc = self._cur.description
        return [_row(desc, r) for r in await self._cur.fetchall()]

    async def execute(self, sql: str, params: Params = ()) -> int:
        await self._run(sql, params)
        return self._cur.rowcount

    async def _run(self, sql: str, params: Params) -> None:
        await self._send(to_pyformat(sql), bound(params))

    async def _send(self, query: str | bytes, params: tuple[Any, ...] | None) -> None:
        try:
            await self._cur.execute(query, params)
        except psycopg2.IntegrityError as exc:
            raise IntegrityError(str(exc).strip()) from exc


class _PgTx(_PgConn):
    """A transaction that costs no round trip of its own.

    `BEGIN` and any `write()`s wait and go out in front of the next statement, as one
    multi-statement query (psycopg2 binds parameters client-side, so each is bound alone, then
    joined; the answer is the last statement's); the writes left at the end go with `COMMIT`.
    A reply's two transactions went from 13 round trips to 6 (with `messages.insert_turn` a write too).
    """

    def __init__(self, cur: aiopg.Cursor) -> None:
        super().__init__(cur)
        self._pending: list[bytes] = [b"BEGIN"]
        self.begun = False  # BEGIN has been sent: the server holds a transaction to end

    async def write(self, sql: str, params: Params = ()) -> None:
        self._pending.append(self._cur.mogrify(to_pyformat(sql), bound(params)))

    async def _run(self, sql: str, params: Params) -> None:
        if not self._pending:
            return await super()._run(sql, params)
        self._pending.append(self._cur.mogrify(to_pyformat(sql), bound(params)))
        await self._flush()

    async def _flush(self) -> None:
        query = JOIN.join(self._pending)
        self._pending.clear()
        self.begun = True
        await self._send(query, None)  # no parameters: psycopg2 sends the bound text as it is

    async def commit(self) -> None:
        if self.begun or len(self._pending) > 1:  # else nothing was asked: nothing to send
            self._pending.append(b"COMMIT")
            await self._flush()

    async def rollback(self) -> None:
        self._pending.clear()
        if self.begun and not self._cur.connection.closed:  # aiopg closes it on a cancelled query
            await self._cur.execute("ROLLBACK")


class PostgresDatabase(Database):
    dialect = "postgresql"

    def __init__(self, url: str, minsize: int = 1, maxsize: int = 10) -> None:
        self._dsn = dsn_from_url(url)
        self._minsize = minsize
        self._maxsize = maxsize
        self._pool: aiopg.Pool | None = None

    async def open(self) -> "PostgresDatabase":
        try:
            self._pool = await aiopg.create_pool(
                self._dsn, minsize=self._minsize, maxsize=self._maxsize, timeout=30.0
            )
        except psycopg2.OperationalError as exc:
            raise Unavailable(f"cannot connect to PostgreSQL: {exc}".strip()) from None
        return self

    @asynccontextmanager
    async def _cursor(self) -> AsyncIterator[aiopg.Cursor]:
        assert self._pool is not None, "database is not open"
        try:
            if self._pool.freesize:  # the usual case: one free, taken without wait_for's task
                conn = await self._pool.acquire()
            else:
                conn = await asyncio.wait_for(self._pool.acquire(), ACQUIRE_TIMEOUT_S)
        except asyncio.TimeoutError:
            raise Unavailable("no database connection free; try again") from None
        except LOST as exc:
            raise Unavailable(f"the database cannot be reached; try again ({_first_line(exc)})") from None
        try:
            async with conn.cursor() as cur:
                yield cur
        except LOST as exc:
            conn.close()  # broken: the pool must not hand it out again
            raise Unavailable(f"the database connection was lost; try again ({_first_line(exc)})") \
                from None
        finally:
            if not conn.closed and conn.raw.get_transaction_status() != TRANSACTION_STATUS_IDLE:
                conn.close()  # a transaction cut short (cancelled mid-rollback): never reuse it
            await self._pool.release(conn)

    async def fetchall(self, sql: str, params: Params = ()) -> list[Row]:
        async with self._cursor() as cur:
            return await _PgConn(cur).fetchall(sql, params)

    async def execute(self, sql: str, params: Params = ()) -> int:
        async with self._cursor() as cur:
            return await _PgConn(cur).execute(sql, params)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Executor]:
        async with self._cursor() as cur, ended(_PgTx(cur)) as tx:
            yield tx

    async def close(self) -> None:
        if self._pool is not None:
            self._pool.close()
            await self._pool.wait_closed()
            self._pool = None
