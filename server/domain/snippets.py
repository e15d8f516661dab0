"""A search result's snippet: the words around the first match, with where the matches are.

The engines say which chats match (SQLite by prefix, PostgreSQL also by stem); this finds the
words in the text itself, case-insensitively in both alphabets. A word the text only has in
another form ("поездку" for "поездки", a stemmed match) is found by its longest prefix of at
least three letters that the text has at a word's start.
"""
from __future__ import annotations

import re
from typing import Any

CONTEXT = 60  # characters on each side of the first match
MIN_PREFIX = 3


def snippet(text: str, terms: list[str]) -> dict[str, Any] | None:
    """`{"text": …, "matches": [[start, end], …]}` (offsets into that text), or None."""
    spans = sorted(span for term in terms if (span := _find(text, term)) is not None)
    if not spans:
        return None
    first = spans[0][0]
    start = max(0, first - CONTEXT)
    if start:  # begin at a word
        space = text.find(" ", start, first)
        start = space + 1 if space != -1 else start
    end = min(len(text), spans[0][1] + CONTEXT)
    if end < len(text):
        space = text.rfind(" ", spans[0][1], end)
        end = space if space != -1 else end
    window = " ".join(text[start:end].split())  # one line
    matches = [list(span) for term in terms if (span := _find(window, term)) is not None]
    prefix, suffix = ("…" if start else ""), ("…" if end < len(text) else "")
    shift = len(prefix)
    return {"text": f"{prefix}{window}{suffix}",
            "matches": sorted([a + shift, b + shift] for a, b in matches)}


def _find(text: str, term: str) -> tuple[int, int] | None:
    for size in range(len(term), min(len(term), MIN_PREFIX) - 1, -1):
        found = re.search(r"(?<!\w)" + re.escape(term[:size]), text, re.IGNORECASE)
        if found:
            word_end = re.match(r"\w*", text[found.end():])
            return found.start(), found.end() + (word_end.end() if word_end else 0)
    return None
