"""The model catalogue in the database, so admins change models and prices at runtime: seeded
from providers/models.json (or MODELS_FILE) on the first start, edited through
/api/v1/admin/models, read back by every instance when the broker says it changed."""
from yoyo import step

__depends__ = {"0013_admin_console"}


def _is_sqlite(conn):
    return type(conn).__module__.startswith("sqlite3")


def apply(conn):
    ts = "TEXT" if _is_sqlite(conn) else "TIMESTAMPTZ"
    conn.cursor().execute(f"""CREATE TABLE models (
        id TEXT PRIMARY KEY,
        provider TEXT NOT NULL,
        upstream TEXT NOT NULL,
        name TEXT NOT NULL DEFAULT '',
        input_price BIGINT NOT NULL CHECK (input_price >= 0),
        output_price BIGINT NOT NULL CHECK (output_price >= 0),
        cached_input_price BIGINT CHECK (cached_input_price >= 0),
        cache_write_price BIGINT CHECK (cache_write_price >= 0),
        context_window INTEGER NOT NULL CHECK (context_window > 0),
        max_output_tokens INTEGER NOT NULL CHECK (max_output_tokens > 0),
        vision BOOLEAN NOT NULL DEFAULT FALSE,
        enabled BOOLEAN NOT NULL DEFAULT TRUE,
        position INTEGER NOT NULL DEFAULT 0,
        created_at {ts} NOT NULL,
        updated_at {ts} NOT NULL
    )""")


def rollback(conn):
    conn.cursor().execute("DROP TABLE models")


steps = [step(apply, rollback)]
