"""The model catalogue at runtime: the models the server offers and their prices, kept in the
database and edited by admins without a restart.

Every start adds the models of providers/models.json (or MODELS_FILE) that the database lacks —
the first start seeds them all — and never changes one that is there, so an admin's edits stay.
`models` is the live catalogue, enabled models only: one dict, shared by every service that looks
a model up, and replaced in place when the catalogue changes. A change is written, then the
broker tells every instance (this one too); each reloads from the database and sends its sockets
`models.updated`, after which `models.list` answers the new catalogue. A reply in flight keeps the
`Model` it started with, so it is charged at the price it reserved at.
"""
from __future__ import annotations

import asyncio
import logging
from typing import Any, Protocol

from protocol.errors import BadRequest, Conflict, NotFound
from providers.registry import Model
from storage import Database, IntegrityError, utcnow
from storage import catalogue as rows

from . import audit
from .events import EventSink

log = logging.getLogger("chatwire.catalogue")


class CatalogueSignal(Protocol):
    async def changed(self) -> None:
        """Tell every instance that the catalogue changed."""


class Catalogue:
    def __init__(self, db: Database, events: EventSink, signal: CatalogueSignal,
                 providers: set[str]) -> None:
        self.db = db
        self.events = events
        self.signal = signal
        self.providers = providers  # the configured ones: a model needs one of them
        self.models: dict[str, Model] = {}
        self._pending: set[asyncio.Task[None]] = set()

    async def load(self, shipped: dict[str, Model]) -> None:
        """Add the shipped models the database lacks, then read the catalogue."""
        now = utcnow()
        async with self.db.transaction() as tx:
            position = await rows.next_position(tx)
            for model in shipped.values():
                position += await rows.insert(tx, model, enabled=True, position=position,
                                              now=now, if_new=True)
        await self.reload()

    async def reload(self) -> None:
        live = {row["id"]: rows.model_of(row) for row in await rows.list_all(self.db)
                if row["enabled"]}
        self.models.clear()
        self.models.update(live)

    def changed_elsewhere(self) -> None:
        """The broker's news (from any instance): reload, then tell this instance's sockets."""
        task = asyncio.ensure_future(self._refresh())
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)

    async def _refresh(self) -> None:
        try:
            await self.reload()
        except Exception:
            log.exception("reloading the model catalogue failed; the old one stays")
            return
        self.events.notify_everyone_here("models.updated", {})

    async def settled(self) -> None:
        """Until the reloads asked for have run (tests, and an admin's answer)."""
        while self._pending:
            await asyncio.gather(*list(self._pending), return_exceptions=True)

    # -- the admin's side --

    async def list_all(self) -> dict[str, Any]:
        return {"models": [{**row, "available": row["provider"] in self.providers}
                           for row in await rows.list_all(self.db)]}

    async def create(self, fields: dict[str, Any], actor: audit.Actor) -> dict[str, Any]:
        if fields["provider"] not in self.providers:
            raise BadRequest(f"provider {fields['provider']!r} is not configured on this server",
                             field="provider")
        enabled = fields.pop("enabled", True)
        model = Model(**fields)
        _check_sizes(model.context_window, model.max_output_tokens)
        try:
            async with self.db.transaction() as tx:
                await rows.insert(tx, model, enabled=enabled,
                                  position=await rows.next_position(tx), now=utcnow())
                row = await rows.get(tx, model.id)
                await audit.record(tx, actor, "model.create", None, None, _audited(row))
        except IntegrityError:
            raise Conflict(f"a model named {model.id!r} exists already", field="id") from None
        await self._changed()
        return {"model": row}

    async def update(self, model_id: str, changes: dict[str, Any],
                     actor: audit.Actor) -> dict[str, Any]:
        if not changes:
            raise BadRequest("give at least one field to change")
        async with self.db.transaction() as tx:
            before = await rows.get(tx, model_id)
            if before is None:
                raise NotFound(f"model {model_id} does not exist", model_id=model_id)
            after = {**before, **changes}
            _check_sizes(after["context_window"], after["max_output_tokens"])
            await rows.update(tx, model_id, changes, utcnow())
            row = await rows.get(tx, model_id)
            await audit.record(tx, actor, "model.update", None, _audited(before), _audited(row))
        await self._changed()
        return {"model": row, "before": before}

    async def _changed(self) -> None:
        """Every instance hears (each reloads and tells its sockets); this one has reloaded by
        the time the admin is answered, whenever the broker's echo comes back."""
        try:
            await self.signal.changed()
        except Exception:  # written, but the others did not hear: this instance at least
            log.exception("announcing a catalogue change failed")
            self.changed_elsewhere()
        await self.reload()
        await self.settled()


def _audited(row: dict[str, Any] | None) -> dict[str, Any] | None:
    """A model as the audit log keeps it (its fields, not its timestamps)."""
    return None if row is None else {k: v for k, v in row.items()
                                     if k not in ("created_at", "updated_at")}


def _check_sizes(context_window: int, max_output_tokens: int) -> None:
    if max_output_tokens > context_window:
        raise BadRequest("max_output_tokens cannot exceed context_window",
                         field="max_output_tokens")
