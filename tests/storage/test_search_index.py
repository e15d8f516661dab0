"""SQLite's search indexes hold finished text only (migration 0018): a streaming reply and an
empty text are left out, and the index agrees with that rule through every write. Finished
messages reach the index in batches (migration 0020, storage/search_index.py): what a search
reads is caught up first, so these tests read the index as a search does."""
from yoyo import get_backend, read_migrations

from storage import chats, messages, new_id, search_index, utcnow
from storage.migrate import MIGRATIONS_DIR, yoyo_url
from tests.helpers import make_user

TOKENS = {t: 0 for t in messages.TOKENS}
INDEXED = "content <> '' AND status IS NOT 'streaming'"


async def found(db, word: str) -> set[str]:
    await search_index.catch_up(db)
    rows = await db.fetchall(
        """SELECT m.id FROM messages m WHERE m.rowid IN
           (SELECT rowid FROM messages_fts WHERE messages_fts MATCH ?)""", (word,))
    return {r["id"] for r in rows}


async def in_index(db, fts: str) -> int:
    await search_index.catch_up(db)
    return await db.fetchval(f"SELECT COUNT(*) AS n FROM {fts}_docsize")


async def a_turn(db, user, chat_id: str, text: str) -> tuple[str, str]:
    asked, reply = new_id(), new_id()
    common = {"model": "echo", "client_msg_id": None, "instance": "i"}
    async with db.transaction() as tx:
        await messages.insert_turn(tx, chat_id=chat_id, user_id=user["id"], now=utcnow(), user={
            "id": asked, "parent_id": None, "role": "user", "content": text, "status": "complete",
            **common}, reply={"id": reply, "parent_id": asked, "role": "assistant", "content": "",
                              "status": "streaming", **common})
    return asked, reply


async def test_a_reply_is_found_once_it_ends_and_never_while_it_streams(sqlite_db):
    db, _ = sqlite_db
    user = await make_user(db)
    chat = await chats.insert(db, id=new_id(), user_id=user["id"], title="", favorite=False,
                              model=None, system_prompt=None, tags=[], now=utcnow())
    asked, reply = await a_turn(db, user, chat["id"], "кошки and cats")
    assert await found(db, "кошки") == {asked}
    await messages.save_progress(db, [(reply, "лисы partial")], utcnow())
    await messages.save_progress(db, [(reply, "лисы partial foxes")], utcnow())
    assert await found(db, "лисы") == set()  # still being written
    await messages.finish(db, reply, status="complete", content="лисы and foxes", tokens=TOKENS,
                          cost=0, error_code=None, now=utcnow())
    assert await found(db, "лисы") == {reply} and await found(db, "partial") == set()
    assert await found(db, "foxes") == {reply}
    # An edit re-indexes; a delete takes it out; the counts follow the rule throughout.
    await db.execute("UPDATE messages SET content = ? WHERE id = ?", ("волки wolves", reply))
    assert await found(db, "лисы") == set() and await found(db, "волки") == {reply}
    _, streaming = await a_turn(db, user, chat["id"], "второй second")
    await messages.save_progress(db, [(streaming, "ещё unfinished")], utcnow())
    expected = await db.fetchval(f"SELECT COUNT(*) AS n FROM messages WHERE {INDEXED}")
    assert await in_index(db, "messages_fts") == expected == 3
    await db.execute("DELETE FROM messages WHERE id IN (?, ?)", (streaming, reply))
    assert await found(db, "волки") == set() and await found(db, "unfinished") == set()
    assert await in_index(db, "messages_fts") == 2  # the two questions
    # A chat is indexed from its first title on.
    assert await in_index(db, "chats_fts") == 0
    await chats.set_title_if_untitled(db, user["id"], chat["id"], "Про зверей", utcnow())
    assert await in_index(db, "chats_fts") == 1


def test_0018_takes_the_left_out_rows_out_of_an_existing_index(tmp_path):
    url = f"sqlite:///{tmp_path / 'old.db'}"
    backend = get_backend(yoyo_url(url))
    migrations = read_migrations(str(MIGRATIONS_DIR))
    with backend.lock(timeout=60):
        backend.apply_migrations(backend.to_apply(migrations.filter(lambda m: m.id < "0018")))
    with backend.transaction():
        cur = backend.connection.cursor()
        cur.execute("""INSERT INTO users (id, email, email_key, password_hash, display_name, role,
                       created_at, updated_at) VALUES ('u', 'u@x', 'u@x', 'x', 'u', 'user', 't', 't')""")
        cur.execute("""INSERT INTO chats (id, user_id, title, created_at, updated_at)
                       VALUES ('c1', 'u', '', 't', 't'), ('c2', 'u', 'Named', 't', 't')""")
        for mid, chat, content, status in (
                ("a", "c1", "hello world", "complete"), ("b", "c1", "", "streaming"),
                ("c", "c2", "half done", "streaming"), ("d", "c2", "", "error")):
            cur.execute("""INSERT INTO messages (id, chat_id, user_id, role, content, status,
                           created_at, updated_at) VALUES (?, ?, 'u', 'user', ?, ?, 't', 't')""",
                        (mid, chat, content, status))

    def counts() -> tuple[int, int]:
        cur = backend.connection.cursor()
        cur.execute("SELECT COUNT(*) FROM messages_fts_docsize")
        in_messages = cur.fetchone()[0]
        cur.execute("SELECT COUNT(*) FROM chats_fts_docsize")
        return in_messages, cur.fetchone()[0]
    assert counts() == (4, 2)  # the old triggers indexed every row
    with backend.lock(timeout=60):  # 0018 alone: from 0020 on, the index is written in batches
        backend.apply_migrations(backend.to_apply(
            migrations.filter(lambda m: m.id == "0018_search_index_finished_text")))
    assert counts() == (1, 1)
    with backend.transaction():  # the streaming one ends: now it is indexed, once
        backend.connection.cursor().execute(
            "UPDATE messages SET status = 'complete', content = 'half done, now whole' WHERE id = 'c'")
    assert counts() == (2, 1)
    cur = backend.connection.cursor()
    cur.execute("SELECT rowid FROM messages_fts WHERE messages_fts MATCH 'whole'")
    assert len(cur.fetchall()) == 1
    with backend.lock(timeout=60):  # and back: every row indexed again, as the old triggers keep it
        backend.rollback_migrations(backend.to_rollback(
            migrations.filter(lambda m: m.id == "0018_search_index_finished_text")))
    assert counts() == (4, 2)
    backend.connection.close()
