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


async def test_a_lost_postgres_connection_is_unavailable_then_the_pool_recovers(tmp_path):
    """PostgreSQL restarting looks like this to the pool: every connection cut under it."""
    from protocol.errors import Unavailable
    from storage import open_database
    from tests.services import postgres_admin

    admin, base = postgres_admin()
    db = await open_database(base, pool_size=3)
    try:
        pids = set()
        async with db.transaction() as tx:
            pids.add(await tx.fetchval("SELECT pg_backend_pid()"))
        with admin.cursor() as cur:
            cur.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                        "WHERE pid = ANY(%s)", (list(pids),))
        outcomes = []
        for _ in range(5):
            try:
                outcomes.append(await db.fetchval("SELECT 41 + 1"))
            except Unavailable as exc:
                outcomes.append(exc.code)
        assert outcomes[0] == "unavailable" and outcomes[-1] == 42 and set(outcomes) <= {
            "unavailable", 42}
    finally:
        await db.close()
        admin.close()
