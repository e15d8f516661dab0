"""Shared fixtures: a real database per test (SQLite file and PostgreSQL schema), a real server on
loopback, users, and WebSocket clients."""
from __future__ import annotations

import shutil
from dataclasses import replace
from pathlib import Path
from typing import Any, Awaitable, Callable

import pytest
import redis as sync_redis

from providers.factory import ProviderSettings
from server.config import Settings
from server.web import create_app
from storage.migrate import apply_migrations
from tests import services
from tests.client import WSClient
from tests.helpers import open_socket, register, vendor_providers

APP_TABLES = ("credit_packs", "billing_events", "orders", "holds", "models", "transactions", "message_files", "files",
              "messages", "chat_tags", "chats", "folders", "shares", "mail_tokens", "api_keys",
              "user_profiles", "refresh_tokens", "users", "audit_log",
              "usage_days_done", "usage_model_days", "usage_spend_days", "usage_user_days",
              "usage_wait_days", "usage_spans_done", "usage_user_spans")


# -- databases ------------------------------------------------------------------------------

@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite file, copied per test: migrating once keeps the suite fast."""
    path = tmp_path_factory.mktemp("template") / "template.db"
    apply_migrations(f"sqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def postgres_schema_url() -> Any:
    """A fresh schema in the test database, migrated once, dropped at the end of the run."""
    conn, base = services.postgres_admin()
    schema, url = services.create_schema(conn, base)
    apply_migrations(url)
    yield url, conn, schema
    with conn.cursor() as cur:
        cur.execute(f"DROP SCHEMA {schema} CASCADE")
    conn.close()


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Every scenario that touches storage runs on both engines."""
    if request.param == "sqlite":
        path = tmp_path / "chatwire.db"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        return f"sqlite:///{path}"
    url, conn, schema = request.getfixturevalue("postgres_schema_url")
    with conn.cursor() as cur:
        cur.execute(f"SET search_path TO {schema}")
        cur.execute(f"TRUNCATE {', '.join(APP_TABLES)} CASCADE")
    return url


@pytest.fixture
def redis_url() -> str:
    url = services.redis_url()
    try:
        sync_redis.Redis.from_url(url, socket_connect_timeout=3).ping()
    except sync_redis.RedisError as exc:
        services.unavailable("Redis", str(exc))
    return url


# -- the server -----------------------------------------------------------------------------

@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return Settings(
        database_url=database_url,
        secret_key="s" * 48,
        jwt_secret_key="j" * 48,
        var_dir=tmp_path / "var",
        upload_dir=tmp_path / "uploads",
        ws_auth_timeout_s=1.0,
        # argon2id still, at a cost that keeps a hundred sign-ups quick.
        argon2_time_cost=1,
        argon2_memory_cost=1024,
        migrate_on_start=False,
        db_pool_size=5,
        providers=ProviderSettings(echo_tokens_per_second=0),
        signup_credits=100_000_000,  # 100 credits; the ledger's own tests set exact amounts
        # Scenarios sign up and send far faster than people; the limits' own tests set them.
        rate_send_per_minute=0, rate_uploads_per_hour=0, rate_auth_per_minute=0,
        rate_write_per_minute=0, rate_analyze_per_hour=0,
    )


@pytest.fixture
async def client(aiohttp_client: Any, settings: Settings) -> Any:
    return await aiohttp_client(create_app(settings))


@pytest.fixture
def make_client(aiohttp_client: Any, settings: Settings) -> Callable[..., Awaitable[Any]]:
    """Another server instance on the same database (and optionally Redis)."""
    async def make(**overrides: Any) -> Any:
        return await aiohttp_client(create_app(replace(settings, **overrides)))
    return make


# -- people ---------------------------------------------------------------------------------

@pytest.fixture
async def alice(client: Any) -> dict[str, Any]:
    return await register(client, "alice@example.com", display_name="Alice")


@pytest.fixture
async def bob(client: Any) -> dict[str, Any]:
    return await register(client, "bob@example.com", display_name="Bob")


@pytest.fixture
def alice_on() -> Callable[..., Awaitable[dict[str, Any]]]:
    """Sign Alice up on a particular server instance."""
    async def sign_up(instance: Any) -> dict[str, Any]:
        return await register(instance, "alice@example.com", display_name="Alice")
    return sign_up


@pytest.fixture
def connect(client: Any) -> Callable[..., Awaitable[WSClient]]:
    """Open an authenticated socket (bearer header) and consume its `hello`."""
    async def connect_as(user: dict[str, Any], on: Any = None) -> WSClient:
        return await open_socket(on or client, user)
    return connect_as


# -- model vendors ------------------------------------------------------------------------

@pytest.fixture
async def vendor(aiohttp_server: Any) -> Any:
    """One local server speaking all three vendors' wire formats."""
    from tests.fakes.vendors import FakeVendor
    fake = FakeVendor()
    server = await aiohttp_server(fake.app)
    fake.url = str(server.make_url("")).rstrip("/")
    return fake


@pytest.fixture
async def vendored(make_client: Callable[..., Awaitable[Any]], vendor: Any) -> Any:
    """A server instance whose vendors are all the fake one."""
    return await make_client(providers=vendor_providers(vendor.url))


@pytest.fixture
def mailbox() -> Any:
    """A real local SMTP server (aiosmtpd) keeping what it receives. Request it before the servers
    that mail it, so it stops after them: a mail still on its way when a test ends is delivered, or
    given up by the server's own shutdown, rather than cut off mid-conversation here."""
    from tests.fakes.smtp import Mailbox
    box = Mailbox().start()
    yield box
    box.stop()


# -- payment providers ------------------------------------------------------------------------

@pytest.fixture
def packs_file(tmp_path: Path) -> Path:
    from tests.billing import write_packs
    return write_packs(tmp_path)


@pytest.fixture
async def stripe_api(aiohttp_server: Any) -> Any:
    """A local server speaking Stripe's API (tests/fakes/stripe.py)."""
    from tests.fakes.stripe import FakeStripe
    fake = FakeStripe()
    server = await aiohttp_server(fake.app)
    fake.url = str(server.make_url("")).rstrip("/")
    return fake


@pytest.fixture
async def stripe_billed(make_client: Callable[..., Awaitable[Any]], stripe_api: Any,
                        packs_file: Path) -> Any:
    """A server instance selling packs through the fake Stripe, its webhooks pointed back here."""
    from tests.billing import stripe_settings
    instance = await make_client(**stripe_settings(stripe_api.url, packs_file))
    stripe_api.webhook_url = str(instance.make_url("/api/v1/billing/webhooks/stripe"))
    return instance


@pytest.fixture
async def yookassa_api(aiohttp_server: Any) -> Any:
    """A local server speaking YooKassa's API (tests/fakes/yookassa.py)."""
    from tests.fakes.yookassa import FakeYooKassa
    fake = FakeYooKassa()
    server = await aiohttp_server(fake.app)
    fake.url = str(server.make_url("")).rstrip("/")
    return fake


@pytest.fixture
async def yookassa_billed(make_client: Callable[..., Awaitable[Any]], yookassa_api: Any,
                          packs_file: Path) -> Any:
    from tests.billing import yookassa_settings
    instance = await make_client(**yookassa_settings(yookassa_api.api, packs_file))
    yookassa_api.webhook_url = str(instance.make_url("/api/v1/billing/webhooks/yookassa"))
    return instance


def pytest_terminal_summary(terminalreporter):
    from tests.frame_schema import checked

    if any(checked.values()):
        terminalreporter.write_line(
            f"frame schema: {checked['received']} received and {checked['sent']} accepted frames "
            f"matched docs/frames.schema.json")
