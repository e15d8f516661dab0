"""Billing: orders for credit packs bought from a payment provider, the provider events already
processed, and refunds that may take a balance below zero.

`orders` holds one row per checkout (pending → paid | failed | flagged, paid → reversed): the
amount and currency the provider must confirm, and the micro-credits it buys. `billing_events`
keeps each provider event id once, written in the same transaction that credits, so a webhook
delivered again credits nothing more.

A refund or a dispute takes the bought credits back as a ledger row of its own kind, `reversal`,
even when they are already spent: the only way a balance may go below zero. So the CHECKs that
kept `users.balance` and `transactions.balance_after` at zero or above go, and `transactions.kind`
admits `reversal`. PostgreSQL drops and adds constraints; SQLite cannot alter a CHECK, so its two
tables are rebuilt from their own stored definitions (yoyo's connection leaves foreign keys off,
so dropping the old `users` cascades nothing; references by name follow the renamed table).
"""
from yoyo import step

__depends__ = {"0010_mail_tokens"}

OLD_KINDS = "'deposit', 'usage', 'refund', 'adjustment', 'hold', 'release'"
NEW_KINDS = OLD_KINDS + ", 'reversal'"


def _is_sqlite(conn):
    return type(conn).__module__.startswith("sqlite3")


def _tables(ts):
    return [
        f"""CREATE TABLE orders (
            id TEXT PRIMARY KEY,
            user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
            provider TEXT NOT NULL,
            pack_id TEXT NOT NULL,
            amount BIGINT NOT NULL CHECK (amount > 0),
            currency TEXT NOT NULL,
            credits BIGINT NOT NULL CHECK (credits > 0),
            status TEXT NOT NULL DEFAULT 'pending'
                CHECK (status IN ('pending', 'paid', 'failed', 'flagged', 'reversed')),
            payment_id TEXT,
            charge_ref TEXT,
            receipt_url TEXT,
            flag_reason TEXT NOT NULL DEFAULT '',
            reversed_amount BIGINT NOT NULL DEFAULT 0,
            created_at {ts} NOT NULL,
            updated_at {ts} NOT NULL
        )""",
        "CREATE INDEX orders_user_time ON orders (user_id, created_at DESC, id DESC)",
        "CREATE INDEX orders_pending ON orders (status, created_at) WHERE status = 'pending'",
        """CREATE UNIQUE INDEX orders_payment ON orders (provider, payment_id)
            WHERE payment_id IS NOT NULL""",
        "CREATE INDEX orders_charge ON orders (provider, charge_ref) WHERE charge_ref IS NOT NULL",
        f"""CREATE TABLE billing_events (
            provider TEXT NOT NULL,
            event_id TEXT NOT NULL,
            order_id TEXT,
            created_at {ts} NOT NULL,
            PRIMARY KEY (provider, event_id)
        )""",
    ]


def _rebuild_sqlite(cur, table, replacements):
    """Re-create `table` from its stored CREATE statement with `replacements` applied, keeping
    its rows and indexes (SQLite's documented way to change a constraint)."""
    sql = cur.execute("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?",
                      (table,)).fetchone()[0]
    for old, new in replacements:
        assert old in sql, (table, old)
        sql = sql.replace(old, new)
    indexes = [row[0] for row in cur.execute(
        "SELECT sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ? AND sql IS NOT NULL",
        (table,)).fetchall()]
    columns = ", ".join(row[1] for row in cur.execute(f"PRAGMA table_info({table})").fetchall())
    cur.execute(sql.replace(f"CREATE TABLE {table}", f"CREATE TABLE {table}_new", 1))
    cur.execute(f"INSERT INTO {table}_new ({columns}) SELECT {columns} FROM {table}")
    cur.execute(f"DROP TABLE {table}")
    cur.execute(f"ALTER TABLE {table}_new RENAME TO {table}")
    for index in indexes:
        cur.execute(index)


def apply(conn):
    sqlite = _is_sqlite(conn)
    cur = conn.cursor()
    for sql in _tables("TEXT" if sqlite else "TIMESTAMPTZ"):
        cur.execute(sql)
    if sqlite:
        _rebuild_sqlite(cur, "users", [("CHECK (balance >= 0)", "")])
        _rebuild_sqlite(cur, "transactions", [("CHECK (balance_after >= 0)", ""),
                                              (OLD_KINDS, NEW_KINDS)])
    else:
        cur.execute("ALTER TABLE users DROP CONSTRAINT users_balance_check")
        cur.execute("ALTER TABLE transactions DROP CONSTRAINT transactions_balance_after_check")
        cur.execute("ALTER TABLE transactions DROP CONSTRAINT transactions_kind_check")
        cur.execute(f"ALTER TABLE transactions ADD CONSTRAINT transactions_kind_check "
                    f"CHECK (kind IN ({NEW_KINDS}))")


def rollback(conn):
    cur = conn.cursor()
    cur.execute("DROP TABLE billing_events")
    cur.execute("DROP TABLE orders")
    # The relaxed CHECKs stay: a negative balance written meanwhile would fail the old ones.


steps = [step(apply, rollback)]
