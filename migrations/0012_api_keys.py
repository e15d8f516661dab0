"""Personal API keys for the OpenAI-compatible endpoints (`/v1/...`).

`api_keys` keeps only a SHA-256 of each key (a database leak yields no usable key) and the first
characters people recognise it by (`prefix`); a key is live until `revoked_at` is set or
`expires_at` passes. `models` is the allow-list (JSON, NULL: every model), `monthly_cap` the most
the key may spend in a calendar month (UTC, micro-credits, NULL: no cap). `transactions.api_key_id`
names the key a usage row was charged through, which is how a key's month is summed.
"""
from yoyo import step

__depends__ = {"0011_billing"}


def _is_sqlite(conn):
    return type(conn).__module__.startswith("sqlite3")


def apply(conn):
    ts = "TEXT" if _is_sqlite(conn) else "TIMESTAMPTZ"
    cur = conn.cursor()
    cur.execute(f"""CREATE TABLE api_keys (
        id TEXT PRIMARY KEY,
        user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        name TEXT NOT NULL,
        prefix TEXT NOT NULL,
        key_hash TEXT NOT NULL UNIQUE,
        models TEXT,
        monthly_cap BIGINT,
        created_at {ts} NOT NULL,
        expires_at {ts},
        last_used_at {ts},
        revoked_at {ts}
    )""")
    cur.execute("CREATE INDEX api_keys_user ON api_keys (user_id, created_at)")
    cur.execute("ALTER TABLE transactions ADD COLUMN api_key_id TEXT")
    cur.execute("CREATE INDEX transactions_api_key ON transactions (api_key_id, created_at)")


def rollback(conn):
    cur = conn.cursor()
    cur.execute("DROP INDEX transactions_api_key")
    cur.execute("ALTER TABLE transactions DROP COLUMN api_key_id")
    cur.execute("DROP TABLE api_keys")


steps = [step(apply, rollback)]
