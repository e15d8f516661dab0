"""Every WebSocket frame as JSON Schema (draft 2020-12), for clients in any language.

Requests are generated from the same `REQUESTS` table the server validates with, so the two cannot
drift; server frames (replies and events) are declared here beside it. `docs/frames.schema.json` is
this module's output (`python -m protocol.wire_schema`), and a test keeps the file current.

Server objects allow fields beyond those listed: a client must ignore what it does not know, so new
fields can be added without breaking anyone. Requests do not: the server refuses unknown fields.
"""
from __future__ import annotations

import sys
from typing import Any

import orjson

from .errors import ERROR_CODES
from .schema import PROFILE_CATEGORIES, PROFILE_ITEM, REQUESTS, Field

SCHEMA_ID = "https://chatwire.dev/schema/frames.schema.json"
Schema = dict[str, Any]

REQUEST_ID: Schema = {"anyOf": [{"type": "string", "maxLength": 64},
                                {"type": "integer", "minimum": -(2**53) + 1, "maximum": 2**53 - 1},
                                {"type": "null"}]}
NO_NUL = "^[^\\u0000]*$"


def _nullable(schema: Schema, field: Field) -> Schema:
    if not field.nullable:
        return schema
    return {"anyOf": [schema, {"type": "null"}]}


def _string(field: Field) -> Schema:
    schema: Schema = {"type": "string", "maxLength": field.max_len, "pattern": NO_NUL}
    if field.min_len:
        schema["minLength"] = field.min_len
    return schema


def field_schema(field: Field) -> Schema:
    """One request field; `strip` fields are trimmed by the server before their length is checked."""
    if field.kind == "str":
        schema = _string(field)
    elif field.kind == "int":
        schema = {"type": "integer"}
        if field.min_value is not None:
            schema["minimum"] = field.min_value
        if field.max_value is not None:
            schema["maximum"] = field.max_value
    elif field.kind == "bool":
        schema = {"type": "boolean"}
    elif field.kind == "str_list":
        schema = {"type": "array", "maxItems": field.max_items, "items": _string(field)}
    elif field.kind == "weight":
        schema = {"type": "number", "minimum": 0, "maximum": 1}
    elif field.kind == "items":
        schema = {"type": "array", "maxItems": field.max_items,
                  "items": {"anyOf": [{"type": "string", "minLength": 1, "maxLength": 200,
                                       "pattern": NO_NUL},
                                      {"$ref": "#/$defs/profile_item_in"}]}}
    else:
        raise AssertionError(f"unknown field kind {field.kind!r}")
    if field.default is not None:
        schema["default"] = field.default
    return _nullable(schema, field)


def object_schema(spec: dict[str, Field]) -> Schema:
    """A JSON object with exactly the fields of `spec` (a REST body, a profile item)."""
    return {"type": "object",
            "properties": {name: field_schema(field) for name, field in spec.items()},
            "required": [name for name, field in spec.items() if field.required],
            "additionalProperties": False}


def request_schema(kind: str, spec: dict[str, Field]) -> Schema:
    schema = object_schema(spec)
    schema["properties"] = {"type": {"const": kind}, "id": REQUEST_ID, **schema["properties"]}
    schema["required"] = ["type", *schema["required"]]
    return schema


# --- what the server sends -------------------------------------------------------------------------

def _obj(required: dict[str, Schema], optional: dict[str, Schema] | None = None) -> Schema:
    return {"type": "object", "properties": {**required, **(optional or {})},
            "required": list(required)}


def _ref(name: str) -> Schema:
    return {"$ref": f"#/$defs/{name}"}


STR: Schema = {"type": "string"}
INT: Schema = {"type": "integer"}
SEQ: Schema = {"type": "integer", "minimum": 1}
BOOL: Schema = {"type": "boolean"}
TIME: Schema = {"type": "string", "format": "date-time"}
OPT_STR: Schema = {"type": ["string", "null"]}
OPT_TIME: Schema = {"anyOf": [TIME, {"type": "null"}]}
MICRO: Schema = {"type": "integer", "description": "micro-credits (1 credit = 1,000,000)"}

