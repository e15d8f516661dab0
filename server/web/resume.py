"""`resume`: put the events a client missed in front of the live ones, once each, in order."""
from __future__ import annotations

from typing import Any

from .connection import Connection
from .state import Context


async def resume(ctx: Context, conn: Connection, last_seq: int,
                 epoch: str | None = None) -> dict[str, Any]:
    """Replay the kept events after `last_seq`, then let the held live events follow.

    When the events are gone (too old, or the broker lost them), when they are another history's
    (`epoch` names a history that is not this one: an in-process broker restarted) — or this
    socket already sent live events past the gap, so a replay could no longer come first — the
    client is told to re-read state with `resync_required`.
    """
    events = ctx.services.broker.events
    backlog = None
    if conn.can_replay(last_seq) and (epoch is None or epoch == events.epoch):
        backlog = await events.replay(conn.user_id, last_seq)
    if backlog is None:
        conn.release()
        current = await events.current_seq(conn.user_id)
        conn.send({"type": "resync_required", "last_seq": current, "epoch": events.epoch})
        return {"replayed": 0, "last_seq": current, "resync_required": True}
    replayed = conn.replay(last_seq, backlog)
    return {"replayed": replayed, "last_seq": conn.sent_seq}
