"""Credit packs in the database, so the operator edits them in the console without a restart:
seeded from the CREDIT_PACKS file (each start adds the packs the table lacks, never overwrites),
edited through /api/v1/admin/packs. An order copies its pack's price, so editing a pack never
touches an order already made."""
from yoyo import step

__depends__ = {"0015_usage_analytics"}


def _is_sqlite(conn):
    return type(conn).__module__.startswith("sqlite3")


def apply(conn):
    ts = "TEXT" if _is_sqlite(conn) else "TIMESTAMPTZ"
    conn.cursor().execute(f"""CREATE TABLE credit_packs (
        id TEXT PRIMARY KEY,
        title TEXT NOT NULL,
        price BIGINT NOT NULL CHECK (price > 0),
        currency TEXT NOT NULL,
        credits BIGINT NOT NULL CHECK (credits > 0),
        enabled BOOLEAN NOT NULL DEFAULT TRUE,
        position INTEGER NOT NULL DEFAULT 0,
        created_at {ts} NOT NULL,
        updated_at {ts} NOT NULL
    )""")


def rollback(conn):
    conn.cursor().execute("DROP TABLE credit_packs")


steps = [step(apply, rollback)]
