"""SQLite indexes finished messages in batches (migration 0020, storage/search_index.py): a turn
only notes its messages; the index catches up every few dozen commits and before every search,
and the index never disagrees with the rule (FTS5's own integrity check after every step)."""
import sqlite3

from yoyo import get_backend, read_migrations

from storage import chats, messages, new_id, search_index, utcnow
from storage.migrate import MIGRATIONS_DIR, yoyo_url
from storage.sqlite_inline import INDEX_EVERY
from tests.helpers import make_user

TOKENS = {t: 0 for t in messages.TOKENS}
IN_RULE = "content <> '' AND status IS NOT 'streaming'"


async def indexed(db) -> set[int]:
    """The rowids FTS5 holds, read without catching up (what is in the index itself)."""
    return {r["id"] for r in await db.fetchall("SELECT id FROM messages_fts_docsize")}


async def sound(db) -> None:
    """FTS5's integrity check against the content table, and index + backlog = the rule."""
    await db.execute("INSERT INTO messages_fts(messages_fts) VALUES ('integrity-check')")
    rule = {r["rowid"] for r in await db.fetchall(f"SELECT rowid FROM messages WHERE {IN_RULE}")}
    noted = {r["rowid"] for r in await db.fetchall("SELECT rowid FROM search_pending")}
    inside = await indexed(db)
    assert inside | noted == rule and not inside & noted


async def rowid(db, message_id: str) -> int:
    return await db.fetchval("SELECT rowid AS r FROM messages WHERE id = ?", (message_id,))


async def a_chat(db):
    user = await make_user(db)
    chat = await chats.insert(db, id=new_id(), user_id=user["id"], title="", favorite=False,
                              model=None, system_prompt=None, tags=[], now=utcnow())
    return user, chat


async def a_turn(db, user, chat_id: str, text: str) -> tuple[str, str]:
    asked, reply = new_id(), new_id()
    common = {"model": "echo", "client_msg_id": None, "instance": "i"}
    async with db.quick.transaction() as tx:
        await messages.insert_turn(tx, chat_id=chat_id, user_id=user["id"], now=utcnow(), user={
            "id": asked, "parent_id": None, "role": "user", "content": text, "status": "complete",
            **common}, reply={"id": reply, "parent_id": asked, "role": "assistant", "content": "",
                              "status": "streaming", **common})
    return asked, reply


async def finish(db, reply: str, text: str) -> None:
    async with db.quick.transaction() as tx:  # as a reply's end is written (the inline writer)
        await messages.finish(tx, reply, status="complete", content=text, tokens=TOKENS, cost=0,
                              error_code=None, now=utcnow())


async def test_a_turn_notes_its_finished_messages_and_a_catch_up_indexes_them_once(sqlite_db):
    db, _ = sqlite_db
    user, chat = await a_chat(db)
    asked, reply = await a_turn(db, user, chat["id"], "кошки and cats")
    await finish(db, reply, "лисы and foxes")
    assert await indexed(db) == set()  # noted, not written into FTS5 in the turn
    assert await search_index.backlog(db) == 2
    await sound(db)
    assert await search_index.catch_up(db) == 2
    assert await indexed(db) == {await rowid(db, asked), await rowid(db, reply)}
    assert await search_index.backlog(db) == 0 and await search_index.catch_up(db) == 0
    await sound(db)


async def test_a_noted_message_deleted_or_edited_before_its_batch_leaves_the_index_sound(sqlite_db):
    db, _ = sqlite_db
    user, chat = await a_chat(db)
    asked, reply = await a_turn(db, user, chat["id"], "первый first")
    await finish(db, reply, "ответ answer")
    # Noted and edited twice, noted and deleted, noted and emptied: nothing reached FTS5 yet.
    await db.execute("UPDATE messages SET content = ? WHERE id = ?", ("правка edited", asked))
    await db.execute("UPDATE messages SET content = ? WHERE id = ?", ("снова again", asked))
    await db.execute("UPDATE messages SET content = '' WHERE id = ?", (reply,))
    other, _ = await a_turn(db, user, chat["id"], "удалю deleted")
    await db.execute("DELETE FROM messages WHERE id = ?", (other,))
    await sound(db)
    await search_index.catch_up(db)
    await sound(db)
    assert await indexed(db) == {await rowid(db, asked)}
    hits = await db.fetchall("SELECT rowid FROM messages_fts WHERE messages_fts MATCH 'again'")
    assert [h["rowid"] for h in hits] == [await rowid(db, asked)]
    # An indexed message edited: its old words leave the index at once, the new are noted.
    await db.execute("UPDATE messages SET content = ? WHERE id = ?", ("третий third", asked))
    assert await indexed(db) == set() and await search_index.backlog(db) == 1
    await sound(db)
    await db.execute("UPDATE messages SET status = 'stopped' WHERE id = ?", (asked,))  # same text
    await search_index.catch_up(db)
    assert await indexed(db) == {await rowid(db, asked)}
    await db.execute("DELETE FROM messages WHERE id = ?", (asked,))
    assert await indexed(db) == set()
    await sound(db)


