"""`Database.quick`: the same guarantees as the pool, and on SQLite the loop never waits on a lock."""
import asyncio
from pathlib import Path

import pytest

from protocol.errors import Unavailable
from storage import IntegrityError
from storage.sqlite_inline import CHECKPOINT_EVERY
from tests.helpers import make_user


async def count_users(db) -> int:
    return await db.fetchval("SELECT COUNT(*) AS n FROM users")


async def test_a_quick_transaction_commits_and_a_failed_one_leaves_nothing(db):
    async with db.quick.transaction() as tx:
        await make_user(tx)
    with pytest.raises(RuntimeError):
        async with db.quick.transaction() as tx:
            await make_user(tx, "v@example.com")
            raise RuntimeError("boom")
    with pytest.raises(IntegrityError):
        async with db.quick.transaction() as tx:
            await make_user(tx, "w@example.com")
            await make_user(tx)  # the same email again
    assert await count_users(db) == 1  # seen by the pool
    assert await count_users(db.quick) == 1  # and by the quick reads


async def test_quick_reads_see_what_the_pool_committed(db):
    user = await make_user(db)
    assert (await db.quick.fetchone("SELECT email FROM users WHERE id = ?", (user["id"],)))["email"] == user["email"]


async def test_concurrent_quick_transactions_are_one_at_a_time(db):
    user = await make_user(db)

    async def bump():
        async with db.quick.transaction() as tx:
            balance = await tx.fetchval("SELECT balance FROM users WHERE id = ?", (user["id"],))
            await asyncio.sleep(0)  # another task runs here; it must not see half of this one
            await tx.execute("UPDATE users SET balance = ? WHERE id = ?", (balance + 1, user["id"]))

    await asyncio.gather(*[bump() for _ in range(20)])
    final = await db.fetchval("SELECT balance FROM users WHERE id = ?", (user["id"],))
    assert final == 20 if db.dialect == "sqlite" else 1 <= final <= 20


async def ticking(until: asyncio.Event) -> int:
    ticks = 0
    while not until.is_set():
        await asyncio.sleep(0.01)
        ticks += 1
    return ticks


async def test_a_quick_transaction_waits_for_the_write_lock_off_the_loop(sqlite_db):
    db, _ = sqlite_db
    held, release, done = asyncio.Event(), asyncio.Event(), asyncio.Event()

    async def long_writer():  # a pool transaction holding SQLite's write lock
        async with db.transaction() as tx:
            await make_user(tx, "pool@example.com")
            held.set()
            await release.wait()

    async def quick_writer():
        await held.wait()
        async with db.quick.transaction() as tx:
            await make_user(tx, "quick@example.com")
        done.set()

    writer = asyncio.ensure_future(long_writer())
    quick = asyncio.ensure_future(quick_writer())
    ticker = asyncio.ensure_future(ticking(done))
    await held.wait()
    await asyncio.sleep(0.3)
    assert not done.is_set()  # it waits for the lock...
    release.set()
    await asyncio.wait_for(asyncio.gather(writer, quick), 5)
    assert await ticker >= 15  # ...while the loop kept running (a blocked loop would not tick)
    assert await count_users(db) == 2


async def test_a_quick_transaction_cancelled_while_waiting_leaves_the_writer_free(sqlite_db):
    db, _ = sqlite_db
    held, release = asyncio.Event(), asyncio.Event()

    async def long_writer():
        async with db.transaction() as tx:
            await make_user(tx, "pool@example.com")
            held.set()
            await release.wait()

    async def quick_writer():
        async with db.quick.transaction() as tx:
            await make_user(tx, "cancelled@example.com")

    writer = asyncio.ensure_future(long_writer())
    await held.wait()
    waiting = asyncio.ensure_future(quick_writer())
    await asyncio.sleep(0.2)
    waiting.cancel()
    await asyncio.sleep(0.1)
    release.set()
    await writer
    with pytest.raises(asyncio.CancelledError):
        await waiting
    async with db.quick.transaction() as tx:  # the writer is not left inside a transaction
        await make_user(tx, "after@example.com")
    emails = {r["email"] for r in await db.fetchall("SELECT email FROM users")}
    assert emails == {"pool@example.com", "after@example.com"}


