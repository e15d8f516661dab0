"""Share links: a read-only snapshot of a chat's active branch, frozen when shared, under an
unguessable id. The snapshot is its own copy (JSON), so editing the chat later changes nothing
shared; trashing the chat revokes its links (`revoked_at`), purging it deletes them."""
from yoyo import step

__depends__ = {"0008_folders"}


def _is_sqlite(conn):
    return type(conn).__module__.startswith("sqlite3")


def apply(conn):
    ts = "TEXT" if _is_sqlite(conn) else "TIMESTAMPTZ"
    cur = conn.cursor()
    cur.execute(f"""CREATE TABLE shares (
        id TEXT PRIMARY KEY,
        user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        chat_id TEXT NOT NULL REFERENCES chats(id) ON DELETE CASCADE,
        title TEXT NOT NULL DEFAULT '',
        snapshot TEXT NOT NULL,
        message_count INTEGER NOT NULL,
        created_at {ts} NOT NULL,
        revoked_at {ts}
    )""")
    cur.execute("CREATE INDEX shares_user ON shares (user_id, created_at)")
    cur.execute("CREATE INDEX shares_chat ON shares (chat_id)")


def rollback(conn):
    conn.cursor().execute("DROP TABLE shares")


steps = [step(apply, rollback)]
