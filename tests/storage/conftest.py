"""What the storage tests share: the database itself, opened on each engine."""
import shutil
from pathlib import Path

import pytest

from storage import open_database


@pytest.fixture
async def db(database_url):
    database = await open_database(database_url, pool_size=4)
    yield database
    await database.close()


@pytest.fixture
async def sqlite_db(tmp_path: Path, sqlite_template):
    """A migrated SQLite file of its own, and its path (for what only SQLite has)."""
    path = tmp_path / "chatwire.db"
    shutil.copy(sqlite_template, path)
    database = await open_database(f"sqlite:///{path}", pool_size=2)
    yield database, path
    await database.close()
