"""Personal API keys: what the OpenAI-compatible endpoints (`/v1/...`) authenticate with.

A key is `cwk-` and 43 random URL-safe characters (256 bits); it is shown once, in the answer to
`apikey.create`, and stored only as its SHA-256 (like refresh tokens: a leaked table yields no
usable key). People recognise a key by its `prefix` (the first 12 characters). Each request looks
its key up in the database — no cache — so a revoked or expired key stops working on every
instance at once. A key may carry a model allow-list and a monthly cap (micro-credits, per
calendar month in UTC); its calls are charged to its owner's credits like any reply.
"""
from __future__ import annotations

import hashlib
import secrets
import time
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from protocol.errors import AccountDisabled, BadRequest, Conflict, NotFound, Unauthorized
from providers.registry import Model
from storage import Database, new_id, utcnow
from storage import api_keys as key_rows
from storage import ledger as ledger_rows
from storage import users as user_rows
from storage.base import iso

from . import audit
from .events import EventSink

KEY_PREFIX = "cwk-"
SHOWN_CHARS = 12  # of the key, kept and listed so people can tell their keys apart
MAX_KEYS = 20  # live keys per user
MAX_EXPIRY_DAYS = 3650
TOUCH_EVERY_S = 30  # last_used_at is written at most this often per key


def key_hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


@dataclass(frozen=True)
class KeyIdentity:
    """Who a `/v1` request acts for: the key's owner, through the key, within its limits."""

    user_id: str
    key_id: str
    prefix: str
    models: tuple[str, ...] | None
    monthly_cap: int | None

    def may_use(self, model_id: str) -> bool:
        return self.models is None or model_id in self.models


def month_start(now: datetime | None = None) -> str:
    now = now or datetime.now(timezone.utc)
    return iso(now.replace(day=1, hour=0, minute=0, second=0, microsecond=0))


def _expiry(value: str | None) -> str | None:
    if value is None:
        return None
    try:
        when = datetime.fromisoformat(value.strip())
    except ValueError:
        raise BadRequest("expires_at must be an ISO 8601 time, e.g. 2027-01-31T00:00:00Z",
                         field="expires_at") from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    now = datetime.now(timezone.utc)
    if when <= now:
        raise BadRequest("expires_at must be in the future", field="expires_at")
    if when > now + timedelta(days=MAX_EXPIRY_DAYS):
        raise BadRequest(f"expires_at must be within {MAX_EXPIRY_DAYS} days",
                         field="expires_at")
    return iso(when)


class Recently:
    """Keys this process recorded a use of in the last `seconds`: a request in between need not
    ask the database to write `last_used_at` (which it would refuse, being recent anyway)."""

    def __init__(self, seconds: float, most: int = 10_000) -> None:
        self.seconds = seconds
        self.most = most
        self._at: dict[str, float] = {}

    def due(self, key_id: str) -> bool:
        now = time.monotonic()
        if now - self._at.get(key_id, -self.seconds) < self.seconds:
            return False
        if len(self._at) >= self.most:  # forget the stale ones; at worst a key is written again
            self._at = {k: t for k, t in self._at.items() if now - t < self.seconds}
        self._at[key_id] = now
        return True


