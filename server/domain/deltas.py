"""Streamed text coalesced into `message.delta` events: in order, at most one per window.

Whatever the provider's chunking (one token per chunk, or many), clients get at most one delta per
window (50 ms by default): the first at once, and a timer making sure a stalled provider never
holds back text it already sent. Everything here is synchronous: `emit` must not block (the
broker's non-blocking publish keeps order with its awaited one), so a flush from the timer needs no
task and no lock.
"""
from __future__ import annotations

import asyncio
from typing import Any, Callable

from server import metrics

Emit = Callable[[str, dict[str, Any]], None]  # (event kind, fields), never blocks


class DeltaCoalescer:
    def __init__(self, emit: Emit, *, chat_id: str, message_id: str, model_id: str,
                 window_s: float) -> None:
        self.emit = emit
        self.chat_id = chat_id
        self.message_id = message_id
        self.window = window_s
        self.buffer: list[str] = []
        self.index = 0  # the next delta's index: clients order and de-duplicate by it
        self.last_sent = float("-inf")
        self.timer: asyncio.TimerHandle | None = None
        self.loop = asyncio.get_running_loop()
        # Counted per frame, not per chunk: the metric's lock per token showed in the relay profile.
        self.chunks = metrics.STREAMED_CHUNKS.labels(model_id)

    def push(self, text: str) -> None:
        self.buffer.append(text)
        if self.loop.time() - self.last_sent >= self.window:
            self.flush()
        elif self.timer is None:
            self.timer = self.loop.call_at(self.last_sent + self.window, self._on_timer)

    def _on_timer(self) -> None:
        self.timer = None
        self.flush()

    def cancel_timer(self) -> None:
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None

    def flush(self) -> None:
        """Send what is buffered now, as one delta (nothing when nothing is buffered)."""
        if not self.buffer:
            return
        self.cancel_timer()
        text = "".join(self.buffer)
        self.chunks.inc(len(self.buffer))
        self.buffer.clear()
        index, self.index = self.index, self.index + 1
        self.last_sent = self.loop.time()
        self.emit("message.delta", {"chat_id": self.chat_id, "message_id": self.message_id,
                                    "index": index, "delta": text})
