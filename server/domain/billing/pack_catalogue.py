"""Credit packs at runtime: kept in the `credit_packs` table and edited by admins without a
restart, like the model catalogue (server/domain/catalogue.py).

Every start adds the packs of the CREDIT_PACKS file that the table lacks — the first start seeds
them all — and never changes one that is there, so an admin's edits stay. `packs` is the live
set, disabled packs too (a disabled one cannot be checked out, and says so): one dict, shared
with `Billing` and replaced in place on a change. A change is written with its audit entry in one
transaction, then the broker's catalogue signal tells every instance; each reloads the packs
(and the models) from the database. An order copies its pack's price when it is made, so a
change never touches an order already made.
"""
from __future__ import annotations

import asyncio
import logging
from typing import Any, Iterable

from protocol.errors import BadRequest, Conflict, NotFound
from storage import Database, IntegrityError, utcnow
from storage import credit_packs as rows

from .. import audit
from ..catalogue import CatalogueSignal
from .packs import Pack, default_title

log = logging.getLogger("chatwire.billing.packs")


def pack_of(row: dict[str, Any]) -> Pack:
    return Pack(row["id"], row["credits"], row["price"], row["currency"], row["title"],
                row["enabled"])


class PackCatalogue:
    def __init__(self, db: Database, signal: CatalogueSignal, currencies: Iterable[str]) -> None:
        self.db = db
        self.signal = signal
        self.currencies = frozenset(currencies)  # what the enabled providers take
        self.packs: dict[str, Pack] = {}
        self._pending: set[asyncio.Task[None]] = set()

    async def load(self, shipped: dict[str, Pack]) -> None:
        """Add the file's packs the table lacks, then read the packs."""
        now = utcnow()
        async with self.db.transaction() as tx:
            position = await rows.next_position(tx)
            for pack in shipped.values():
                position += await rows.insert(tx, _fields(pack), position=position, now=now,
                                              if_new=True)
        await self.reload()

    async def reload(self) -> None:
        live = {row["id"]: pack_of(row) for row in await rows.list_all(self.db)}
        self.packs.clear()
        self.packs.update(live)

    def changed_elsewhere(self) -> None:
        """The broker's news (from any instance): reload."""
        task = asyncio.ensure_future(self._refresh())
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)

    async def _refresh(self) -> None:
        try:
            await self.reload()
        except Exception:
            log.exception("reloading the credit packs failed; the old ones stay")

    async def settled(self) -> None:
        while self._pending:
            await asyncio.gather(*list(self._pending), return_exceptions=True)

    # -- the admin's side --

    async def list_all(self) -> dict[str, Any]:
        return {"packs": [{**row, "sellable": row["currency"] in self.currencies}
                          for row in await rows.list_all(self.db)],
                "currencies": sorted(self.currencies)}

    async def create(self, fields: dict[str, Any], actor: audit.Actor) -> dict[str, Any]:
        pack = {"enabled": True, **fields, "currency": self._currency(fields["currency"])}
        pack["title"] = pack.get("title") or default_title(pack["credits"])
        try:
            async with self.db.transaction() as tx:
                await rows.insert(tx, pack, position=await rows.next_position(tx), now=utcnow())
                row = await rows.get(tx, pack["id"])
                await audit.record(tx, actor, "pack.create", None, None, _audited(row))
        except IntegrityError:
            raise Conflict(f"a pack named {pack['id']!r} exists already", field="id") from None
        await self._changed()
        return {"pack": row}

    async def update(self, pack_id: str, changes: dict[str, Any],
                     actor: audit.Actor) -> dict[str, Any]:
        if not changes:
            raise BadRequest("give at least one field to change")
        if "currency" in changes:
            changes = {**changes, "currency": self._currency(changes["currency"])}
        if "title" in changes and not changes["title"]:
            raise BadRequest("title cannot be empty", field="title")
        async with self.db.transaction() as tx:
            before = await rows.get(tx, pack_id)
            if before is None:
                raise NotFound(f"pack {pack_id} does not exist", pack_id=pack_id)
            await rows.update(tx, pack_id, changes, utcnow())
            row = await rows.get(tx, pack_id)
            await audit.record(tx, actor, "pack.update", None, _audited(before), _audited(row))
        await self._changed()
        return {"pack": row}

    def _currency(self, value: str) -> str:
        currency = value.strip().lower()
        if currency not in self.currencies:
            takes = ", ".join(sorted(self.currencies)) or "nothing (no provider is enabled)"
            raise BadRequest(f"no enabled payment provider takes {value!r}; they take {takes}",
                             field="currency")
        return currency

    async def _changed(self) -> None:
        """Every instance hears (each reloads); this one has reloaded before the admin's answer."""
        try:
            await self.signal.changed()
        except Exception:  # written, but the others did not hear: this instance at least
            log.exception("announcing a credit pack change failed")
        await self.reload()
        await self.settled()


def _fields(pack: Pack) -> dict[str, Any]:
    return {"id": pack.id, "title": pack.title, "price": pack.price, "currency": pack.currency,
            "credits": pack.credits, "enabled": pack.enabled}


def _audited(row: dict[str, Any] | None) -> dict[str, Any] | None:
    """A pack as the audit log keeps it (its fields, not its timestamps)."""
    return None if row is None else {k: v for k, v in row.items()
                                     if k not in ("created_at", "updated_at", "position")}
