"""One authenticated socket: a bounded send queue drained by its own writer task.

The broker and the request loop only ever enqueue, so one slow reader never stalls anyone else;
a queue that overflows means the client cannot keep up, and the socket is closed with 1013 (try
again later) for the client to reconnect and resume.
"""
from __future__ import annotations

import asyncio
import logging
from typing import Any

from aiohttp import WSMsgType, web

from protocol import encode
from server.domain.accounts import Identity
from storage import new_id

log = logging.getLogger("chatwire.ws")

CLOSE_TRY_AGAIN_LATER = 1013
_CLOSE = object()


class Connection:
    def __init__(self, ws: web.WebSocketResponse, identity: Identity, queue_size: int,
                 user_agent: str = "") -> None:
        self.id = new_id()
        self.ws = ws
        self.identity = identity
        self.user_id = identity.user_id
        self.user_agent = user_agent
        self._queue: asyncio.Queue[Any] = asyncio.Queue(maxsize=queue_size)
        self._close: tuple[int, str] | None = None
        self._writer = asyncio.create_task(self._write(), name=f"ws-writer-{self.id}")

    def deliver(self, frame: bytes) -> None:
        if self._close is not None:
            return
        try:
            self._queue.put_nowait(frame)
        except asyncio.QueueFull:
            log.warning("socket %s fell behind; closing it", self.id)
            self.close_soon(CLOSE_TRY_AGAIN_LATER, "too slow: reconnect and resume")

    def send(self, frame: dict[str, Any]) -> None:
        self.deliver(encode(frame))

    def close_soon(self, code: int, reason: str) -> None:
        """Close after what is already queued; called from the broker, so never awaits."""
        if self._close is not None:
            return
        self._close = (code, reason)
        try:
            self._queue.put_nowait(_CLOSE)
        except asyncio.QueueFull:
            self._writer.cancel()
            asyncio.ensure_future(self.ws.close(code=code, message=reason.encode()))

    async def _write(self) -> None:
        while True:
            item = await self._queue.get()
            if item is _CLOSE:
                assert self._close is not None
                code, reason = self._close
                await self.ws.close(code=code, message=reason.encode())
                return
            try:
                await self.ws.send_frame(item, WSMsgType.TEXT)
            except (ConnectionError, RuntimeError):
                return  # the peer is gone; the reader loop notices and cleans up

    async def finish(self) -> None:
        self._writer.cancel()
        try:
            await self._writer
        except asyncio.CancelledError:
            pass
