"""The storage interface both engines implement, and the helpers every repository shares.

SQL text is written once, with `?` placeholders, and runs unchanged on SQLite and PostgreSQL: the
PostgreSQL engine rewrites the placeholders (here, in `to_pyformat`) and nothing else does.
Timestamps travel as fixed-width UTC ISO-8601 strings, which sort correctly as text on SQLite and
cast implicitly to TIMESTAMPTZ on PostgreSQL.
"""
from __future__ import annotations

import abc
import asyncio
import os
import time
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from datetime import datetime, timezone
from functools import lru_cache
from pathlib import Path
from typing import Any, AsyncIterator, Awaitable, Protocol, Sequence, TypeVar

from protocol.text import clean

Params = Sequence[Any]


def bound(params: Params) -> tuple[Any, ...]:
    """The parameters as a query gets them: every text cleaned (`protocol.text.clean`) here, the
    one place every write passes, on both engines."""
    return tuple(clean(p) if type(p) is str else p for p in params)
Row = dict[str, Any]


class IntegrityError(Exception):
    """A constraint refused a write (unique, check, foreign key), whichever engine ran it."""


class Executor(abc.ABC):
    """Something that runs SQL: the database itself (autocommit) or an open transaction."""

    dialect: str  # "sqlite" or "postgresql"

    @abc.abstractmethod
    async def fetchall(self, sql: str, params: Params = ()) -> list[Row]: ...

    async def fetchone(self, sql: str, params: Params = ()) -> Row | None:
        rows = await self.fetchall(sql, params)
        return rows[0] if rows else None

    async def fetchval(self, sql: str, params: Params = ()) -> Any:
        row = await self.fetchone(sql, params)
        return None if row is None else next(iter(row.values()))

    @abc.abstractmethod
    async def execute(self, sql: str, params: Params = ()) -> int:
        """Run a statement; return the number of rows it changed."""

    async def write(self, sql: str, params: Params = ()) -> None:
        """A write whose outcome the caller does not read (no rows back, no count checked).

        Outside a transaction it runs now. Inside one it waits and travels with the
        transaction's next statement, or with its COMMIT: one round trip for several statements,
        which is most of what a reply costs the database (bench/relay.py). An error it raises
        surfaces there, and the whole transaction rolls back as with any other failed statement.
        """
        await self.execute(sql, params)


class Ending(Protocol):
    async def commit(self) -> None: ...

    async def rollback(self) -> None: ...


T = TypeVar("T", bound=Ending)


@asynccontextmanager
async def ended(tx: T) -> AsyncIterator[T]:
    """Either engine's transaction: committed on normal exit, rolled back on any exception."""
    try:
        yield tx
        await tx.commit()
    except BaseException:
        await tx.rollback()
        raise


class Database(Executor):
    @abc.abstractmethod
    def transaction(self) -> AbstractAsyncContextManager[Executor]:
        """A write transaction: commits on normal exit, rolls back on any exception.

        SQLite takes the write lock up front (BEGIN IMMEDIATE) so two writers never deadlock.
        """

    @property
    def quick(self) -> "Database":
        """This database, for a few short indexed statements on a hot path (a send, its reply's
        end): SQLite runs them on the event loop's thread instead of a trip to a connection's
        thread for each (`storage.sqlite_inline`); PostgreSQL is the same pool either way.
        Nothing that can take long (a search, an import, a report) goes through it."""
        return self

    async def settled(self, reads: list[Awaitable[Any]]) -> list[Any]:
        """Each read's result or exception, in order, the reads run together: their round trips
        overlap. (The inline SQLite engine runs them one after another: nothing to overlap.)"""
        return await asyncio.gather(*reads, return_exceptions=True)

    @abc.abstractmethod
    async def close(self) -> None: ...

    async def ping(self) -> bool:
        return await self.fetchval("SELECT 1") == 1


@lru_cache(maxsize=1024)
def to_pyformat(sql: str) -> str:
    """`?` placeholders to psycopg2's `%s`, escaping literal `%` on the way.

    Our SQL never puts a `?` inside a string literal; parameters carry every value.
    """
    return sql.replace("%", "%%").replace("?", "%s")


def utcnow() -> str:
    return iso(datetime.now(timezone.utc))


def iso(value: datetime) -> str:
    """The one timestamp format: 2026-11-27T05:09:47.123456Z (fixed width, sorts as text)."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return value.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def new_id() -> str:
    """A 32-hex-digit id whose first 12 digits are the creation time in milliseconds.

    Time-ordered like UUIDv7, so ids make a stable tie-breaker for newest-first paging.
    """
    return f"{int(time.time() * 1000):012x}{os.urandom(10).hex()}"


def private_dir(path: Path) -> Path:
    """A folder only this user may read (0700), and so is each folder made on the way to it:
    the database, the uploads and the secrets live there."""
    missing = []
    while not path.exists() and path != path.parent:
        missing.append(path)
        path = path.parent
    for folder in reversed(missing):
        folder.mkdir(mode=0o700, exist_ok=True)
    return missing[0] if missing else path


def private_file(path: Path) -> Path:
    """Create `path` empty with mode 0600 if it is not there (SQLite then gives its -wal and
    -shm files the same mode), in a private folder."""
    private_dir(path.parent)
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    except FileExistsError:
        pass
    return path
