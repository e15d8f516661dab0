"""Server-sent events, reduced to what our vendors send: one JSON object per `data:` line.

OpenAI's and Anthropic's events each fit one `data:` line (Anthropic repeats the event name as the
payload's `type`), so we read those lines alone and ignore `event:` and blank separators. Lines are
split from the raw byte chunks here rather than by the HTTP client's text and line decoders, which
cost several times more per token; this loop runs once per token of every open generation.
"""
from __future__ import annotations

from typing import Any, AsyncIterator


async def data_lines(chunks: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
    """The payload of every `data:` line, as bytes (orjson reads bytes directly)."""
    pending = b""
    async for chunk in chunks:
        if pending:
            chunk = pending + chunk
        lines = chunk.split(b"\n")
        pending = lines.pop()
        for line in lines:
            if line.startswith(b"data:"):
                yield line[6:].rstrip(b"\r") if line[5:6] == b" " else line[5:].rstrip(b"\r")
    if pending.startswith(b"data:"):
        yield pending[6:].rstrip(b"\r") if pending[5:6] == b" " else pending[5:].rstrip(b"\r")


def body(response: Any) -> AsyncIterator[bytes]:
    """The body of an SDK's raw (httpx2) streaming response, chunk by chunk as it arrives.

    An uncompressed body — what the vendors stream — is read raw: one layer (a content decoder
    and a re-chunker, several µs a chunk) fewer than `aiter_bytes`, which a compressed one needs.
    """
    if response.headers.get("content-encoding", "identity").strip().lower() in ("identity", ""):
        return response.aiter_raw()
    return response.aiter_bytes()
