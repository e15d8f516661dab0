"""Reaching the real PostgreSQL and Redis the tests need.

Under CI (CI=true) an unreachable service fails the run loudly; elsewhere its tests skip with the
reason, and the SQLite / in-process suite still runs.
"""
from __future__ import annotations

import os
import uuid

import pytest

IN_CI = os.environ.get("CI", "").lower() == "true"
DEFAULT_PG = "postgresql://postgres@127.0.0.1:5432/test"
DEFAULT_REDIS = "redis://127.0.0.1:6379/0"


def unavailable(service: str, reason: str) -> None:
    message = f"{service} unreachable: {reason}"
    if IN_CI:
        pytest.fail(f"{message} (CI=true: these tests must run, not skip)", pytrace=False)
    pytest.skip(message)


def postgres_base_url() -> str:
    url = os.environ.get("TEST_DATABASE_URL", "" if not IN_CI else DEFAULT_PG)
    if not url:
        unavailable("PostgreSQL", "TEST_DATABASE_URL is not set")
    return url


def redis_url() -> str:
    url = os.environ.get("TEST_REDIS_URL", "" if not IN_CI else DEFAULT_REDIS)
    if not url:
        unavailable("Redis", "TEST_REDIS_URL is not set")
    return url




def postgres_admin():
    """An autocommit connection to the test database (fails or skips as above), and its URL."""
    import psycopg2

    base = postgres_base_url()
    try:
        conn = psycopg2.connect(base, connect_timeout=5)
    except psycopg2.OperationalError as exc:
        unavailable("PostgreSQL", str(exc).strip())
    conn.autocommit = True
    return conn, base


def create_schema(conn, base: str, prefix: str = "cw_test") -> tuple[str, str]:
    """A new empty schema; returns (its name, a database URL that uses it)."""
    schema = f"{prefix}_{uuid.uuid4().hex[:10]}"
    with conn.cursor() as cur:
        cur.execute(f"CREATE SCHEMA {schema}")
    return schema, f"{base}{'&' if '?' in base else '?'}schema={schema}"
