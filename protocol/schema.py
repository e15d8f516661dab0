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
    kind: str  # "str" | "int" | "bool" | "str_list"
    required: bool = False
    nullable: bool = False
    min_len: int = 0
    max_len: int = 10_000
    min_value: int | None = None
    max_value: int | None = None
    max_items: int = 0
    default: Any = None
    strip: bool = False


def Str(max_len: int, *, required: bool = False, nullable: bool = False, min_len: int = 0,
        strip: bool = False) -> Field:
    return Field("str", required=required, nullable=nullable, min_len=min_len, max_len=max_len,
                 strip=strip)


def Id(*, required: bool = True) -> Field:
    return Field("str", required=required, min_len=1, max_len=64)


def Int(min_value: int, max_value: int, *, required: bool = False, default: int | None = None) -> Field:
    return Field("int", required=required, min_value=min_value, max_value=max_value, default=default)


def Bool(*, required: bool = False, nullable: bool = False, default: bool | None = None) -> Field:
    return Field("bool", required=required, nullable=nullable, default=default)


def StrList(max_items: int, item_max_len: int) -> Field:
    return Field("str_list", max_items=max_items, max_len=item_max_len, min_len=1, strip=True)


TITLE = Str(200, nullable=True, strip=True)
TAGS = StrList(20, 32)
MODEL = Str(100, nullable=True, strip=True)
SYSTEM_PROMPT = Str(20_000, nullable=True)
CURSOR = Str(200, nullable=True)
LIMIT = Int(1, 100, default=50)
CONTENT = Str(60_000, required=True, min_len=1)

# Request type -> its parameters. `type` and `id` are the envelope and always allowed.
REQUESTS: dict[str, dict[str, Field]] = {
    "auth": {"token": Str(4096, required=True, min_len=1)},
    "ping": {},
    "resume": {"last_seq": Int(0, 2**53, required=True)},
    "chat.list": {
        "q": Str(200, nullable=True, strip=True),
        "favorite": Bool(nullable=True),
        "tag": Str(32, nullable=True, strip=True),
        "trashed": Bool(default=False),
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
    },
    "message.stop": {"message_id": Id()},
    "message.regenerate": {"message_id": Id(), "model": MODEL},
    "message.edit": {"message_id": Id(), "content": CONTENT, "model": MODEL},
    "message.switch": {"message_id": Id()},
    "models.list": {},
    "balance.get": {},
    "transactions.list": {"kind": Str(20, nullable=True), "cursor": CURSOR, "limit": LIMIT},
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
    raise AssertionError(f"unknown field kind {field.kind!r}")


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
    return value
