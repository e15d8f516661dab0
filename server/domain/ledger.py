"""Credits: balances, reservations for replies in flight, exact charging, deposits, the ledger.

Money is integers in micro-credits (1 credit = 1,000,000). A reply reserves its worst case before
the provider is asked; when it ends, the actual cost is charged once and the rest released. The
balance changes only together with a ledger row, in one database transaction; it never drops
below zero, and never below what other replies in flight have reserved.
"""
from __future__ import annotations

from typing import Any, Awaitable, Callable

from protocol.errors import BadRequest, Conflict, NotFound
from providers.base import GenerationRequest
from providers.registry import Model
from providers.tokens import estimate_request
from server import metrics
from storage import Database, Executor, IntegrityError, new_id, utcnow
from storage import ledger as rows

from . import caps, cursors
from .events import EventSink

KINDS = ("deposit", "usage", "refund", "adjustment", "reversal")

# Called inside a deposit's transaction: (tx, ledger row, account before, account after).
Audit = Callable[[Executor, dict[str, Any], dict[str, int], dict[str, int]], Awaitable[None]]


def worst_case(model: Model, request: GenerationRequest) -> int:
    """The most this reply can cost: the whole prompt, and every output token the model allows."""
    return model.worst_cost(estimate_request(request), request.max_tokens)


def account_view(row: dict[str, Any]) -> dict[str, int]:
    balance, reserved = int(row["balance"]), int(row["reserved"])
    return {"balance": balance, "reserved": reserved, "available": balance - reserved}


