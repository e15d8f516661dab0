"""One authenticated socket: frames written as they come, a bounded queue behind a slow reader.

The broker and the request loop never wait on a socket. The frames one turn of the event loop
produces for a socket (a send's reply and its four events, a reply's end and the balance after
it) leave in one write at the start of the next turn: one system call instead of one each, which
on this path was ~20 µs a frame (a loopback send also runs the receiving side's TCP stack). The
frames are plain text frames (RFC 6455 §5.2, unmasked from a server), so they are framed here
and written to the socket's transport directly; with `WS_COMPRESS` on, aiohttp's writer keeps
the deflate context and every frame goes through it as before. Only when a write has to wait
for the transport to drain (the client reads slowly) does a writer task take over, with later
frames queued behind it in order; a queue that overflows means the client cannot keep up, and
the socket is closed with 1013 (try again later) for the client to reconnect and resume. A
socket with nothing waiting keeps neither a queue nor a task, which is most of what an idle
socket would otherwise cost.

Which events go out, and in what order (seq de-duplication, holding live events until a resume,
releasing them) is `protocol.session.Session`, pure and tested on its own; a `Connection` is that
session with this writer as its output, plus the grace timer that ends the hold.
"""
from __future__ import annotations

import asyncio
import logging
import struct
from collections import deque
from typing import Any, Coroutine

from aiohttp import WSMsgType, web

from protocol import encode
from protocol.session import Session
from server import metrics
from server.domain.accounts import Identity
from storage import new_id
from storage.base import utcnow

log = logging.getLogger("chatwire.ws")

CLOSE_TRY_AGAIN_LATER = 1013
WRITE_BUFFER_BYTES = 2 ** 16  # beyond this unsent in the transport, wait for it (aiohttp's limit)
_CLOSE = object()
_TEXT = 0x81  # FIN, opcode 1


def text_frame(payload: bytes) -> bytes:
    """A server's unmasked, unfragmented text frame (RFC 6455 §5.2)."""
    size = len(payload)
    if size < 126:
        return bytes((_TEXT, size)) + payload
    if size < 65536:
        return struct.pack("!BBH", _TEXT, 126, size) + payload
    return struct.pack("!BBQ", _TEXT, 127, size) + payload


async def _complete(step: Coroutine[Any, Any, None], waiting: Any) -> None:
    """Run to its end a coroutine that was started by hand and stopped at `waiting`.

    What `asyncio.Task(..., eager_start=True)` does from Python 3.12: a send runs synchronously
    until it must wait, and only then becomes part of a task. `waiting` is what it yielded (the
    future it awaits, or None for a bare yield); once that is done, the coroutine reads the
    outcome itself when resumed.
    """
    try:
        while True:
            if waiting is None:
                await asyncio.sleep(0)
            else:
                await waiting
            waiting = step.send(None)
    except StopIteration:
        return
    finally:
        step.close()  # cancelled or failed while waiting: let it run its own cleanup


