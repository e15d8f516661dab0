"""Opaque paging cursors: a position a client hands back unchanged.

Two kinds: (timestamp, id) for lists ordered by time, and a bare id for walking a branch.
"""
from __future__ import annotations

import base64
import binascii

import orjson

from protocol.errors import BadRequest

INVALID = "invalid cursor: pass back the next_cursor of a previous page"


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
    if not (isinstance(ts, str) and isinstance(row_id, str) and len(ts) <= 40 and len(row_id) <= 64):
        raise BadRequest(INVALID)
    return ts, row_id


def encode_id(row_id: str) -> str:
    return _pack(row_id.encode())


def decode_id(cursor: str | None) -> str | None:
    if not cursor:
        return None
    try:
        return _unpack(cursor).decode()
    except UnicodeDecodeError:
        raise BadRequest(INVALID) from None
