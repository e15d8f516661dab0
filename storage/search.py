"""Full-text search terms for both engines, built from words only (never raw query syntax).

Each word becomes a prefix term and all must match, so typing "Каза" finds "Казань".
PostgreSQL also stems through the 'russian' configuration (English stemmer for ASCII words);
SQLite's FTS5 folds case and diacritics in both alphabets but does not stem.
"""
from __future__ import annotations

import re

_WORD = re.compile(r"\w+", re.UNICODE)
MAX_TERMS = 8


def words(q: str | None) -> list[str]:
    if not q:
        return []
    return _WORD.findall(q.lower())[:MAX_TERMS]


def fts5_query(terms: list[str]) -> str:
    return " ".join(f'"{t}"*' for t in terms)


def tsquery(terms: list[str]) -> str:
    return " & ".join(f"{t}:*" for t in terms)


def chat_match_clause(dialect: str) -> str:
    """SQL matching chats (alias `c`) whose title or any message matches; takes two parameters."""
    if dialect == "sqlite":
        return """(c.rowid IN (SELECT rowid FROM chats_fts WHERE chats_fts MATCH ?)
               OR c.id IN (SELECT m.chat_id FROM messages m
                           WHERE m.rowid IN (SELECT rowid FROM messages_fts WHERE messages_fts MATCH ?)))"""
    return """(c.search @@ to_tsquery('russian', ?)
           OR EXISTS (SELECT 1 FROM messages m
                      WHERE m.chat_id = c.id AND m.search @@ to_tsquery('russian', ?)))"""


def query_param(dialect: str, terms: list[str]) -> str:
    return fts5_query(terms) if dialect == "sqlite" else tsquery(terms)


def message_match(dialect: str) -> str:
    """SQL matching messages (alias `m`) against one query parameter."""
    if dialect == "sqlite":
        return "m.rowid IN (SELECT rowid FROM messages_fts WHERE messages_fts MATCH ?)"
    return "m.search @@ to_tsquery('russian', ?)"
