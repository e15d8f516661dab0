"""The operator's console: disabled accounts, spend caps, and the audit log.

`users.disabled_at` is set while an account is disabled (log-in, refresh and every token refused;
nothing of theirs is removed). `daily_cap` / `monthly_cap` are micro-credits a user may spend per
UTC day / month (NULL: no cap). `audit_log` is append-only: the product writes a row in the same
transaction as each admin change and has no way to change or delete one. Actor and target are
plain ids (no foreign key): the record outlives the accounts it names.
"""
from yoyo import step

__depends__ = {"0012_api_keys"}


def _is_sqlite(conn):
    return type(conn).__module__.startswith("sqlite3")


def apply(conn):
    sqlite = _is_sqlite(conn)
    ts = "TEXT" if sqlite else "TIMESTAMPTZ"
    cur = conn.cursor()
    cur.execute(f"ALTER TABLE users ADD COLUMN disabled_at {ts}")
    cur.execute("ALTER TABLE users ADD COLUMN daily_cap BIGINT CHECK (daily_cap >= 0)")
    cur.execute("ALTER TABLE users ADD COLUMN monthly_cap BIGINT CHECK (monthly_cap >= 0)")
    cur.execute(f"""CREATE TABLE audit_log (
        id TEXT PRIMARY KEY,
        actor_id TEXT,
        actor_email TEXT NOT NULL DEFAULT '',
        action TEXT NOT NULL,
        target_id TEXT,
        before TEXT,
        after TEXT,
        address TEXT NOT NULL DEFAULT '',
        created_at {ts} NOT NULL
    )""")
    cur.execute("CREATE INDEX audit_log_time ON audit_log (created_at DESC, id DESC)")
    cur.execute("CREATE INDEX audit_log_actor ON audit_log (actor_id, created_at DESC)")
    cur.execute("CREATE INDEX audit_log_action ON audit_log (action, created_at DESC)")


def rollback(conn):
    cur = conn.cursor()
    cur.execute("DROP TABLE audit_log")
    for column in ("monthly_cap", "daily_cap", "disabled_at"):
        cur.execute(f"ALTER TABLE users DROP COLUMN {column}")


steps = [step(apply, rollback)]
