"""Schema migrations with yoyo, under yoyo's lock so instances starting together are safe."""
from __future__ import annotations

from pathlib import Path

from yoyo import get_backend, read_migrations

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"


def yoyo_url(database_url: str) -> str:
    """yoyo names the psycopg2 driver `postgresql`; accept the common `postgres://` spelling too."""
    if database_url.startswith("postgres://"):
        return "postgresql://" + database_url[len("postgres://"):]
    return database_url


def apply_migrations(database_url: str) -> list[str]:
    """Apply every pending migration; return the ids applied. Blocking: call from a thread."""
    if database_url.startswith("sqlite:///"):
        Path(database_url[len("sqlite:///"):]).parent.mkdir(parents=True, exist_ok=True)
    backend = get_backend(yoyo_url(database_url))
    migrations = read_migrations(str(MIGRATIONS_DIR))
    with backend.lock(timeout=60):
        pending = backend.to_apply(migrations)
        backend.apply_migrations(pending)
    applied = [m.id for m in pending]
    backend.connection.close()
    return applied