ROWS: dict[str, Schema] = {
    "user": _obj({"id": STR, "email": STR, "display_name": OPT_STR, "default_model": OPT_STR,
                  "role": {"enum": ["user", "admin"]}, "balance": MICRO, "created_at": TIME},
                 {"email_verified": BOOL}),
    "chat": _obj({"id": STR, "title": STR, "favorite": BOOL, "tags": {"type": "array", "items": STR},
                  "model": OPT_STR, "system_prompt": OPT_STR, "personalize": BOOL,
                  "folder_id": OPT_STR, "deleted_at": OPT_TIME, "created_at": TIME, "updated_at": TIME},
                 {"current_message_id": OPT_STR,
                  "snippet": {"anyOf": [{"type": "null"}, _obj({
                      "text": STR, "matches": {"type": "array", "items": {
                          "type": "array", "items": {"type": "integer", "minimum": 0},
                          "minItems": 2, "maxItems": 2}}})]}}),
    "folder": _obj({"id": STR, "name": STR, "instructions": OPT_STR, "created_at": TIME,
                    "updated_at": TIME}),
    "share": _obj({"id": STR, "url": STR, "chat_id": STR, "title": STR, "message_count": INT,
                   "created_at": TIME}),
    "api_key": _obj({"id": STR, "name": STR, "prefix": STR,
                     "models": {"anyOf": [{"type": "array", "items": STR}, {"type": "null"}]},
                     "monthly_cap": {"anyOf": [MICRO, {"type": "null"}]}, "created_at": TIME,
                     "expires_at": OPT_TIME, "last_used_at": OPT_TIME, "revoked_at": OPT_TIME}),
    "file_summary": _obj({"id": STR, "name": STR, "kind": {"enum": ["image", "document"]},
                          "mime": STR, "size": INT}),
    "message": _obj({"id": STR, "chat_id": STR, "parent_id": OPT_STR,
                     "role": {"enum": ["system", "user", "assistant"]}, "content": STR,
                     "model": OPT_STR,
                     "status": {"enum": ["complete", "streaming", "stopped", "error", "interrupted"]},
                     "error_code": {"anyOf": [{"enum": list(ERROR_CODES)}, {"type": "null"}]},
                     "prompt_tokens": INT, "completion_tokens": INT, "cached_tokens": INT,
                     "cache_write_tokens": INT, "reasoning_tokens": INT, "cost": MICRO,
                     "client_msg_id": OPT_STR, "created_at": TIME, "updated_at": TIME,
                     "files": {"type": "array", "items": _ref("file_summary")}},
                    {"sibling_ids": {"type": "array", "items": STR}}),
    "file": _obj({"id": STR, "name": STR, "mime": STR, "kind": {"enum": ["image", "document"]},
                  "size": INT, "sha256": STR, "created_at": TIME}),
    "profile_item": _obj({"text": STR, "weight": {"type": ["number", "null"]}, "note": OPT_STR}),
    "profile": _obj({**{name: {"type": "array", "items": _ref("profile_item")}
                        for name in PROFILE_CATEGORIES}, "updated_at": OPT_TIME}),
    "device": _obj({"connection_id": STR, "instance": STR, "user_agent": STR,
                    "connected_since": TIME}),
    "error": _obj({"code": {"enum": list(ERROR_CODES)}, "message": STR},
                  {"retry_after": {"type": "number"}, "field": STR,
                   "fields": {"type": "array", "items": STR}}),
    "usage": _obj({"prompt_tokens": INT, "completion_tokens": INT, "cached_tokens": INT,
                   "cache_write_tokens": INT, "reasoning_tokens": INT,
                   "estimated": {"type": "array",
                                 "items": {"enum": ["prompt_tokens", "completion_tokens"]}}}),
}

_MESSAGE_EVENT = {"seq": SEQ, "chat_id": STR, "message_id": STR, "message": _ref("message")}
_FINISHED = {**_MESSAGE_EVENT, "usage": _ref("usage"), "cost": MICRO}
_CHAT_EVENT = {"seq": SEQ, "chat_id": STR, "chat": _ref("chat")}