class Ledger:
    def __init__(self, db: Database, events: EventSink) -> None:
        self.db = db
        self.events = events

    # -- reading --

    async def balance(self, user_id: str) -> dict[str, int]:
        row = await rows.account(self.db, user_id)
        if row is None:
            raise NotFound("no such user")
        return account_view(row)

    async def account(self, user_id: str) -> dict[str, Any]:
        """`balance.get`: the balance, and the user's spend caps with what is left of each."""
        view: dict[str, Any] = dict(await self.balance(user_id))
        view["caps"] = await caps.status(self.db, user_id)
        return view

    async def transactions(self, user_id: str, *, kind: str | None = None, cursor: str | None = None,
                           limit: int = 50) -> dict[str, Any]:
        if kind is not None and kind not in KINDS:
            raise BadRequest(f"kind must be one of {', '.join(KINDS)}", field="kind")
        page = await rows.list_page(self.db, user_id, kind=kind, after=cursors.decode(cursor),
                                    limit=limit + 1)
        more = len(page) > limit
        page = page[:limit]
        next_cursor = cursors.encode(page[-1]["created_at"], page[-1]["id"]) if more else None
        return {"transactions": page, "next_cursor": next_cursor}

    # -- replies: reserve, then settle once --

    async def reserve(self, tx: Executor, user_id: str, message_id: str, amount: int) -> dict | None:
        """Inside the caller's transaction; None when the available balance does not cover it,
        `spend_cap_reached` (raised: the transaction rolls back) when it would pass a cap."""
        row = await rows.reserve(tx, user_id, message_id, amount, utcnow())
        if row is None:
            await caps.check(tx, user_id, amount)  # a cap is the answer even when short, as ever
            metrics.LEDGER.labels("reserve_refused").inc()
            return None
        # The update locked the row and read the caps: checked against the reserved amount before
        # this hold (a refusal rolls the hold back with the transaction).
        await caps.check_row(tx, user_id, amount, {**row, "reserved": int(row["reserved"]) - amount})
        metrics.LEDGER.labels("reserve").inc()
        return account_view(row)

    async def settle(self, tx: Executor, user_id: str, message_id: str, cost: int, *,
                     note: str = "", linked: bool = True,
                     api_key_id: str | None = None) -> tuple[int, dict]:
        """Charge up to `cost` for a finished reply and release the rest of its hold.

        Runs once per message: without a hold (already settled) nothing is charged. The charge
        never reaches into what other replies in flight have reserved. A call that is no
        message (`linked=False`: a chat's title) is held under its own key and charged with a
        `note` instead of a message id; an API call's charge names its key (`api_key_id`).
        Returns (charged, account after).
        """
        hold = await rows.take_hold(tx, message_id)
        if hold is None:
            account = await rows.account(tx, user_id)
            assert account is not None
            return 0, account_view(account)
        metrics.LEDGER.labels("settle").inc()
        held = int(hold["amount"])
        charge = cost
        # The usual case in one statement: what is spare covers the whole cost.
        after = await rows.charge_if_covered(tx, user_id, charge=charge, held=held)
        if after is None:  # it does not (the provider counted more than the hold): charge what is
            account = await rows.lock_account(tx, user_id)
            assert account is not None
            spare = int(account["balance"]) - (int(account["reserved"]) - held)
            charge = max(0, min(cost, spare))
            after = await rows.move(tx, user_id, balance_delta=-charge, reserved_delta=-held)
        if charge:
            await rows.record_usage(tx, id=new_id(), user_id=user_id, amount=-charge,
                                    balance_after=int(after["balance"]),
                                    message_id=message_id if linked else None, now=utcnow(),
                                    note=note, api_key_id=api_key_id)
        return charge, account_view(after)

    async def release_orphans(self, side_before: str | None = None) -> int:
        """Release holds whose reply ended without settling (a crash between two writes); a
        title or API call's only once created before `side_before` (None: every one)."""
        released = 0
        for orphan in await rows.orphan_holds(self.db, side_before):
            async with self.db.transaction() as tx:
                hold = await rows.take_hold(tx, orphan["message_id"])
                if hold is None:
                    continue
                after = await rows.move(tx, hold["user_id"], balance_delta=0,
                                        reserved_delta=-int(hold["amount"]))
            released += 1
            await self.announce(hold["user_id"], account_view(after))
        return released

    # -- deposits and corrections --

    async def credit(self, user_id: str, amount: int, *, kind: str = "deposit", note: str = "",
                     idempotency_key: str | None = None, created_by: str | None = None,
                     audit: Audit | None = None) -> tuple[dict[str, Any], dict[str, int], bool]:
        """A deposit (amount > 0) or an adjustment (either sign, with a note), idempotent on the key.

        Returns (ledger row, account after, replayed). The same key with the same amount, kind and
        note returns the first result and writes nothing; with anything else, `conflict`.
        `audit(tx, row, account_before, account_after)` runs in the deposit's transaction.
        """
        if kind not in ("deposit", "adjustment"):
            raise BadRequest("kind must be deposit or adjustment", field="kind")
        if kind == "deposit" and amount <= 0:
            raise BadRequest("a deposit must be a positive amount", field="amount")
        if amount == 0:
            raise BadRequest("an adjustment must change the balance", field="amount")
        if kind == "adjustment" and not note.strip():
            raise BadRequest("an adjustment needs a note saying why", field="note")
        if idempotency_key:
            earlier = await rows.by_idempotency_key(self.db, user_id, idempotency_key)
            if earlier is not None:
                return await self._replay(user_id, earlier, amount, kind, note)
        try:
            async with self.db.transaction() as tx:
                row, view = await self.apply(tx, user_id, amount, kind=kind, note=note,
                                             idempotency_key=idempotency_key, created_by=created_by)
                if audit is not None:
                    before = {**view, "balance": view["balance"] - amount,
                              "available": view["available"] - amount}
                    await audit(tx, row, before, view)
        except IntegrityError:  # the same key committed first on another connection
            earlier = await rows.by_idempotency_key(self.db, user_id, idempotency_key or "")
            if earlier is None:
                raise
            return await self._replay(user_id, earlier, amount, kind, note)
        await self.announce(user_id, view)
        return row, view, False

    async def apply(self, tx: Executor, user_id: str, amount: int, *, kind: str, note: str,
                    idempotency_key: str | None,
                    created_by: str | None) -> tuple[dict[str, Any], dict[str, int]]:
        """Move the balance by `amount` with its ledger row, inside the caller's transaction.

        The one place a deposit or adjustment is written (the sign-up grant uses it too).
        """
        metrics.LEDGER.labels(kind).inc()
        account = await rows.lock_account(tx, user_id)
        if account is None:
            raise NotFound(f"user {user_id} does not exist", user_id=user_id)
        # A deposit is never refused, even one that leaves a refunded balance below zero.
        if amount < 0 and int(account["balance"]) + amount < int(account["reserved"]):
            raise Conflict("the adjustment would take the balance below zero or below "
                           "what replies in flight have reserved", field="amount")
        after = await rows.move(tx, user_id, balance_delta=amount, reserved_delta=0)
        row = await rows.record(tx, id=new_id(), user_id=user_id, kind=kind, amount=amount,
                                balance_after=int(after["balance"]), message_id=None,
                                idempotency_key=idempotency_key, created_by=created_by,
                                note=note, now=utcnow())
        return row, account_view(after)

    async def reverse(self, tx: Executor, user_id: str, amount: int, *, note: str,
                      idempotency_key: str) -> dict[str, int]:
        """Take back `amount` (> 0) bought credits after a refund or dispute, inside the caller's
        transaction: a `reversal` row, written even when the credits are spent — the only way a
        balance goes below zero (and then no reply starts until a top-up covers it)."""
        metrics.LEDGER.labels("reversal").inc()
        if await rows.lock_account(tx, user_id) is None:
            raise NotFound(f"user {user_id} does not exist", user_id=user_id)
        after = await rows.move(tx, user_id, balance_delta=-amount, reserved_delta=0)
        await rows.record(tx, id=new_id(), user_id=user_id, kind="reversal", amount=-amount,
                          balance_after=int(after["balance"]), message_id=None,
                          idempotency_key=idempotency_key, created_by=None, note=note,
                          now=utcnow())
        return account_view(after)

    async def _replay(self, user_id: str, earlier: dict[str, Any], amount: int, kind: str,
                      note: str) -> tuple[dict[str, Any], dict[str, int], bool]:
        if (int(earlier["amount"]), earlier["kind"], earlier["note"]) != (amount, kind, note):
            raise Conflict("this idempotency key was already used for a different request",
                           field="idempotency_key")
        return earlier, await self.balance(user_id), True

    async def announce(self, user_id: str, view: dict[str, int]) -> None:
        await self.events.publish(user_id, "balance.updated", dict(view))

    # -- auditing --

    async def check(self) -> list[dict[str, Any]]:
        """Every user whose balance is not the sum of their ledger (or reserved not their holds)."""
        return [{k: (int(v) if k not in ("id", "email") else v) for k, v in row.items()}
                for row in await rows.mismatches(self.db)]
