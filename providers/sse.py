"""Server-sent events, reduced to what our vendors send: one JSON object per `data:` line.

OpenAI's and Anthropic's events each fit one `data:` line (Anthropic repeats the event name as the
payload's `type`), so we read those lines alone and ignore `event:` and blank separators. Cheap on
purpose: this loop runs once per streamed token of every open generation.
"""
from __future__ import annotations

from typing import AsyncIterator


async def data_lines(lines: AsyncIterator[str]) -> AsyncIterator[str]:
    async for line in lines:
        if line.startswith("data:"):
            yield line[6:] if line[5:6] == " " else line[5:]