async def test_the_inline_writer_indexes_the_backlog_every_few_dozen_commits(sqlite_db):
    db, _ = sqlite_db
    user, chat = await a_chat(db)
    for i in range(INDEX_EVERY):  # two commits a turn
        _, reply = await a_turn(db, user, chat["id"], f"вопрос question {i}")
        await finish(db, reply, f"ответ answer {i}")
    await db.quick.close()  # waits for the batch that its commits started
    await sound(db)
    assert await search_index.backlog(db) < INDEX_EVERY  # only what came after the last batch
    assert len(await indexed(db)) >= INDEX_EVERY


async def test_a_backlog_bigger_than_a_batch_is_indexed_a_batch_at_a_time(sqlite_db):
    db, _ = sqlite_db
    user, chat = await a_chat(db)
    async with db.transaction() as tx:  # as an import writes a chat's history, on the pool
        for i in range(search_index.BATCH + 100):
            await messages.insert(tx, id=new_id(), chat_id=chat["id"], user_id=user["id"],
                                  parent_id=None, role="user", content=f"старое old {i}",
                                  model=None, status="complete", client_msg_id=None, now=utcnow())
    assert await search_index.catch_up(db, batches=1) == search_index.BATCH  # the background's
    await sound(db)
    assert await search_index.catch_up(db) == 100  # a search's: all that is left
    assert await search_index.backlog(db) == 0
    await sound(db)


def test_0020_keeps_what_is_noted_searchable_when_rolled_back(tmp_path):
    url = f"sqlite:///{tmp_path / 'b.db'}"
    backend = get_backend(yoyo_url(url))
    migrations = read_migrations(str(MIGRATIONS_DIR))
    with backend.lock(timeout=60):
        backend.apply_migrations(backend.to_apply(migrations))
    with backend.transaction():
        cur = backend.connection.cursor()
        cur.execute("""INSERT INTO users (id, email, email_key, password_hash, display_name, role,
                       created_at, updated_at) VALUES ('u', 'u@x', 'u@x', 'x', 'u', 'user', 't', 't')""")
        cur.execute("INSERT INTO chats (id, user_id, title, created_at, updated_at) "
                    "VALUES ('c', 'u', '', 't', 't')")
        for mid, content, status in (("a", "noted words", "complete"), ("b", "", "streaming")):
            cur.execute("""INSERT INTO messages (id, chat_id, user_id, role, content, status,
                           created_at, updated_at) VALUES (?, 'c', 'u', 'user', ?, ?, 't', 't')""",
                        (mid, content, status))
    with backend.lock(timeout=60):
        backend.rollback_migrations(backend.to_rollback(
            migrations.filter(lambda m: m.id == "0020_search_index_in_batches")))
    cur = backend.connection.cursor()
    cur.execute("SELECT rowid FROM messages_fts WHERE messages_fts MATCH 'noted'")
    assert len(cur.fetchall()) == 1
    cur.execute("UPDATE messages SET status = 'complete', content = 'now whole' WHERE id = 'b'")
    cur.execute("SELECT rowid FROM messages_fts WHERE messages_fts MATCH 'whole'")
    assert len(cur.fetchall()) == 1  # 0018's triggers index at once again
    try:
        cur.execute("SELECT 1 FROM search_pending")
        raise AssertionError("search_pending is still there")
    except sqlite3.OperationalError:
        pass
    backend.connection.close()
