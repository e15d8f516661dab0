"""Every table the product needs: users, refresh tokens, profiles, chats and tags, messages,
files, transactions; plus full-text search (PostgreSQL tsvector + GIN, SQLite FTS5).

One Python step so the backend-specific pieces sit next to the shared DDL. Timestamps are
TIMESTAMPTZ on PostgreSQL and fixed-width ISO-8601 TEXT on SQLite (see storage/base.py).
"""
from yoyo import step

__depends__ = {}


def _is_sqlite(conn):
    return type(conn).__module__.startswith("sqlite3")


def _tables(ts, boolean):
    return [
        f"""CREATE TABLE users (
            id TEXT PRIMARY KEY,
            email TEXT NOT NULL,
            email_key TEXT NOT NULL UNIQUE,
            password_hash TEXT NOT NULL,
            display_name TEXT NOT NULL DEFAULT '',
            role TEXT NOT NULL DEFAULT 'user' CHECK (role IN ('user', 'admin')),
            balance BIGINT NOT NULL DEFAULT 0 CHECK (balance >= 0),
            created_at {ts} NOT NULL,
            updated_at {ts} NOT NULL
        )""",
        f"""CREATE TABLE refresh_tokens (
            id TEXT PRIMARY KEY,
            user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
            family_id TEXT NOT NULL,
            token_hash TEXT NOT NULL UNIQUE,
            user_agent TEXT NOT NULL DEFAULT '',
            created_at {ts} NOT NULL,
            expires_at {ts} NOT NULL,
            revoked_at {ts},
            replaced_by TEXT
        )""",
        "CREATE INDEX refresh_tokens_family ON refresh_tokens (family_id)",
        "CREATE INDEX refresh_tokens_user ON refresh_tokens (user_id)",
        f"""CREATE TABLE user_profiles (
            user_id TEXT PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
            data TEXT NOT NULL DEFAULT '{{}}',
            updated_at {ts} NOT NULL
        )""",
        f"""CREATE TABLE chats (
            id TEXT PRIMARY KEY,
            user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
            title TEXT NOT NULL DEFAULT '',
            favorite {boolean} NOT NULL DEFAULT FALSE,
            model TEXT,
            system_prompt TEXT,
            personalize {boolean} NOT NULL DEFAULT TRUE,
            current_message_id TEXT,
            deleted_at {ts},
            created_at {ts} NOT NULL,
            updated_at {ts} NOT NULL
        )""",
        "CREATE INDEX chats_user_activity ON chats (user_id, updated_at DESC, id DESC)",
        """CREATE TABLE chat_tags (
            chat_id TEXT NOT NULL REFERENCES chats(id) ON DELETE CASCADE,
            user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
            tag TEXT NOT NULL,
            position INTEGER NOT NULL DEFAULT 0,
            PRIMARY KEY (chat_id, tag)
        )""",
        "CREATE INDEX chat_tags_user_tag ON chat_tags (user_id, tag)",
        f"""CREATE TABLE messages (
            id TEXT PRIMARY KEY,
            chat_id TEXT NOT NULL REFERENCES chats(id) ON DELETE CASCADE,
            user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
            parent_id TEXT REFERENCES messages(id) ON DELETE CASCADE,
            role TEXT NOT NULL CHECK (role IN ('system', 'user', 'assistant')),
            content TEXT NOT NULL DEFAULT '',
            model TEXT,
            status TEXT NOT NULL DEFAULT 'complete'
                CHECK (status IN ('complete', 'streaming', 'stopped', 'error', 'interrupted')),
            error_code TEXT,
            prompt_tokens INTEGER NOT NULL DEFAULT 0,
            completion_tokens INTEGER NOT NULL DEFAULT 0,
            cost BIGINT NOT NULL DEFAULT 0,
            client_msg_id TEXT,
            created_at {ts} NOT NULL,
            updated_at {ts} NOT NULL
        )""",
        "CREATE INDEX messages_chat_time ON messages (chat_id, created_at, id)",
        "CREATE INDEX messages_parent ON messages (parent_id)",
        """CREATE UNIQUE INDEX messages_client_msg_id ON messages (user_id, client_msg_id)
            WHERE client_msg_id IS NOT NULL""",
        "CREATE INDEX messages_streaming ON messages (status) WHERE status = 'streaming'",
        f"""CREATE TABLE files (
            id TEXT PRIMARY KEY,
            user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
            name TEXT NOT NULL DEFAULT '',
            mime TEXT NOT NULL,
            kind TEXT NOT NULL CHECK (kind IN ('image', 'document')),
            size BIGINT NOT NULL CHECK (size >= 0),
            sha256 TEXT NOT NULL,
            storage_path TEXT NOT NULL,
            created_at {ts} NOT NULL
        )""",
        "CREATE INDEX files_user ON files (user_id, created_at)",
        """CREATE TABLE message_files (
            message_id TEXT NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
            file_id TEXT NOT NULL REFERENCES files(id) ON DELETE CASCADE,
            PRIMARY KEY (message_id, file_id)
        )""",
        f"""CREATE TABLE transactions (
            id TEXT PRIMARY KEY,
            user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
            kind TEXT NOT NULL
                CHECK (kind IN ('deposit', 'usage', 'refund', 'adjustment', 'hold', 'release')),
            amount BIGINT NOT NULL,
            balance_after BIGINT NOT NULL CHECK (balance_after >= 0),
            message_id TEXT REFERENCES messages(id) ON DELETE SET NULL,
            idempotency_key TEXT,
            created_by TEXT,
            note TEXT NOT NULL DEFAULT '',
            created_at {ts} NOT NULL
        )""",
        "CREATE INDEX transactions_user_time ON transactions (user_id, created_at DESC, id DESC)",
        """CREATE UNIQUE INDEX transactions_idempotency ON transactions (user_id, idempotency_key)
            WHERE idempotency_key IS NOT NULL""",
        """CREATE UNIQUE INDEX transactions_usage_once ON transactions (message_id)
            WHERE kind = 'usage' AND message_id IS NOT NULL""",
    ]


