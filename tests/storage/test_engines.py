"""The one storage interface behaves the same on SQLite and PostgreSQL."""
import asyncio

import pytest

from storage import IntegrityError, new_id, open_database, utcnow
from storage.base import to_pyformat


@pytest.fixture
async def db(database_url):
    database = await open_database(database_url, pool_size=4)
    yield database
    await database.close()


async def make_user(db, email="u@example.com"):
    from storage import users
    return await users.insert(db, id=new_id(), email=email, email_key=email, password_hash="x",
                              display_name="u", role="user", now=utcnow())


async def test_a_failed_transaction_leaves_no_trace(db):
    with pytest.raises(RuntimeError):
        async with db.transaction() as tx:
            await make_user(tx)
            raise RuntimeError("boom")
    assert await db.fetchval("SELECT COUNT(*) AS n FROM users") == 0


async def test_constraints_surface_as_one_integrity_error(db):
    await make_user(db)
    with pytest.raises(IntegrityError):
        await make_user(db)
    user = await make_user(db, "v@example.com")
    with pytest.raises(IntegrityError):  # CHECK (balance >= 0)
        await db.execute("UPDATE users SET balance = -1 WHERE id = ?", (user["id"],))
    with pytest.raises(IntegrityError):  # foreign keys are on
        await db.execute("INSERT INTO chats (id, user_id, created_at, updated_at) VALUES (?,?,?,?)",
                         ("c", "no-such-user", utcnow(), utcnow()))


async def test_concurrent_write_transactions_all_commit_without_deadlock(db):
    user = await make_user(db)

    async def bump():
        async with db.transaction() as tx:
            balance = await tx.fetchval("SELECT balance FROM users WHERE id = ?", (user["id"],))
            await asyncio.sleep(0)
            await tx.execute("UPDATE users SET balance = ? WHERE id = ?", (balance + 1, user["id"]))

    await asyncio.gather(*[bump() for _ in range(20)])
    # on PostgreSQL read-modify-write races under Read Committed; the ledger (a later issue)
    # uses conditional updates. Here we only require that every transaction committed.
    final = await db.fetchval("SELECT balance FROM users WHERE id = ?", (user["id"],))
    assert 1 <= final <= 20
    if db.dialect == "sqlite":
        assert final == 20  # BEGIN IMMEDIATE serialises writers


async def test_timestamps_come_back_in_one_format_on_both_engines(db):
    user = await make_user(db)
    assert len(user["created_at"]) == len("2026-11-27T05:09:47.123456Z")
    assert user["created_at"].endswith("Z")


def test_placeholders_are_rewritten_and_percent_signs_escaped():
    assert to_pyformat("SELECT ? WHERE a LIKE '%x'") == "SELECT %s WHERE a LIKE '%%x'"


def test_ids_sort_by_creation_time():
    import time
    first = new_id()
    time.sleep(0.002)
    assert new_id() > first and len(first) == 32
