"""Server-sent events, reduced to what our vendors send: one JSON object per `data:` line.

OpenAI's and Anthropic's events each fit one `data:` line (Anthropic repeats the event name as the
payload's `type`), so we read those lines alone and ignore `event:` and blank separators. This runs
once per token of every open generation, so it is kept flat: lines are split from the raw byte
chunks by a plain splitter, not by the HTTP client's text and line decoders or another async
generator, each of which cost more per token than the split itself (bench/relay.py).
"""
from __future__ import annotations

import json
from typing import Any, AsyncIterable

import aiohttp
import orjson

from .base import StreamEnd, StreamItem, Usage


def loads(payload: bytes) -> Any:
    """A payload's JSON. orjson refuses an escaped lone surrogate ("\\ud800"), which is valid
    JSON a vendor may send; the standard parser then reads it (the text is cleaned downstream),
    so a reply with one ends `complete` rather than as a malformed stream."""
    try:
        return orjson.loads(payload)
    except orjson.JSONDecodeError:
        try:
            return json.loads(payload)
        except (ValueError, UnicodeDecodeError):
            raise orjson.JSONDecodeError("not JSON", payload.decode(errors="replace"), 0) from None


def _payload(line: bytes) -> bytes:
    return line[6:].rstrip(b"\r") if line[5:6] == b" " else line[5:].rstrip(b"\r")


class DataLines:
    """Feed it byte chunks as they arrive; it returns the complete `data:` payloads of each."""

    __slots__ = ("pending",)

    def __init__(self) -> None:
        self.pending = b""

    def feed(self, chunk: bytes) -> list[bytes]:
        if self.pending:
            chunk = self.pending + chunk
        lines = chunk.split(b"\n")
        self.pending = lines.pop()
        return [_payload(line) for line in lines if line.startswith(b"data:")]

    def end(self) -> list[bytes]:
        """The last line, when the stream ended without a newline."""
        last, self.pending = self.pending, b""
        return [_payload(last)] if last.startswith(b"data:") else []


class EventReader:
    """A vendor's stream, chunk by chunk: the text it carries, then how the reply ended.

    Each provider says what one `data:` payload means (`read`, setting `done` at the vendor's end
    marker) and what the reply's end is (`end`, and `finish` when the stream stops). The splitting,
    the stop at the marker and the last line without a newline are here, once; the provider's loop
    is flat (`feed` is plain code, not another async generator per token).
    """

    __slots__ = ("provider", "lines", "done")

    def __init__(self, provider: str) -> None:
        self.provider = provider
        self.lines = DataLines()
        self.done = False

    def read(self, payload: bytes) -> str | Usage:
        """The text of one payload ("" if none), or the vendor's counts so far; raise the
        protocol's error for a bad one."""
        raise NotImplementedError

    def end(self) -> StreamEnd:
        """Usage and finish reason, once the vendor's end marker was read."""
        raise NotImplementedError

    def finish(self) -> StreamEnd:
        """The stream stopped: the reply's end, or the error for a reply cut short."""
        raise NotImplementedError

    def feed(self, chunk: bytes) -> list[StreamItem]:
        items: list[StreamItem] = []
        for payload in self.lines.feed(chunk):
            text = self.read(payload)
            if text:
                items.append(text)
            if self.done:
                items.append(self.end())
                break
        return items

    def rest(self) -> list[str | Usage]:
        """The text of a last line that came without a newline."""
        return [text for text in map(self.read, self.lines.end()) if text]


def body(response: Any) -> AsyncIterable[bytes]:
    """The body of an SDK's raw (httpx2) streaming response, chunk by chunk as it arrives.

    An uncompressed body — what the vendors stream — is read from the aiohttp response under the
    SDKs' aiohttp transport, as it arrives: three layers fewer per chunk (the transport's and
    httpx2's async generators and a fixed-size re-chunker) than the response's own stream.
    Anything else (another transport, a compressed body) takes the response's decoded bytes.
    Either way the SDK's response context closes the connection, and the caller maps
    `aiohttp.ClientError` as it maps the SDK's connection errors.
    """
    if response.headers.get("content-encoding", "identity").strip().lower() not in ("identity", ""):
        return response.aiter_bytes()
    raw = getattr(getattr(response.stream, "_stream", None), "_aiohttp_response", None)
    if isinstance(raw, aiohttp.ClientResponse):
        return raw.content.iter_any()
    return response.stream
