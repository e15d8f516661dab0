"""Links sent by mail: password resets and email verification.

`mail_tokens` keeps only a SHA-256 of each token (a database leak yields no usable link), the
purpose it was made for, the email it was sent to (a link is void once the account's address
changes), and when it expires and was used (single use). `users.email_verified_at` is set when a
verification link (or a reset link, which proves the same mailbox) is followed. Accounts that
existed before this migration count as verified: turning REQUIRE_EMAIL_VERIFICATION on later must
not lock out people who were never sent a link.
"""
from yoyo import step

__depends__ = {"0009_shares"}


def _is_sqlite(conn):
    return type(conn).__module__.startswith("sqlite3")


def apply(conn):
    ts = "TEXT" if _is_sqlite(conn) else "TIMESTAMPTZ"
    cur = conn.cursor()
    cur.execute(f"ALTER TABLE users ADD COLUMN email_verified_at {ts}")
    cur.execute("UPDATE users SET email_verified_at = created_at")
    cur.execute(f"""CREATE TABLE mail_tokens (
        id TEXT PRIMARY KEY,
        user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        purpose TEXT NOT NULL CHECK (purpose IN ('reset', 'verify')),
        token_hash TEXT NOT NULL UNIQUE,
        email_key TEXT NOT NULL,
        created_at {ts} NOT NULL,
        expires_at {ts} NOT NULL,
        used_at {ts}
    )""")
    cur.execute("CREATE INDEX mail_tokens_user ON mail_tokens (user_id, purpose)")


def rollback(conn):
    cur = conn.cursor()
    cur.execute("DROP TABLE mail_tokens")
    cur.execute("ALTER TABLE users DROP COLUMN email_verified_at")


steps = [step(apply, rollback)]