# Event type -> fields every such event has (besides `type`) and fields it may have.
EVENTS: dict[str, tuple[dict[str, Schema], dict[str, Schema]]] = {
    "hello": ({"connection_id": STR, "user": _ref("user"), "last_seq": {"type": "integer",
                                                                         "minimum": 0},
               "epoch": STR, "server_time": TIME,
               "max_frame_bytes": {"type": "integer", "minimum": 1}}, {}),
    "account.updated": ({"seq": SEQ, "user": _ref("user")}, {}),
    "chat.created": (_CHAT_EVENT, {}),
    "chat.updated": (_CHAT_EVENT, {}),
    "chat.deleted": (_CHAT_EVENT, {}),
    "chat.restored": (_CHAT_EVENT, {}),
    "chat.purged": ({"seq": SEQ, "chat_id": STR}, {}),
    "share.created": ({"seq": SEQ, "share": _ref("share")}, {}),
    "share.revoked": ({"seq": SEQ, "share_id": STR}, {}),
    "apikey.created": ({"seq": SEQ, "api_key": _ref("api_key")}, {}),
    "apikey.revoked": ({"seq": SEQ, "api_key_id": STR}, {}),
    "folder.created": ({"seq": SEQ, "folder": _ref("folder")}, {}),
    "folder.updated": ({"seq": SEQ, "folder": _ref("folder")}, {}),
    "folder.deleted": ({"seq": SEQ, "folder_id": STR,
                        "chat_ids": {"type": "array", "items": STR}}, {}),
    "message.created": (_MESSAGE_EVENT, {}),
    "message.delta": ({"seq": SEQ, "chat_id": STR, "message_id": STR,
                       "index": {"type": "integer", "minimum": 0}, "delta": STR}, {}),
    "message.done": (_FINISHED, {"balance": MICRO}),
    "message.stopped": (_FINISHED, {"balance": MICRO}),
    "message.interrupted": (_FINISHED, {"balance": MICRO}),
    "message.error": ({**_MESSAGE_EVENT, "error": _ref("error")}, {}),
    "profile.updated": ({"seq": SEQ, "updated_at": TIME}, {}),
    "file.created": ({"seq": SEQ, "file": _ref("file")}, {}),
    "file.deleted": ({"seq": SEQ, "file_id": STR}, {}),
    "balance.updated": ({"seq": SEQ, "balance": MICRO, "reserved": MICRO, "available": MICRO}, {}),
    "presence.changed": ({"change": {"enum": ["connected", "disconnected"]}, "connection_id": STR},
                         {"device": _ref("device")}),
    "models.updated": ({}, {}),
    "resync_required": ({"last_seq": {"type": "integer", "minimum": 0}, "epoch": STR}, {}),
    "error": ({"error": _ref("error")}, {}),
}


def event_schema(kind: str) -> Schema:
    required, optional = EVENTS[kind]
    return _obj({"type": {"const": kind}, **required}, optional)


REPLY: Schema = {
    "oneOf": [
        _obj({"type": {"const": "reply"}, "id": REQUEST_ID, "ok": {"const": True},
              "data": {"description": "the request's result; its shape per request type is in "
                                      "docs/PROTOCOL.md"}}),
        _obj({"type": {"const": "reply"}, "id": REQUEST_ID, "ok": {"const": False},
              "error": _ref("error")}),
    ]
}


def document() -> Schema:
    """The whole schema: `#/$defs/client_frame` for what clients send, `server_frame` for replies
    and events; each request and event also has its own definition."""
    defs: dict[str, Schema] = {"profile_item_in": object_schema(PROFILE_ITEM), **ROWS}
    defs.update({f"request.{kind}": request_schema(kind, spec) for kind, spec in REQUESTS.items()})
    defs.update({f"event.{kind}": event_schema(kind) for kind in EVENTS})
    defs["reply"] = REPLY
    defs["client_frame"] = {"oneOf": [_ref(f"request.{kind}") for kind in REQUESTS]}
    defs["server_frame"] = {"oneOf": [_ref("reply"), *(_ref(f"event.{kind}") for kind in EVENTS)]}
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", "$id": SCHEMA_ID,
            "title": "Chatwire WebSocket frames",
            "description": "Client requests (client_frame) and server replies and events "
                           "(server_frame). See docs/PROTOCOL.md.",
            "$defs": defs,
            "anyOf": [_ref("client_frame"), _ref("server_frame")]}


def render() -> bytes:
    return orjson.dumps(document(), option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS) + b"\n"


if __name__ == "__main__":
    sys.stdout.buffer.write(render())
