"""Replies orphaned by a crash: rows left `streaming` with nobody generating them.

They become `interrupted`, text kept, and their reservations are released (nothing is charged for
them) — at start-up, and periodically with several instances for instances that never came back.
"""
from __future__ import annotations

import logging
from datetime import datetime, timedelta, timezone

from storage import Database
from storage import messages as message_rows
from storage.base import iso

from .ledger import Ledger
from .runner import StreamSettings
from .completions import API_CALL_MAX_S
from .title_model import SIDE_CALL_MAX_S

log = logging.getLogger("chatwire.generation")


class Recovery:
    def __init__(self, db: Database, ledger: Ledger, instance_id: str,
                 stream: StreamSettings) -> None:
        self.db = db
        self.ledger = ledger
        self.instance_id = instance_id
        self.stream = stream  # how long a live reply may be silent

    async def at_start(self, *, single_instance: bool) -> int:
        """On a single instance (SQLite) every such row is an orphan. With several instances only
        ours are, plus any not written for longer than a live generation can be silent."""
        if single_instance:
            rows = await message_rows.interrupt_orphans(self.db, instance=None, stale_before=None)
        else:
            rows = await message_rows.interrupt_orphans(
                self.db, instance=self.instance_id, stale_before=self._stale_before())
        for row in rows:
            log.info("message %s was left streaming; marked interrupted", row["id"])
        await self.ledger.release_orphans(None if single_instance else self._side_before())
        return len(rows)

    async def sweep(self) -> int:
        """Periodically, with several instances: orphans of instances that never came back."""
        rows = await message_rows.interrupt_orphans(self.db, instance=None,
                                                    stale_before=self._stale_before())
        await self.ledger.release_orphans(self._side_before())
        return len(rows)

    @staticmethod
    def _side_before() -> str:
        """A title or API call's hold may be another instance's, in flight, until it is this old
        (an API call is cut at API_CALL_MAX_S)."""
        oldest = max(SIDE_CALL_MAX_S, API_CALL_MAX_S) + 30
        return iso(datetime.now(timezone.utc) - timedelta(seconds=oldest))

    def _stale_before(self) -> str:
        s = self.stream
        silent = max(s.first_token_timeout_s, s.idle_timeout_s) + 2 * s.flush_s + 30
        return iso(datetime.now(timezone.utc) - timedelta(seconds=silent))
