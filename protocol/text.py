"""Text as it may be stored and sent: no NUL, no lone surrogates.

A crafted PDF's font can map a glyph to U+0000 or to half a surrogate pair, and a provider can
stream either; PostgreSQL refuses NUL in text, UTF-8 (SQLite, orjson, the wire) cannot encode a
lone surrogate, and the request failed as `internal`. Both become U+FFFD, the replacement
character, wherever text enters: extracted file text, provider output, every text parameter
written to storage.
"""
from __future__ import annotations

import re

REPLACEMENT = "\ufffd"
_UNSAFE = re.compile("[\x00\ud800-\udfff]")


def clean(text: str) -> str:
    if text.isascii():  # O(1) in CPython; the common case, where only NUL can be wrong
        return text.replace("\x00", REPLACEMENT) if "\x00" in text else text
    return _UNSAFE.sub(REPLACEMENT, text)
