"""Migrations: two instances starting together apply each migration once, on both engines."""
import threading
import pytest

from storage.migrate import MIGRATIONS_DIR, apply_migrations
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
