"""Raw SQL storage: one interface (`Database`), two engines, one repository module per table family."""
from __future__ import annotations

from .base import Database, Executor, IntegrityError, new_id, utcnow


def is_postgres_url(url: str) -> bool:
    return url.startswith(("postgresql://", "postgres://"))


async def open_database(url: str, *, pool_size: int = 10) -> Database:
    """Open the engine the URL names: `sqlite:///path` or `postgresql://…`."""
    if url.startswith("sqlite:///"):
        from .sqlite import SqliteDatabase

        return await SqliteDatabase(url[len("sqlite:///"):], pool_size=min(pool_size, 4)).open()
    if is_postgres_url(url):
        from .postgres import PostgresDatabase

        return await PostgresDatabase(url, maxsize=pool_size).open()
    raise ValueError(f"unsupported DATABASE_URL scheme: {url.split(':', 1)[0]!r}")


__all__ = ["Database", "Executor", "IntegrityError", "is_postgres_url", "new_id", "open_database", "utcnow"]
