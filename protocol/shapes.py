"""What clients see of stored rows: the wire shapes of users, messages, files and profiles.

Storage returns rows as the database has them; these pick and name what goes on the wire, so a
column added for the server's own use (the generating instance, the owner) never leaks into a frame.
Pure: dicts in, dicts out.
"""
from __future__ import annotations

from typing import Any, Iterable, Mapping

from .schema import PROFILE_CATEGORIES

Row = Mapping[str, Any]

USER_PUBLIC = ("id", "email", "display_name", "default_model", "role", "balance",
               "created_at")  # never the hash
MESSAGE_PRIVATE = ("user_id", "generation_instance")  # columns that are the server's business
FILE_PUBLIC = ("id", "name", "mime", "kind", "size", "sha256", "created_at")
ATTACHMENT = ("id", "name", "kind", "mime", "size")  # what a message shows of its attachments


def message(row: Row, sibling_ids: list[str] | None = None) -> dict[str, Any]:
    """A message as events and replies carry it; `sibling_ids` lets a client offer ‹ 2/3 ›."""
    out = {key: value for key, value in row.items() if key not in MESSAGE_PRIVATE}
    out.setdefault("files", [])
    if sibling_ids is not None:
        out["sibling_ids"] = sibling_ids
    return out


def file(row: Row) -> dict[str, Any]:
    return {key: row[key] for key in FILE_PUBLIC}


def attachments(rows: Iterable[Row]) -> list[dict[str, Any]]:
    return [{key: row[key] for key in ATTACHMENT} for row in rows]


def user(row: Row) -> dict[str, Any]:
    """`email_verified`: whether the address was proven by a mailed link (a row read without the
    column, e.g. from an older query, counts as verified)."""
    shaped = {key: row[key] for key in USER_PUBLIC}
    shaped["email_verified"] = row.get("email_verified_at", "") is not None
    return shaped


def profile(data: Mapping[str, Any], updated_at: str | None) -> dict[str, Any]:
    """Every category, empty ones too, and when the profile last changed."""
    shaped: dict[str, Any] = {name: list(data.get(name) or []) for name in PROFILE_CATEGORIES}
    shaped["updated_at"] = updated_at
    return shaped


def credits(micro: int) -> str:
    """Micro-credits as a person reads them, in credits: 1234 → "0.001234", 2_500_000 → "2.5"."""
    sign = "-" if micro < 0 else ""
    whole, part = divmod(abs(micro), 1_000_000)
    return f"{sign}{whole}.{part:06d}".rstrip("0").rstrip(".")
