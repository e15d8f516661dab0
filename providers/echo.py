"""The built-in offline provider: answers with the user's last message, streamed at a set pace.

Deterministic and free of keys, so a fresh install chats out of the box and the whole generation
path (streaming, stop, billing) can be exercised offline. Usage is estimated like a real provider's.
"""
from __future__ import annotations

import asyncio
import re
from typing import AsyncIterator

from .base import GenerationRequest, Provider, StreamEnd, StreamItem, Usage
from .tokens import estimate_request

_TOKEN = re.compile(r"\s*\S+|\s+")


def reply_for(request: GenerationRequest) -> str:
    last = next((m.content for m in reversed(request.messages) if m.role == "user"), "")
    return last if last.strip() else "…"


def tokens_of(text: str) -> list[str]:
    """Word-sized pieces that join back to exactly `text`."""
    return _TOKEN.findall(text)


class EchoProvider(Provider):
    name = "echo"

    def __init__(self, tokens_per_second: float = 30.0) -> None:
        self.delay = 1.0 / tokens_per_second if tokens_per_second > 0 else 0.0

    async def stream(self, request: GenerationRequest) -> AsyncIterator[StreamItem]:
        pieces = tokens_of(reply_for(request))[: max(1, request.max_tokens)]
        for piece in pieces:
            if self.delay:
                await asyncio.sleep(self.delay)
            yield piece
        prompt = estimate_request(request)
        finish = "length" if len(pieces) < len(tokens_of(reply_for(request))) else "stop"
        yield StreamEnd(Usage(prompt, len(pieces)), finish)
