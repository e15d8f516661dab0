"""Migration 0010: accounts from before it count as verified; new rows keep what they are given."""
import sqlite3

from yoyo import get_backend, read_migrations

from storage.migrate import MIGRATIONS_DIR, apply_migrations


def test_accounts_that_existed_before_the_migration_count_as_verified(tmp_path):
    url = f"sqlite:///{tmp_path / 'old.db'}"
    backend = get_backend(url)
    migrations = read_migrations(str(MIGRATIONS_DIR))
    with backend.lock():
        backend.apply_migrations(backend.to_apply(
            migrations.filter(lambda m: m.id < "0010")))
    backend.connection.close()
    with sqlite3.connect(tmp_path / "old.db") as db:
        db.execute("INSERT INTO users (id, email, email_key, password_hash, created_at, updated_at)"
                   " VALUES ('u1', 'old@example.com', 'old@example.com', 'x',"
                   " '2026-01-01T00:00:00.000000Z', '2026-01-01T00:00:00.000000Z')")
    assert "0010_mail_tokens" in apply_migrations(url)
    with sqlite3.connect(tmp_path / "old.db") as db:
        verified = db.execute("SELECT email_verified_at FROM users WHERE id = 'u1'").fetchone()
        assert verified == ("2026-01-01T00:00:00.000000Z",)
        assert db.execute("SELECT COUNT(*) FROM mail_tokens").fetchone() == (0,)