SQLITE_SEARCH = [
    # External-content FTS5 indexes kept in step by triggers. After a manual VACUUM (which may
    # renumber rowids) run: INSERT INTO messages_fts(messages_fts) VALUES ('rebuild'); likewise chats_fts.
    """CREATE VIRTUAL TABLE chats_fts USING fts5(
        title, content='chats', content_rowid='rowid', tokenize='unicode61 remove_diacritics 2')""",
    """CREATE TRIGGER chats_fts_ai AFTER INSERT ON chats BEGIN
        INSERT INTO chats_fts(rowid, title) VALUES (new.rowid, new.title); END""",
    """CREATE TRIGGER chats_fts_ad AFTER DELETE ON chats BEGIN
        INSERT INTO chats_fts(chats_fts, rowid, title) VALUES ('delete', old.rowid, old.title); END""",
    """CREATE TRIGGER chats_fts_au AFTER UPDATE OF title ON chats BEGIN
        INSERT INTO chats_fts(chats_fts, rowid, title) VALUES ('delete', old.rowid, old.title);
        INSERT INTO chats_fts(rowid, title) VALUES (new.rowid, new.title); END""",
    """CREATE VIRTUAL TABLE messages_fts USING fts5(
        content, content='messages', content_rowid='rowid', tokenize='unicode61 remove_diacritics 2')""",
    """CREATE TRIGGER messages_fts_ai AFTER INSERT ON messages BEGIN
        INSERT INTO messages_fts(rowid, content) VALUES (new.rowid, new.content); END""",
    """CREATE TRIGGER messages_fts_ad AFTER DELETE ON messages BEGIN
        INSERT INTO messages_fts(messages_fts, rowid, content) VALUES ('delete', old.rowid, old.content); END""",
    """CREATE TRIGGER messages_fts_au AFTER UPDATE OF content ON messages BEGIN
        INSERT INTO messages_fts(messages_fts, rowid, content) VALUES ('delete', old.rowid, old.content);
        INSERT INTO messages_fts(rowid, content) VALUES (new.rowid, new.content); END""",
]

# The 'russian' configuration stems Cyrillic words with the Russian stemmer and ASCII words with
# the English one, so one index serves both languages our users write.
POSTGRES_SEARCH = [
    """ALTER TABLE chats ADD COLUMN search tsvector
        GENERATED ALWAYS AS (to_tsvector('russian', title)) STORED""",
    "CREATE INDEX chats_search ON chats USING GIN (search)",
    """ALTER TABLE messages ADD COLUMN search tsvector
        GENERATED ALWAYS AS (to_tsvector('russian', content)) STORED""",
    "CREATE INDEX messages_search ON messages USING GIN (search)",
]

ALL_TABLES = [
    "transactions", "message_files", "files", "messages", "chat_tags", "chats", "user_profiles",
    "refresh_tokens", "users",
]


def apply(conn):
    sqlite = _is_sqlite(conn)
    statements = _tables("TEXT" if sqlite else "TIMESTAMPTZ", "BOOLEAN")
    statements += SQLITE_SEARCH if sqlite else POSTGRES_SEARCH
    cur = conn.cursor()
    for sql in statements:
        cur.execute(sql)


def rollback(conn):
    cur = conn.cursor()
    if _is_sqlite(conn):
        cur.execute("DROP TABLE IF EXISTS messages_fts")
        cur.execute("DROP TABLE IF EXISTS chats_fts")
    for table in ALL_TABLES:
        cur.execute(f"DROP TABLE IF EXISTS {table}")


steps = [step(apply, rollback)]
