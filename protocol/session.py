"""One connection's event order, sans I/O: every event once, in `seq` order, missed ones first.

A user's events carry an increasing `seq`. A new connection learns the latest (`start`, from its
`hello`); events after it are live. Until the client's first frame (or a short grace, the
transport's timer) live events are *held*, so that a `resume` can put the events the client missed
in front of them. Releasing the hold sends the held events, minus any the client already got.
Notices (seq 0: presence) are never numbered, never held back by order, never de-duplicated.

No sockets, no clock, no event loop: inputs are method calls, output is `write(frame)`, which the
transport provides (the server's `Connection` is a `Session` whose `write` is its socket writer —
a subclass, not a second object per socket, because idle sockets are counted in bytes).
"""
from __future__ import annotations

from typing import Any, Iterable

NOTICE = 0  # the seq of a notice
MAX_HELD = 1000  # a client that never speaks stops being held after this many events


class Session:
    __slots__ = ("live_from", "sent_seq", "_held")

    def __init__(self) -> None:
        self.live_from = 0  # the hello's last_seq: live events are the ones after it
        self.sent_seq = 0  # the latest event written to this connection
        self._held: list[tuple[int, Any]] | None = []  # held from the start, until released

    def write(self, frame: Any) -> None:
        """Hand a frame to the transport, in order. Must not block."""
        raise NotImplementedError

    # -- inputs --

    def start(self, seq: int) -> None:
        """Events up to `seq` are history (a resume fetches them); later ones are live."""
        self.live_from = self.sent_seq = seq

    @property
    def holding(self) -> bool:
        return self._held is not None

    def deliver(self, seq: int, frame: Any) -> None:
        """A live event (or a notice) from the broker."""
        if self._held is not None:
            self._held.append((seq, frame))
            if len(self._held) > MAX_HELD:
                self.release()
            return
        self.push(seq, frame)

    def push(self, seq: int, frame: Any) -> None:
        """Write an event unless this connection already has it (a notice always goes)."""
        if seq:
            if seq <= self.sent_seq:
                return
            self.sent_seq = seq
        self.write(frame)

    def release(self) -> None:
        """Stop holding: the held events follow whatever was written, minus any already sent."""
        held, self._held = self._held, None
        for seq, frame in held or ():
            self.push(seq, frame)

    # -- resume --

    def can_replay(self, last_seq: int) -> bool:
        """Whether a replay after `last_seq` could still come before every live event written.

        Once live events past the gap went out, missed events can no longer come first: the
        client must re-read state instead (`resync_required`).
        """
        return self.holding or last_seq >= self.live_from

    def replay(self, last_seq: int, backlog: Iterable[tuple[int, Any]]) -> int:
        """Write the kept events after `last_seq`, then release the held ones; how many replayed."""
        if self.holding:
            self.sent_seq = last_seq
        replayed = 0
        for seq, frame in backlog:
            if seq > self.sent_seq:
                self.push(seq, frame)
                replayed += 1
        self.release()
        return replayed
