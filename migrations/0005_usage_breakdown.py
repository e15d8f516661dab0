"""The parts of a reply's usage the vendors price apart: prompt tokens read from and written to
their cache, and the completion's reasoning (thinking) tokens — each a part of the totals beside."""
from yoyo import step

__depends__ = {"0004_file_text"}

COLUMNS = ("cached_tokens", "cache_write_tokens", "reasoning_tokens")

steps = [step(f"ALTER TABLE messages ADD COLUMN {name} INTEGER NOT NULL DEFAULT 0",
              f"ALTER TABLE messages DROP COLUMN {name}") for name in COLUMNS]
