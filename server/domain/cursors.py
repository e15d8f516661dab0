"""Opaque paging cursors: a position a client hands back unchanged.

Two kinds: (timestamp, id) for lists ordered by time, and a bare id for walking a branch.
"""
from __future__ import annotations

import base64
import binascii
import re
from datetime import datetime

import orjson

from protocol.errors import BadRequest

INVALID = "invalid cursor: pass back the next_cursor of a previous page"
# Exactly what the server writes (storage.base.iso, new_id): anything else never reaches a query,
# where PostgreSQL would refuse a malformed timestamp (or a NUL) as an error of its own.
_TIMESTAMP = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{6}Z", re.ASCII)
_ID = re.compile(r"[0-9a-f]{32}", re.ASCII)


def _pack(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _unpack(cursor: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
    except (ValueError, binascii.Error):
        raise BadRequest(INVALID) from None


def encode(ts: str, row_id: str) -> str:
    return _pack(orjson.dumps([ts, row_id]))


def decode(cursor: str | None) -> tuple[str, str] | None:
    if not cursor:
        return None
    try:
        ts, row_id = orjson.loads(_unpack(cursor))
    except (ValueError, TypeError, orjson.JSONDecodeError):
        raise BadRequest(INVALID) from None
    if not (isinstance(ts, str) and isinstance(row_id, str) and _TIMESTAMP.fullmatch(ts)
            and _ID.fullmatch(row_id)):
        raise BadRequest(INVALID)
    try:
        datetime.strptime(ts, "%Y-%m-%dT%H:%M:%S.%fZ")  # a real moment, not month 13
    except ValueError:
        raise BadRequest(INVALID) from None
    return ts, row_id


def encode_id(row_id: str) -> str:
    return _pack(row_id.encode())


def decode_id(cursor: str | None) -> str | None:
    if not cursor:
        return None
    try:
        row_id = _unpack(cursor).decode()
    except UnicodeDecodeError:
        raise BadRequest(INVALID) from None
    if not _ID.fullmatch(row_id):
        raise BadRequest(INVALID)
    return row_id
