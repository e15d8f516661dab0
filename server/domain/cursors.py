"""Opaque paging cursors: a position (timestamp, id) a client hands back unchanged."""
from __future__ import annotations

import base64
import binascii

import orjson

from protocol.errors import BadRequest


def encode(ts: str, row_id: str) -> str:
    return base64.urlsafe_b64encode(orjson.dumps([ts, row_id])).decode().rstrip("=")


def decode(cursor: str | None) -> tuple[str, str] | None:
    if not cursor:
        return None
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        ts, row_id = orjson.loads(raw)
    except (ValueError, TypeError, binascii.Error, orjson.JSONDecodeError):
        raise BadRequest("invalid cursor: pass back the next_cursor of a previous page") from None
    if not (isinstance(ts, str) and isinstance(row_id, str) and len(ts) <= 40 and len(row_id) <= 64):
        raise BadRequest("invalid cursor: pass back the next_cursor of a previous page")
    return ts, row_id
