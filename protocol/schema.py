"""Declarative shapes of every request the server accepts, and the one validator for them.

Kept as data so the same table drives validation, the protocol document test and the REST bodies.
A field that is not declared is refused: a misspelt `titel` must not be silently ignored.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .errors import BadRequest

_MISSING = object()


@dataclass(frozen=True)
class Field:
    kind: str  # "str" | "int" | "bool" | "str_list" | "items" | "weight"
    required: bool = False
    nullable: bool = False
    min_len: int = 0
    max_len: int = 10_000
    min_value: int | None = None
    max_value: int | None = None
    max_items: int = 0
    default: Any = None
    strip: bool = False
    not_blank: bool = False  # kept as sent (leading spaces can matter), but not whitespace alone


def Str(max_len: int, *, required: bool = False, nullable: bool = False, min_len: int = 0,
        strip: bool = False, not_blank: bool = False) -> Field:
    return Field("str", required=required, nullable=nullable, min_len=min_len, max_len=max_len,
                 strip=strip, not_blank=not_blank)


def Id(*, required: bool = True) -> Field:
    return Field("str", required=required, min_len=1, max_len=64)


def Int(min_value: int, max_value: int, *, required: bool = False, default: int | None = None) -> Field:
    return Field("int", required=required, min_value=min_value, max_value=max_value, default=default)


def Bool(*, required: bool = False, nullable: bool = False, default: bool | None = None) -> Field:
    return Field("bool", required=required, nullable=nullable, default=default)


def StrList(max_items: int, item_max_len: int) -> Field:
    return Field("str_list", max_items=max_items, max_len=item_max_len, min_len=1, strip=True)


def Items(max_items: int) -> Field:
    """A profile list: objects {text, weight?, note?} (see PROFILE_ITEM)."""
    return Field("items", max_items=max_items)


PROFILE_ITEM = {
    "text": Str(200, required=True, min_len=1, strip=True),
    "weight": Field("weight", nullable=True),
    "note": Str(500, nullable=True, strip=True),
}
PROFILE_CATEGORIES = ("values", "beliefs", "interests", "skills", "desires", "intentions")

TITLE = Str(200, nullable=True, strip=True)
TAGS = StrList(20, 32)
MODEL = Str(100, nullable=True, strip=True)
SYSTEM_PROMPT = Str(20_000, nullable=True)
CURSOR = Str(200, nullable=True)
LIMIT = Int(1, 100, default=50)
CONTENT = Str(60_000, required=True, min_len=1, not_blank=True)
FOLDER_NAME = Str(100, required=True, min_len=1, strip=True)
FOLDER_INSTRUCTIONS = Str(4000, nullable=True, strip=True)  # MAX_INSTRUCTIONS in domain/folders.py
EPOCH = Str(64, nullable=True)  # the event history a client's seqs belong to (its hello's `epoch`)

# Request type -> its parameters. `type` and `id` are the envelope and always allowed.
REQUESTS: dict[str, dict[str, Field]] = {
    "auth": {"token": Str(4096, required=True, min_len=1)},
    "ping": {},
    "resume": {"last_seq": Int(0, 2**53, required=True), "epoch": EPOCH},
    "chat.list": {
        "q": Str(200, nullable=True, strip=True),
        "favorite": Bool(nullable=True),
        "tag": Str(32, nullable=True, strip=True),
        "trashed": Bool(default=False),
        "folder_id": Str(64, nullable=True, min_len=1),
        "cursor": CURSOR,
        "limit": LIMIT,
    },
    "chat.get": {"chat_id": Id()},
    "chat.create": {
        "title": TITLE,
        "tags": TAGS,
        "favorite": Bool(default=False),
        "model": MODEL,
        "system_prompt": SYSTEM_PROMPT,
    },
    "chat.update": {
        "chat_id": Id(),
        "title": TITLE,
        "tags": TAGS,
        "favorite": Bool(),
        "model": MODEL,
        "system_prompt": SYSTEM_PROMPT,
        "personalize": Bool(),
        "folder_id": Str(64, nullable=True, min_len=1),
    },
    "chat.delete": {"chat_id": Id()},
    "chat.restore": {"chat_id": Id()},
    "chat.purge": {"chat_id": Id()},
    "message.list": {"chat_id": Id(), "cursor": CURSOR, "limit": LIMIT},
    "message.send": {
        "chat_id": Id(),
        "content": CONTENT,
        "model": MODEL,
        "client_msg_id": Str(64, nullable=True, min_len=1),
        "file_ids": StrList(10, 64),
    },
    "message.stop": {"message_id": Id()},
    "message.regenerate": {"message_id": Id(), "model": MODEL},
    "message.edit": {"message_id": Id(), "content": CONTENT, "model": MODEL},
    "message.switch": {"message_id": Id()},
    "models.list": {},
    "balance.get": {},
    "transactions.list": {"kind": Str(20, nullable=True), "cursor": CURSOR, "limit": LIMIT},
    "profile.get": {},
    "profile.update": {name: Items(30) for name in PROFILE_CATEGORIES},
    "profile.analyze": {"text": Str(20_000, required=True, min_len=1, strip=True),
                        "apply": Bool(default=False)},
    "file.list": {"cursor": CURSOR, "limit": LIMIT},
    "file.delete": {"file_id": Id()},
    "presence.get": {},
    "account.update": {"display_name": Str(200, nullable=True, strip=True), "default_model": MODEL},
    "account.password": {"current_password": Str(1024, required=True, min_len=1),
                         "new_password": Str(1024, required=True, min_len=1)},
    "account.delete": {"password": Str(1024, required=True, min_len=1)},
    "session.list": {},
    "session.revoke": {"session_id": Id()},
    "folder.create": {"name": FOLDER_NAME, "instructions": FOLDER_INSTRUCTIONS},
    "folder.update": {"folder_id": Id(), "name": Str(100, min_len=1, strip=True),
                      "instructions": FOLDER_INSTRUCTIONS},
    "folder.delete": {"folder_id": Id()},
    "folder.list": {},
    "chat.share": {"chat_id": Id()},
    "chat.unshare": {"share_id": Id()},
    "share.list": {},
    "share.continue": {"share_id": Id()},
    "apikey.create": {"name": Str(100, required=True, min_len=1, strip=True),
                      "expires_at": Str(40, nullable=True, min_len=1, strip=True),
                      "models": Field("str_list", nullable=True, max_items=50, max_len=100,
                                      min_len=1, strip=True),
                      "monthly_cap": Field("int", nullable=True, min_value=1,
                                           max_value=10**15)},
    "apikey.list": {},
    "apikey.revoke": {"api_key_id": Id()},
    "billing.packs": {},
    "billing.checkout": {"pack_id": Id(), "provider": Str(32, required=True, min_len=1)},
    "billing.orders": {"order_id": Str(64, nullable=True, min_len=1), "cursor": CURSOR,
                       "limit": LIMIT},
}

ENVELOPE_KEYS = frozenset({"type", "id"})


def validate(name: str, spec: dict[str, Field], body: dict[str, Any],
             ignore: frozenset[str] = ENVELOPE_KEYS) -> dict[str, Any]:
    """Check `body` against `spec`; return only the declared fields that were given (or defaulted).

    Fields left out stay out of the result (so an update can tell "not given" from "set to null"),
    except those with a default.
    """
    unknown = sorted(k for k in body if k not in spec and k not in ignore)
    if unknown:
        raise BadRequest(f"{name}: unknown field(s): {', '.join(unknown)}", fields=unknown)
    out: dict[str, Any] = {}
    for key, field in spec.items():
        value = body.get(key, _MISSING)
        if value is _MISSING:
            if field.required:
                raise BadRequest(f"{name}: field '{key}' is required", field=key)
            if field.default is not None:
                out[key] = field.default
            continue
        out[key] = _check(name, key, field, value)
    return out


def _check(name: str, key: str, field: Field, value: Any) -> Any:
    if value is None:
        if field.nullable:
            return None
        raise BadRequest(f"{name}: field '{key}' must not be null", field=key)
    if field.kind == "str":
        return _check_str(name, key, field, value)
    if field.kind == "int":
        if isinstance(value, bool) or not isinstance(value, int):
            raise BadRequest(f"{name}: field '{key}' must be an integer", field=key)
        if (field.min_value is not None and value < field.min_value) or (
            field.max_value is not None and value > field.max_value
        ):
            raise BadRequest(
                f"{name}: field '{key}' must be between {field.min_value} and {field.max_value}",
                field=key,
            )
        return value
    if field.kind == "bool":
        if not isinstance(value, bool):
            raise BadRequest(f"{name}: field '{key}' must be true or false", field=key)
        return value
    if field.kind == "str_list":
        if not isinstance(value, list):
            raise BadRequest(f"{name}: field '{key}' must be a list of strings", field=key)
        if len(value) > field.max_items:
            raise BadRequest(f"{name}: field '{key}' takes at most {field.max_items} items", field=key)
        items: list[str] = []
        for item in value:
            text = _check_str(name, key, field, item)
            if text not in items:
                items.append(text)
        return items
    if field.kind == "weight":
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 1:
            raise BadRequest(f"{name}: field '{key}' must be a number from 0 to 1", field=key)
        return round(float(value), 3)
    if field.kind == "items":
        return _check_items(name, key, field, value)
    raise AssertionError(f"unknown field kind {field.kind!r}")


def _check_items(name: str, key: str, field: Field, value: Any) -> list[dict[str, Any]]:
    """Profile items; the same text twice (ignoring case) is kept once, the first one wins."""
    if not isinstance(value, list):
        raise BadRequest(f"{name}: field '{key}' must be a list of items", field=key)
    if len(value) > field.max_items:
        raise BadRequest(f"{name}: field '{key}' takes at most {field.max_items} items", field=key)
    items: list[dict[str, Any]] = []
    seen: set[str] = set()
    for index, item in enumerate(value):
        where = f"{key}[{index}]"
        if isinstance(item, str):  # shorthand: "chess" means {"text": "chess"}
            item = {"text": item}
        if not isinstance(item, dict):
            raise BadRequest(f"{name}: {where} must be an object with 'text'", field=key)
        try:
            checked = validate(f"{name}: {where}", PROFILE_ITEM, item, ignore=frozenset())
        except BadRequest as exc:  # name the list, as every other field error does
            raise BadRequest(str(exc), field=key) from None
        folded = checked["text"].casefold()
        if folded not in seen:
            seen.add(folded)
            items.append({"text": checked["text"], "weight": checked.get("weight"),
                          "note": checked.get("note") or None})
    return items


def _check_str(name: str, key: str, field: Field, value: Any) -> str:
    if not isinstance(value, str):
        raise BadRequest(f"{name}: field '{key}' must be a string", field=key)
    if "\x00" in value:
        raise BadRequest(f"{name}: field '{key}' must not contain NUL characters", field=key)
    if field.strip:
        value = value.strip()
    if len(value) > field.max_len:
        raise BadRequest(
            f"{name}: field '{key}' must be at most {field.max_len} characters", field=key
        )
    if len(value) < field.min_len:
        raise BadRequest(f"{name}: field '{key}' must not be empty", field=key)
    if field.not_blank and not value.strip():
        raise BadRequest(f"{name}: field '{key}' must not be only whitespace", field=key)
    return value
