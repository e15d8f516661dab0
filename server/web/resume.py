"""`resume`: put the events a client missed in front of the live ones, once each, in order."""
from __future__ import annotations

from typing import Any

from .connection import Connection
from .state import Context


async def resume(ctx: Context, conn: Connection, last_seq: int) -> dict[str, Any]:
    """Replay the kept events after `last_seq`, then let the held live events follow.

    When the events are gone (too old, or the broker lost them) — or this socket already sent live
    events past the gap, so a replay could no longer come first — the client is told to re-read
    state with `resync_required`.
    """
    if conn.holding or last_seq >= conn.live_from:
        backlog = await ctx.services.broker.replay(conn.user_id, last_seq)
    else:
        backlog = None
    if backlog is None:
        conn.release()
        current = await ctx.services.broker.current_seq(conn.user_id)
        conn.send({"type": "resync_required", "last_seq": current})
        return {"replayed": 0, "last_seq": current, "resync_required": True}
    replayed = 0
    if conn.holding:
        conn.sent_seq = last_seq
    for seq, frame in backlog:
        if seq > conn.sent_seq:
            conn.push(seq, frame)
            replayed += 1
    conn.release()
    return {"replayed": replayed, "last_seq": conn.sent_seq}
