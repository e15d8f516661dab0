"""The tests' WebSocket client: real frames built and read with `protocol`, as any client would."""
from __future__ import annotations

import asyncio
import itertools
from typing import Any

import aiohttp

from protocol import decode, encode, request

from .frame_schema import check_accepted, check_received

TIMEOUT = 5.0


class WSClient:
    """Sends requests, waits for their replies by id, and keeps the events that arrive meanwhile."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse,
                 ignore: frozenset[str] = frozenset({"presence.changed"})) -> None:
        self.ws = ws
        self.ignore = ignore  # event types a scenario does not care about (kept in `frames`)
        self.events: list[dict[str, Any]] = []
        self.frames: list[dict[str, Any]] = []
        self._ids = itertools.count(1)
        self._sent: dict[Any, dict[str, Any]] = {}  # requests awaiting their reply, by id

    def _remember(self, frame: Any) -> None:
        if isinstance(frame, dict) and isinstance(frame.get("id"), (str, int)):
            self._sent[frame["id"]] = frame

    async def send_raw(self, data: str | bytes) -> None:
        try:
            self._remember(decode(data))
        except Exception:
            pass  # not JSON: nothing to check it against
        if isinstance(data, bytes):
            await self.ws.send_bytes(data)
        else:
            await self.ws.send_str(data)

    async def _next_frame(self, timeout: float = TIMEOUT) -> dict[str, Any]:
        while True:
            msg = await self.ws.receive(timeout=timeout)
            if msg.type != aiohttp.WSMsgType.TEXT:
                raise ConnectionError(f"socket closed: {msg.type} {self.ws.close_code} {msg.extra}")
            frame = decode(msg.data)
            check_received(frame)
            if frame.get("type") == "reply" and frame.get("id") in self._sent:
                check_accepted(self._sent.pop(frame["id"]), frame)
            self.frames.append(frame)
            if frame.get("type") not in self.ignore:
                return frame

    async def send(self, request_type: str, /, **params: Any) -> str:
        """Send a request without waiting; return its id (pipelining)."""
        rid = str(next(self._ids))
        frame = request(request_type, rid, **params)
        self._remember(frame)
        await self.ws.send_str(encode(frame).decode())
        return rid

    async def call(self, request_type: str, /, **params: Any) -> dict[str, Any]:
        """Send a request; return its whole reply frame (ok or not)."""
        return await self.reply(await self.send(request_type, **params))

    async def reply(self, rid: Any, timeout: float = TIMEOUT) -> dict[str, Any]:
        while True:
            frame = await self._next_frame(timeout)
            if frame.get("type") == "reply" and frame.get("id") == rid:
                return frame
            if frame.get("type") != "reply":
                self.events.append(frame)

    async def ok(self, request_type: str, /, **params: Any) -> Any:
        """Send a request that must succeed; return its data."""
        frame = await self.call(request_type, **params)
        assert frame["ok"], frame
        return frame["data"]

    async def error(self, request_type: str, /, **params: Any) -> dict[str, Any]:
        """Send a request that must fail; return its error."""
        frame = await self.call(request_type, **params)
        assert not frame["ok"], frame
        return frame["error"]

    async def event(self, kind: str, timeout: float = TIMEOUT) -> dict[str, Any]:
        """The next event of this type (from those already kept, then from the socket)."""
        for i, ev in enumerate(self.events):
            if ev["type"] == kind:
                return self.events.pop(i)
        while True:
            frame = await self._next_frame(timeout)
            if frame.get("type") == kind:
                return frame
            if frame.get("type") != "reply":
                self.events.append(frame)

    async def event_any(self, timeout: float = TIMEOUT) -> dict[str, Any]:
        """The next event of any type (from those already kept, then from the socket)."""
        if self.events:
            return self.events.pop(0)
        while True:
            frame = await self._next_frame(timeout)
            if frame.get("type") != "reply":
                return frame

    async def no_event(self, within: float = 0.3) -> None:
        """Assert nothing at all arrives for a moment."""
        assert not self.events, self.events
        try:
            msg = await self.ws.receive(timeout=within)
        except asyncio.TimeoutError:
            return
        raise AssertionError(f"unexpected frame: {msg.data!r}")

    async def closed(self, timeout: float = TIMEOUT) -> int | None:
        """Wait for the server to close the socket; return the close code."""
        while True:
            msg = await self.ws.receive(timeout=timeout)
            if msg.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED,
                            aiohttp.WSMsgType.CLOSING):
                return self.ws.close_code
            if msg.type == aiohttp.WSMsgType.TEXT:
                frame = decode(msg.data)
                check_received(frame)
                self.frames.append(frame)
