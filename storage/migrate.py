"""Schema migrations with yoyo, under yoyo's lock so instances starting together are safe."""
from __future__ import annotations

import fcntl
from pathlib import Path

from yoyo import get_backend, read_migrations

from .base import private_file

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"


def yoyo_url(database_url: str) -> str:
    """yoyo names the psycopg2 driver `postgresql`; accept the common `postgres://` spelling too."""
    if database_url.startswith("postgres://"):
        return "postgresql://" + database_url[len("postgres://"):]
    return database_url


def apply_migrations(database_url: str) -> list[str]:
    """Apply every pending migration; return the ids applied. Blocking: call from a thread."""
    if not database_url.startswith("sqlite:///"):
        return _apply(database_url)
    path = private_file(Path(database_url[len("sqlite:///"):]))
    # yoyo creates its own bookkeeping tables (its lock table among them) before taking its lock;
    # two processes doing that on one fresh SQLite file race. A file lock covers the whole run.
    with open(path.with_name(path.name + ".migrate-lock"), "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            return _apply(database_url)
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _apply(database_url: str) -> list[str]:
    backend = get_backend(yoyo_url(database_url))
    migrations = read_migrations(str(MIGRATIONS_DIR))
    with backend.lock(timeout=60):
        pending = backend.to_apply(migrations)
        backend.apply_migrations(pending)
    applied = [m.id for m in pending]
    backend.connection.close()
    return applied
