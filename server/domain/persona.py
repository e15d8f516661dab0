"""The profile as a section of the system prompt.

Template (documented in README "Personalisation"):

    About the user (from their profile; use it to tailor your answers, do not recite it):
    - Values, most important first: honesty (0.9), family (0.8)
    - Beliefs: …
    - Interests: …   - Skills: …   - Desires: …   - Intentions: …

Items are added most-weighted first, category by category, until the token budget is spent: a long
profile is cut, never the conversation.
"""
from __future__ import annotations

from typing import Any

from protocol.schema import PROFILE_CATEGORIES
from providers.tokens import estimate

HEADER = "About the user (from their profile; use it to tailor your answers, do not recite it):"
LABELS = {
    "values": "Values, most important first",
    "beliefs": "Beliefs",
    "interests": "Interests",
    "skills": "Skills",
    "desires": "Desires",
    "intentions": "Intentions",
}


def _weight(item: dict[str, Any]) -> float:
    weight = item.get("weight")
    return 0.5 if weight is None else float(weight)


def _phrase(item: dict[str, Any]) -> str:
    text = item["text"]
    if item.get("weight") is not None:
        text += f" ({item['weight']:g})"
    if item.get("note"):
        text += f" — {item['note']}"
    return text


def render(data: dict[str, Any], budget_tokens: int) -> str | None:
    """The section, or None for an empty profile. Never more than `budget_tokens` (estimated)."""
    used = estimate(HEADER)
    lines: list[str] = []
    for name in PROFILE_CATEGORIES:
        items = sorted(data.get(name) or [], key=_weight, reverse=True)  # stable: ties keep order
        kept: list[str] = []
        prefix = f"- {LABELS[name]}: "
        for item in items:
            phrase = _phrase(item)
            cost = estimate(phrase + ", ") + (estimate(prefix) if not kept else 0)
            if used + cost > budget_tokens:
                break
            used += cost
            kept.append(phrase)
        if kept:
            lines.append(prefix + ", ".join(kept))
    if not lines:
        return None
    return "\n".join([HEADER, *lines])