async def test_a_write_lock_held_past_the_busy_timeout_is_unavailable_not_a_hang(sqlite_db):
    db, path = sqlite_db
    import sqlite3
    other = sqlite3.connect(path, isolation_level=None)  # another process's writer, say
    other.execute("BEGIN IMMEDIATE")
    try:
        done = asyncio.Event()
        ticker = asyncio.ensure_future(ticking(done))
        with pytest.raises(Unavailable):  # after the busy timeout (5 s), as the pool answers
            async with db.quick.transaction() as tx:
                await make_user(tx, "late@example.com")
        done.set()
        assert await ticker > 100  # the loop ran all along
    finally:
        other.execute("ROLLBACK")
        other.close()
    async with db.quick.transaction() as tx:
        await make_user(tx, "later@example.com")
    assert await count_users(db) == 1


async def test_the_quick_writer_keeps_the_wal_bounded_under_a_steady_load(sqlite_db):
    """Writers that never pause: SQLite restarts the log only when a writer begins on a fully
    checkpointed WAL, so a checkpoint racing the commits would let it grow without end."""
    db, path = sqlite_db
    users = [await make_user(db, f"w{k}@example.com") for k in range(4)]
    wal = Path(f"{path}-wal")

    async def writer(user) -> None:
        for i in range(CHECKPOINT_EVERY * 2):
            async with db.quick.transaction() as tx:
                await tx.execute("UPDATE users SET display_name = ? WHERE id = ?",
                                 (f"{i}" * 2000, user["id"]))
            await asyncio.sleep(0)  # the next writer is already queued: no pause for the pool
    await asyncio.gather(*(writer(u) for u in users))
    # Without a checkpoint that restarts the log each commit appends its pages: 1,600 commits of
    # two or more pages, 13 MB or more.
    pages_per_commit = 2
    unbounded = CHECKPOINT_EVERY * 2 * len(users) * pages_per_commit * 4096
    assert wal.stat().st_size < unbounded / 2


async def test_settled_answers_each_read_or_its_error_in_order(db):
    user = await make_user(db)

    async def refused():
        raise Unavailable("no")
    email = db.quick.fetchval("SELECT email FROM users WHERE id = ?", (user["id"],))
    count = count_users(db.quick)
    first, failed, last = await db.quick.settled([email, refused(), count])
    assert first == user["email"] and isinstance(failed, Unavailable) and last == 1


async def test_the_wal_stays_bounded_while_another_process_writes_too(sqlite_db):
    """Another worker on the same file commits all along: the last checkpoint pass waits its
    writers out (RESTART), or the log would never be whole when a writer begins."""
    import sqlite3
    import threading
    import time
    db, path = sqlite_db
    user = await make_user(db)
    other_user = await make_user(db, "other@example.com")
    wal = Path(f"{path}-wal")
    done = threading.Event()

    def other_worker() -> None:
        conn = sqlite3.connect(path, isolation_level=None, timeout=5)
        conn.execute("PRAGMA wal_autocheckpoint = 0")  # as a worker's inline writer
        i = 0
        while not done.is_set():
            conn.execute("UPDATE users SET display_name = ? WHERE id = ?", (f"{i}" * 2000, other_user["id"]))
            i += 1
            time.sleep(0.0005)  # a worker between its commits (SQLite's locks are not fair)
        conn.close()
    thread = threading.Thread(target=other_worker)
    thread.start()
    try:
        for i in range(CHECKPOINT_EVERY * 8):
            async with db.quick.transaction() as tx:
                await tx.execute("UPDATE users SET display_name = ? WHERE id = ?", (f"{i}" * 2000, user["id"]))
            await asyncio.sleep(0)
    finally:
        done.set()
        thread.join()
    # This writer's pages alone, never restarted, would be 13 MB (both: ~100 MB); restarted,
    # the log holds a few checkpoints' worth of both writers' pages.
    unbounded = CHECKPOINT_EVERY * 8 * 2 * 4096
    assert wal.stat().st_size < unbounded