class Connection(Session):
    __slots__ = ("id", "ws", "identity", "user_id", "user_agent", "connected_since", "_limit",
                 "_transport", "_batch", "_batch_bytes", "_pending", "_writer", "_close", "_grace",
                 "__weakref__")

    def __init__(self, ws: web.WebSocketResponse, identity: Identity, queue_size: int,
                 user_agent: str = "", transport: asyncio.WriteTransport | None = None) -> None:
        """`transport` is the socket's own (the request's), to write this turn's frames to in
        one go; without it (or with compression) every frame goes through aiohttp's writer."""
        super().__init__()
        self.id = new_id()
        self.ws = ws
        self._transport = None if ws.compress else transport
        self._batch: list[bytes] | None = None  # this turn's frames, written at the next
        self._batch_bytes = 0
        self.identity = identity
        self.user_id = identity.user_id
        self.user_agent = user_agent
        self.connected_since = utcnow()
        self._limit = queue_size
        self._pending: deque[Any] | None = None  # frames behind a write that is waiting
        self._writer: asyncio.Task[None] | None = None  # only while something waits
        self._close: tuple[int, str] | None = None
        self._grace: asyncio.TimerHandle | None = None

    def start_live(self, seq: int, grace_s: float) -> None:
        """Events up to `seq` are history (resume fetches them); hold later ones for `grace_s`."""
        self.start(seq)
        self._grace = asyncio.get_running_loop().call_later(grace_s, self.release)

    def release(self) -> None:
        if self._grace is not None:
            self._grace.cancel()
            self._grace = None
        super().release()

    def write(self, frame: bytes) -> None:
        """The session's output: an event frame, in order (see `_enqueue`)."""
        self._enqueue(frame)

    def send(self, frame: dict[str, Any]) -> None:
        """A reply or a frame of this socket alone (no seq)."""
        self._enqueue(encode(frame))

    def device(self, instance_id: str) -> dict[str, Any]:
        return {"connection_id": self.id, "instance": instance_id, "user_agent": self.user_agent[:300],
                "connected_since": self.connected_since}

    def _enqueue(self, item: Any) -> None:
        if item is _CLOSE:
            self._flush()  # what this turn wrote goes before the close
            self._queue(item)
            return
        if self._close is not None:
            return
        metrics.EVENTS_SENT.inc()
        if self._writer is not None:
            self._queue(item)
        elif self._batch is None:
            self._batch = [item]
            self._batch_bytes = len(item)
            asyncio.get_running_loop().call_soon(self._flush)
        else:
            self._batch.append(item)
            self._batch_bytes += len(item)
            if self._batch_bytes > WRITE_BUFFER_BYTES:
                self._flush()  # a held backlog released at once: no bigger writes than this

    def _queue(self, item: Any) -> bool:
        """Behind a writer that waits (started here if none is); False if the queue overflowed
        and the socket is closing instead."""
        if self._pending is None:
            self._pending = deque()
        elif len(self._pending) >= self._limit and item is not _CLOSE:
            # The writer is stuck in a send the peer does not read: close now, not after it.
            log.warning("socket %s fell behind; closing it", self.id,
                        extra={"connection_id": self.id, "user_id": self.user_id})
            self._pending.clear()  # it will resume: what it could not read is replayed then
            self._close = (CLOSE_TRY_AGAIN_LATER, "too slow: reconnect and resume")
            if self._writer is not None:
                self._writer.cancel()
                self._writer = None
            asyncio.ensure_future(self.ws.close(code=CLOSE_TRY_AGAIN_LATER,
                                                message=b"too slow: reconnect and resume"))
            return False
        self._pending.append(item)
        if self._writer is None:
            self._writer = asyncio.get_running_loop().create_task(self._write(None, None))
        return True

    def _flush(self) -> None:
        """This turn's frames: in one write to the transport, or one by one through aiohttp."""
        batch, self._batch = self._batch, None
        if not batch:
            return
        transport = self._transport
        if transport is None:
            for frame in batch:
                if self._writer is None:
                    self._write_now(frame)
                elif not self._queue(frame):
                    return
            return
        if self.ws.closed or transport.is_closing():
            return  # closing, or the peer is gone: the reader loop notices and cleans up
        if transport.get_write_buffer_size() > WRITE_BUFFER_BYTES:
            for frame in batch:  # through aiohttp's writer, which waits for the drain
                if not self._queue(frame):
                    return
            return
        transport.write(b"".join([text_frame(frame) for frame in batch]))

    def _write_now(self, frame: bytes) -> None:
        """Write with nothing queued before it; hand over to a writer task if it must wait."""
        step = self.ws.send_frame(frame, WSMsgType.TEXT)
        try:
            waiting = step.send(None)
        except StopIteration:
            return  # in the transport's buffer: the usual case
        except (ConnectionError, RuntimeError):
            return  # the peer is gone; the reader loop notices and cleans up
        self._pending = deque()
        self._writer = asyncio.get_running_loop().create_task(self._write(step, waiting))

    @property
    def session_id(self) -> str:
        return self.identity.session_id

    def close_soon(self, code: int, reason: str) -> None:
        """Close after what is already queued; called from the broker, so never awaits."""
        if self._close is not None:
            return
        self._close = (code, reason)
        self._enqueue(_CLOSE)

    async def _write(self, step: Coroutine[Any, Any, None] | None, waiting: Any) -> None:
        """Finish the write that had to wait (if any), then the frames queued behind it."""
        pending = self._pending
        assert pending is not None
        try:
            if step is not None:
                await _complete(step, waiting)
            while pending:
                item = pending.popleft()
                if item is _CLOSE:
                    assert self._close is not None
                    code, reason = self._close
                    await self.ws.close(code=code, message=reason.encode())
                    return
                await self.ws.send_frame(item, WSMsgType.TEXT)
        except (ConnectionError, RuntimeError):
            return  # the peer is gone; the reader loop notices and cleans up
        finally:
            if self._writer is asyncio.current_task():
                self._writer = None
                self._pending = None

    async def finish(self) -> None:
        if self._grace is not None:
            self._grace.cancel()
        writer = self._writer
        if writer is not None:
            writer.cancel()
            try:
                await writer
            except asyncio.CancelledError:
                pass
