"""A tokenizer-free token estimate, for trimming context and pricing a stopped reply.

About four bytes of UTF-8 per token: ~4 Latin characters, ~2 Cyrillic ones, close to what the
vendors' tokenizers give for English and Russian. Providers' own usage figures replace it whenever
they report them.
"""
from __future__ import annotations

from typing import Iterable

PER_MESSAGE_OVERHEAD = 4


def estimate(text: str) -> int:
    if not text:
        return 0
    return max(1, (len(text.encode("utf-8")) + 3) // 4)


def estimate_message(text: str) -> int:
    return estimate(text) + PER_MESSAGE_OVERHEAD


def estimate_prompt(system: str | None, messages: Iterable[str]) -> int:
    """The whole prompt: system text plus every message with its overhead."""
    return estimate(system or "") + sum(estimate_message(m) for m in messages)
