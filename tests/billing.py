"""Shared pieces of the billing tests: the packs file, settings pointing at the provider fakes,
and reading what was stored."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from server.web.state import CONTEXT

PACKS = [
    {"id": "starter", "credits": 5, "price": 500, "currency": "usd", "title": "5 credits"},
    {"id": "big", "credits": 50, "price": 4000, "currency": "usd"},
    {"id": "rub", "credits": 10, "price": 49900, "currency": "rub", "title": "10 кредитов"},
]
STARTER = 5_000_000  # micro-credits


def write_packs(directory: Path) -> Path:
    path = directory / "packs.json"
    path.write_text(json.dumps(PACKS))
    return path


def stripe_settings(url: str, packs: Path, **extra: Any) -> dict[str, Any]:
    from tests.fakes.stripe import SECRET_KEY, WEBHOOK_SECRET
    return dict(credit_packs=packs, stripe_secret_key=SECRET_KEY,
                stripe_webhook_secret=WEBHOOK_SECRET, stripe_api_base=url, signup_credits=0,
                **extra)


def yookassa_settings(url: str, packs: Path, **extra: Any) -> dict[str, Any]:
    from tests.fakes.yookassa import SECRET_KEY, SHOP_ID
    return dict(credit_packs=packs, yookassa_shop_id=SHOP_ID, yookassa_secret_key=SECRET_KEY,
                yookassa_api_base=url, signup_credits=0, **extra)


def browser_settings(tmp_path: Path, **overrides: Any) -> Any:
    """The browser tests' server (as tests/web/conftest.py has it), new accounts with no credits."""
    from providers.factory import ProviderSettings
    from server.config import Settings
    values = dict(database_url=f"sqlite:///{tmp_path / 'web.db'}", secret_key="s" * 48,
                  jwt_secret_key="j" * 48, var_dir=tmp_path / "var", upload_dir=tmp_path / "uploads",
                  argon2_time_cost=1, argon2_memory_cost=1024,
                  providers=ProviderSettings(echo_tokens_per_second=40), signup_credits=0,
                  ws_heartbeat_s=5)
    return Settings(**{**values, **overrides})


def db(instance: Any) -> Any:
    return instance.app[CONTEXT].services.db


async def ledger_rows(instance: Any, user_id: str) -> list[tuple[str, int]]:
    rows = await db(instance).fetchall(
        "SELECT kind, amount FROM transactions WHERE user_id = ? ORDER BY created_at, id",
        (user_id,))
    return [(r["kind"], int(r["amount"])) for r in rows]


async def order_row(instance: Any, order_id: str) -> dict[str, Any]:
    row = await db(instance).fetchone("SELECT * FROM orders WHERE id = ?", (order_id,))
    assert row is not None
    return row


async def count(instance: Any, table: str) -> int:
    return int(await db(instance).fetchval(f"SELECT COUNT(*) AS n FROM {table}"))


async def ledger_clean(instance: Any) -> None:
    assert await instance.app[CONTEXT].services.ledger.check() == []
