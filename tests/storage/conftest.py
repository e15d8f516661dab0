"""What the storage tests share: the database itself, opened on each engine."""
import pytest

from storage import open_database


@pytest.fixture
async def db(database_url):
    database = await open_database(database_url, pool_size=4)
    yield database
    await database.close()
