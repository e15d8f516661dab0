"""Migrations: two instances starting together apply each migration once, on both engines."""
import threading
import pytest
from yoyo import get_backend, read_migrations

from storage.migrate import MIGRATIONS_DIR, apply_migrations, yoyo_url
from tests import services


@pytest.fixture(params=["sqlite", "postgres"])
def fresh_url(request, tmp_path):
    """A factory of empty databases (the race is intermittent, so the test tries several)."""
    if request.param == "sqlite":
        names = iter(range(1000))
        yield lambda: f"sqlite:///{tmp_path / f'fresh{next(names)}.db'}"
        return
    conn, base = services.postgres_admin()
    schemas = []

    def make():
        schema, url = services.create_schema(conn, base, prefix="cw_mig")
        schemas.append(schema)
        return url
    yield make
    for schema in schemas:
        conn.cursor().execute(f"DROP SCHEMA {schema} CASCADE")
    conn.close()


def race(url):
    results, errors = [], []

    def start_instance():
        try:
            results.append(apply_migrations(url))
        except Exception as exc:  # noqa: BLE001 - collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=start_instance) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    return results, errors


def test_instances_migrating_at_once_apply_everything_exactly_once(fresh_url):
    every = sorted(p.stem for p in MIGRATIONS_DIR.glob("0*.py"))
    for _ in range(8):
        url = fresh_url()
        results, errors = race(url)
        assert errors == []
        # one instance applied them all; the other found nothing left to do
        assert sorted(sum(results, [])) == every
        assert apply_migrations(url) == []


def test_0017_counts_each_day_closed_before_it(fresh_url):
    """Days rolled up before migration 0017 get their active users (users with a reply that
    day; a charge alone is not activity) from their `usage_user_days` rows."""
    url = fresh_url()
    backend = get_backend(yoyo_url(url))
    migrations = read_migrations(str(MIGRATIONS_DIR))
    with backend.lock(timeout=60):
        backend.apply_migrations(backend.to_apply(
            migrations.filter(lambda m: m.id < "0017")))
    with backend.transaction():
        cur = backend.connection.cursor()
        cur.execute("INSERT INTO usage_days_done (day) VALUES ('2026-11-01'), ('2026-11-02')")
        cur.execute("""INSERT INTO usage_user_days (day, user_id, replies, charges, cost) VALUES
                       ('2026-11-01', 'a', 3, 3, 30), ('2026-11-01', 'b', 1, 1, 5),
                       ('2026-11-01', 'c', 0, 1, 2), ('2026-11-03', 'a', 1, 1, 1)""")
    backend.connection.close()
    assert apply_migrations(url)[0] == "0017_usage_user_spans"
    backend = get_backend(yoyo_url(url))
    cur = backend.connection.cursor()
    cur.execute("SELECT day, active_users FROM usage_days_done ORDER BY day")
    assert [tuple(r) for r in cur.fetchall()] == [("2026-11-01", 2), ("2026-11-02", 0)]
    backend.connection.close()
