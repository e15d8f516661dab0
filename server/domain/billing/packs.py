"""Credit packs the operator sells, as the JSON file CREDIT_PACKS states them (the file seeds the
`credit_packs` table; the console edits the table: pack_catalogue.py).

`[{"id": "starter", "credits": 100, "price": 500, "currency": "usd", "title"?: "..."}]`:
`credits` in credits (up to 6 decimals), `price` in the currency's minor unit (cents, kopecks).
A malformed file stops the server at start-up rather than sell the wrong thing.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

MICRO = 1_000_000


class PacksError(ValueError):
    """CREDIT_PACKS cannot be sold from; the message says which pack and why."""


@dataclass(frozen=True)
class Pack:
    id: str
    credits: int  # micro-credits
    price: int  # minor units
    currency: str  # lower case ISO 4217
    title: str
    enabled: bool = True

    def view(self, providers: list[str]) -> dict[str, Any]:
        return {"id": self.id, "title": self.title, "credits": self.credits, "price": self.price,
                "currency": self.currency, "providers": providers}


def _pack(item: Any, where: str) -> Pack:
    if not isinstance(item, dict):
        raise PacksError(f"{where}: each pack is an object")
    pid = item.get("id")
    if not isinstance(pid, str) or not 1 <= len(pid) <= 64:
        raise PacksError(f"{where}: `id` must be a string of 1 to 64 characters")
    try:
        credits = Decimal(str(item.get("credits"))) * MICRO
    except InvalidOperation:
        raise PacksError(f"pack {pid}: `credits` must be a number") from None
    if credits <= 0 or credits != credits.to_integral_value():
        raise PacksError(f"pack {pid}: `credits` must be positive, at most 6 decimals")
    price = item.get("price")
    if not isinstance(price, int) or isinstance(price, bool) or price <= 0:
        raise PacksError(f"pack {pid}: `price` must be a positive integer in minor units")
    currency = item.get("currency")
    if not isinstance(currency, str) or len(currency) != 3 or not currency.isalpha():
        raise PacksError(f"pack {pid}: `currency` must be a three-letter code like usd or rub")
    title = item.get("title") or default_title(int(credits))
    return Pack(pid, int(credits), price, currency.lower(), str(title)[:100])


def default_title(credits: int) -> str:
    """"5 credits", "2.5 credits" for a pack given no title (`credits` in micro-credits)."""
    amount = f"{Decimal(credits) / MICRO:f}"
    amount = amount.rstrip("0").rstrip(".") if "." in amount else amount
    return f"{amount} credits"


def load_packs(path: Path | None) -> dict[str, Pack]:
    if path is None:
        return {}
    try:
        items = json.loads(Path(path).read_text())
    except (OSError, ValueError) as exc:
        raise PacksError(f"CREDIT_PACKS={path}: {exc}") from None
    if not isinstance(items, list) or not items:
        raise PacksError(f"CREDIT_PACKS={path}: a non-empty JSON list of packs")
    packs: dict[str, Pack] = {}
    for n, item in enumerate(items):
        pack = _pack(item, f"CREDIT_PACKS item {n}")
        if pack.id in packs:
            raise PacksError(f"pack {pack.id} is listed twice")
        packs[pack.id] = pack
    return packs
