"""The user's profile: values (weighted), beliefs, interests, skills, desires, intentions.

Each category is a list of items `{text, weight, note}`. `profile.update` replaces the categories
it names and leaves the others alone; `profile.analyze` suggests items found in a piece of text and
can merge them in. The profile feeds the system prompt through `personalize` (see persona.py).
"""
from __future__ import annotations

from typing import Any

from protocol import shapes
from protocol.schema import PROFILE_CATEGORIES
from storage import Database, utcnow
from storage import ledger as account_rows
from storage import profiles as profile_rows

from .analyzer import Analyzer
from .events import EventSink
from .persona import render


def merge(current: dict[str, Any], additions: dict[str, list[dict[str, Any]]]) -> dict[str, Any]:
    """Add suggested items to the profile; an item already there (same text, any case) is skipped."""
    merged = {name: list(current.get(name) or []) for name in PROFILE_CATEGORIES}
    for name, items in additions.items():
        known = {item["text"].casefold() for item in merged[name]}
        for item in items:
            if item["text"].casefold() not in known:
                known.add(item["text"].casefold())
                merged[name].append(item)
    return merged


class Profiles:
    def __init__(self, db: Database, events: EventSink, analyzer: Analyzer,
                 prompt_budget_tokens: int = 400, max_items: int = 30) -> None:
        self.db = db
        self.events = events
        self.analyzer = analyzer
        self.prompt_budget_tokens = prompt_budget_tokens
        self.max_items = max_items

    async def get(self, user_id: str) -> dict[str, Any]:
        data, updated_at = await profile_rows.get(self.db, user_id)
        return {"profile": shapes.profile(data, updated_at)}

    async def update(self, user_id: str, **categories: list[dict[str, Any]]) -> dict[str, Any]:
        return await self._write(user_id, lambda current: {**current, **categories})

    async def analyze(self, user_id: str, text: str, apply: bool = False) -> dict[str, Any]:
        suggestions = await self.analyzer.suggest(text)
        if not apply or not any(suggestions.values()):
            result = await self.get(user_id)
            return {"suggestions": suggestions, "applied": False, **result}
        result = await self._write(user_id, lambda current: merge(current, suggestions))
        return {"suggestions": suggestions, "applied": True, **result}

    async def _write(self, user_id: str, change: Any) -> dict[str, Any]:
        """Read-change-write under the user's row lock, so two sockets never lose each other's edit."""
        now = utcnow()
        async with self.db.transaction() as tx:
            await account_rows.lock_account(tx, user_id)
            current, _ = await profile_rows.get(tx, user_id)
            data = {name: items[: self.max_items] for name, items in change(current).items()
                    if name in PROFILE_CATEGORIES}
            await profile_rows.put(tx, user_id, data, now)
        profile = shapes.profile(data, now)
        # "changed, re-fetch": a profile can be tens of KB, and every event is kept for resume
        await self.events.publish(user_id, "profile.updated", {"updated_at": now})
        return {"profile": profile}

    async def personalize(self, user_id: str) -> str | None:
        """The generation's hook: the profile as a system-prompt section, within its token budget."""
        data, _ = await profile_rows.get(self.db.quick, user_id)
        return render(data, self.prompt_budget_tokens)
