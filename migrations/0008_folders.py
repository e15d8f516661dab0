"""Folders (projects): a user's named groups of chats, each with optional instructions that join
the system prompt of its chats. A chat is in at most one folder; deleting the folder returns its
chats to the top level (`ON DELETE SET NULL`, and the service clears them in the same
transaction, so it holds on SQLite databases opened without foreign keys too)."""
from yoyo import step

__depends__ = {"0007_default_model"}


def _is_sqlite(conn):
    return type(conn).__module__.startswith("sqlite3")


def apply(conn):
    ts = "TEXT" if _is_sqlite(conn) else "TIMESTAMPTZ"
    cur = conn.cursor()
    cur.execute(f"""CREATE TABLE folders (
        id TEXT PRIMARY KEY,
        user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        name TEXT NOT NULL,
        instructions TEXT,
        created_at {ts} NOT NULL,
        updated_at {ts} NOT NULL
    )""")
    cur.execute("CREATE INDEX folders_user ON folders (user_id, name)")
    cur.execute("ALTER TABLE chats ADD COLUMN folder_id TEXT REFERENCES folders(id) ON DELETE SET NULL")
    cur.execute("CREATE INDEX chats_folder ON chats (folder_id)")


def rollback(conn):
    cur = conn.cursor()
    cur.execute("DROP INDEX chats_folder")
    cur.execute("ALTER TABLE chats DROP COLUMN folder_id")
    cur.execute("DROP TABLE folders")


steps = [step(apply, rollback)]