class ApiKeys:
    def __init__(self, db: Database, events: EventSink, models: dict[str, Model]) -> None:
        self.db = db
        self.events = events
        self.models = models
        self._touched = Recently(TOUCH_EVERY_S)

    async def create(self, user_id: str, name: str, expires_at: str | None = None,
                     models: list[str] | None = None,
                     monthly_cap: int | None = None) -> dict[str, Any]:
        """A new key: `{key, api_key}`. The key is in this answer only."""
        await self._enabled(user_id)
        expiry = _expiry(expires_at)
        if models is not None:
            if not models:
                raise BadRequest("models must name at least one model (leave it out for all)",
                                 field="models")
            unknown = [m for m in models if m not in self.models]
            if unknown:
                raise BadRequest(f"unknown model(s): {', '.join(unknown)}; models.list names "
                                 "the available ones", field="models")
        key = KEY_PREFIX + secrets.token_urlsafe(32)
        now = utcnow()
        async with self.db.transaction() as tx:
            if await ledger_rows.lock_account(tx, user_id) is None:  # also: one create at a time
                raise Unauthorized("this account no longer exists")
            if await key_rows.count_live(tx, user_id, now) >= MAX_KEYS:
                raise Conflict(f"at most {MAX_KEYS} API keys per account; revoke one first",
                               limit=MAX_KEYS)
            row = await key_rows.insert(tx, id=new_id(), user_id=user_id, name=name,
                                        prefix=key[:SHOWN_CHARS], key_hash=key_hash(key),
                                        models=models, monthly_cap=monthly_cap,
                                        expires_at=expiry, now=now)
        api_key = key_rows.public(row)
        await self.events.publish(user_id, "apikey.created", {"api_key": api_key})
        return {"key": key, "api_key": api_key}

    async def list(self, user_id: str) -> dict[str, Any]:
        rows = await key_rows.list_for(self.db, user_id)
        return {"api_keys": [key_rows.public(r) for r in rows], "next_cursor": None}

    async def revoke(self, user_id: str, api_key_id: str) -> dict[str, Any]:
        row = await key_rows.revoke(self.db, api_key_id, utcnow(), user_id=user_id)
        if row is None:
            raise NotFound(f"API key {api_key_id} does not exist", api_key_id=api_key_id)
        return {"api_key": (await self._revoked(row))["api_key"]}

    # -- an admin's view --

    async def list_any(self, user_id: str) -> dict[str, Any]:
        """Every key of a user, revoked ones too (admin)."""
        rows = await key_rows.list_for(self.db, user_id, revoked=True)
        return {"api_keys": [key_rows.public(r) for r in rows], "next_cursor": None}

    async def revoke_any(self, api_key_id: str, actor: audit.Actor) -> dict[str, Any]:
        """An admin revokes anyone's key; the audit log has it, in the same transaction."""
        async with self.db.transaction() as tx:
            row = await key_rows.revoke(tx, api_key_id, utcnow())
            if row is None:
                raise NotFound(f"API key {api_key_id} does not exist or is already revoked",
                               api_key_id=api_key_id)
            public = key_rows.public(row)
            await audit.record(tx, actor, "apikey.revoke", row["user_id"],
                               {**public, "revoked_at": None}, public)
        return await self._revoked(row)

    async def _enabled(self, user_id: str) -> None:
        user = await user_rows.get(self.db, user_id)
        if user is not None and user.get("disabled_at"):
            raise AccountDisabled("this account is disabled; its API keys do not work")

    async def _revoked(self, row: dict[str, Any]) -> dict[str, Any]:
        api_key = key_rows.public(row)
        await self.events.publish(row["user_id"], "apikey.revoked", {"api_key_id": row["id"]})
        return {"api_key": api_key, "user_id": row["user_id"]}

    # -- authenticating /v1 --

    async def authenticate(self, key: str) -> KeyIdentity:
        """The live key's identity; `unauthorized` for anything else. Records the use."""
        if not key.startswith(KEY_PREFIX) or len(key) > 200:
            raise Unauthorized("invalid API key")
        now = datetime.now(timezone.utc)
        row = await key_rows.live_by_hash(self.db.quick, key_hash(key), iso(now))
        if row is None:
            raise Unauthorized("invalid API key: it is unknown, revoked or expired")
        if row["owner_disabled_at"]:
            raise AccountDisabled("this account is disabled; its API keys do not work")
        if self._touched.due(row["id"]):
            await key_rows.touch(self.db.quick, row["id"], iso(now),
                                 iso(now - timedelta(seconds=TOUCH_EVERY_S)))
        models = tuple(row["models"]) if row["models"] is not None else None
        cap = int(row["monthly_cap"]) if row["monthly_cap"] is not None else None
        return KeyIdentity(row["user_id"], row["id"], row["prefix"], models, cap)
