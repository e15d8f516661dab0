"""A tokenizer-free token estimate, for trimming context and pricing a stopped reply.

About four bytes of UTF-8 per token: ~4 Latin characters, ~2 Cyrillic ones, close to what the
vendors' tokenizers give for English and Russian. Providers' own usage figures replace it whenever
they report them.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Iterable

if TYPE_CHECKING:
    from .base import GenerationRequest

PER_MESSAGE_OVERHEAD = 4
IMAGE_TOKENS = 1_600  # what the vendors charge for a large image, about; a reservation over-estimates


def estimate(text: str) -> int:
    if not text:
        return 0
    return max(1, (len(text.encode("utf-8")) + 3) // 4)


def estimate_message(text: str) -> int:
    return estimate(text) + PER_MESSAGE_OVERHEAD


def estimate_prompt(system: str | None, messages: Iterable[str]) -> int:
    """The whole prompt: system text plus every message with its overhead."""
    return estimate(system or "") + sum(estimate_message(m) for m in messages)


def estimate_request(request: "GenerationRequest") -> int:
    """A whole request as the model will read it: documents, images and all."""
    images = sum(len(m.images) for m in request.messages)
    return estimate_prompt(request.system, (m.text for m in request.messages)) + images * IMAGE_TOKENS
