"""Reservations for replies in flight.

`users.reserved` is the sum of the user's open holds; available = balance - reserved. A hold is not
money moving, so it is not a ledger row: the balance changes only with `transactions` rows, and
sum(transactions.amount) = users.balance for every user, always.
"""
from yoyo import step

__depends__ = {"0002_generation_instance"}


def _is_sqlite(conn):
    return type(conn).__module__.startswith("sqlite3")


def apply(conn):
    ts = "TEXT" if _is_sqlite(conn) else "TIMESTAMPTZ"
    cur = conn.cursor()
    cur.execute("ALTER TABLE users ADD COLUMN reserved BIGINT NOT NULL DEFAULT 0 CHECK (reserved >= 0)")
    # Not a foreign key: a hold must outlive its message (a purged chat) until it is settled.
    cur.execute(f"""CREATE TABLE holds (
        message_id TEXT PRIMARY KEY,
        user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        amount BIGINT NOT NULL CHECK (amount >= 0),
        created_at {ts} NOT NULL
    )""")
    cur.execute("CREATE INDEX holds_user ON holds (user_id)")


def rollback(conn):
    cur = conn.cursor()
    cur.execute("DROP TABLE holds")
    cur.execute("ALTER TABLE users DROP COLUMN reserved")


steps = [step(apply, rollback)]
