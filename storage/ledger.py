"""The money tables: users.balance / users.reserved, holds and transactions (the ledger).

Every function here runs inside the caller's transaction. The balance moves only together with a
ledger row; conditional updates make overdrafts impossible even without the surrounding lock, and
the lock (`FOR UPDATE` on PostgreSQL, `BEGIN IMMEDIATE` on SQLite) makes read-then-write exact.
"""
from __future__ import annotations


from .base import Executor, Row

TX_COLUMNS = ("id", "kind", "amount", "balance_after", "message_id", "idempotency_key",
              "created_by", "note", "created_at")
TX_SELECT = ", ".join(TX_COLUMNS)


async def lock_account(db: Executor, user_id: str) -> Row | None:
    """The user's balance and reserved amount, locked until the transaction ends."""
    lock = "" if db.dialect == "sqlite" else " FOR UPDATE"
    return await db.fetchone(f"SELECT balance, reserved FROM users WHERE id = ?{lock}", (user_id,))


async def account(db: Executor, user_id: str) -> Row | None:
    return await db.fetchone("SELECT balance, reserved FROM users WHERE id = ?", (user_id,))


async def reserve(db: Executor, user_id: str, message_id: str, amount: int, now: str) -> Row | None:
    """Hold `amount` if the available balance covers it; None (and nothing written) if not.
    The row comes back with the user's spend caps, for the check the hold must also pass."""
    row = await db.fetchone(
        """UPDATE users SET reserved = reserved + ?
           WHERE id = ? AND balance - reserved >= ?
           RETURNING balance, reserved, daily_cap, monthly_cap""",
        (amount, user_id, amount))
    if row is None:
        return None
    await db.write("INSERT INTO holds (message_id, user_id, amount, created_at) VALUES (?, ?, ?, ?)",
                   (message_id, user_id, amount, now))
    return row


async def take_hold(db: Executor, message_id: str) -> Row | None:
    """Remove a hold and return it; None if it was already settled (settlement happens once)."""
    return await db.fetchone("DELETE FROM holds WHERE message_id = ? RETURNING user_id, amount",
                             (message_id,))


async def charge_if_covered(db: Executor, user_id: str, *, charge: int, held: int) -> Row | None:
    """Release a hold of `held` and take `charge` from the balance, only if the balance minus the
    user's other holds covers it; None (and nothing written) if not. The row lock the update takes
    makes the check and the change one step."""
    return await db.fetchone(
        """UPDATE users SET balance = balance - ?, reserved = reserved - ?
           WHERE id = ? AND balance - (reserved - ?) >= ? RETURNING balance, reserved""",
        (charge, held, user_id, held, charge))


async def move(db: Executor, user_id: str, *, balance_delta: int, reserved_delta: int) -> Row:
    row = await db.fetchone(
        """UPDATE users SET balance = balance + ?, reserved = reserved + ?
           WHERE id = ? RETURNING balance, reserved""",
        (balance_delta, reserved_delta, user_id))
    assert row is not None
    return row


INSERT_TX = f"INSERT INTO transactions ({TX_SELECT}, user_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"


async def record(db: Executor, *, id: str, user_id: str, kind: str, amount: int, balance_after: int,
                 message_id: str | None, idempotency_key: str | None, created_by: str | None,
                 note: str, now: str) -> Row:
    """A ledger row, returned as stored."""
    row = await db.fetchone(f"{INSERT_TX} RETURNING {TX_SELECT}", (
        id, kind, amount, balance_after, message_id, idempotency_key, created_by, note, now, user_id))
    assert row is not None
    return row


async def record_usage(db: Executor, *, id: str, user_id: str, amount: int, balance_after: int,
                       message_id: str | None, now: str, note: str = "",
                       api_key_id: str | None = None) -> None:
    """A reply's charge: nobody reads it back, so it may travel with the transaction's next write.
    A charge that is no message's (a chat's title, an API call) has no `message_id` and says what
    it was; an API call's names its key (`api_key_id`: how a key's month is summed)."""
    if api_key_id is None:
        await db.write(INSERT_TX, (id, "usage", amount, balance_after, message_id, None, None,
                                   note, now, user_id))
        return
    await db.write(
        f"INSERT INTO transactions ({TX_SELECT}, user_id, api_key_id) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (id, "usage", amount, balance_after, message_id, None, None, note, now, user_id,
         api_key_id))


async def by_idempotency_key(db: Executor, user_id: str, key: str) -> Row | None:
    return await db.fetchone(
        f"SELECT {TX_SELECT} FROM transactions WHERE user_id = ? AND idempotency_key = ?",
        (user_id, key))


# A hold for a call that is no message (a chat's title, an API call): its key starts with one of
# these, and it is only an orphan once older than any such call can take.
SIDE_HOLD = "title:"
API_HOLD = "api:"
SIDE_HOLDS = (SIDE_HOLD, API_HOLD)


async def orphan_holds(db: Executor, side_before: str | None = None) -> list[Row]:
    """Holds whose reply is no longer streaming (or gone): left by a crash between two writes.
    Side holds (`SIDE_HOLDS`) only when created before `side_before` (None: all of them)."""
    sql = """SELECT h.message_id FROM holds h LEFT JOIN messages m ON m.id = h.message_id
             WHERE (m.id IS NULL OR m.status <> 'streaming')"""
    if side_before is None:
        return await db.fetchall(sql)
    side = " AND ".join("h.message_id NOT LIKE ?" for _ in SIDE_HOLDS)
    return await db.fetchall(sql + f" AND (({side}) OR h.created_at < ?)",
                             (*(prefix + "%" for prefix in SIDE_HOLDS), side_before))


async def list_page(db: Executor, user_id: str, *, kind: str | None, after: tuple[str, str] | None,
                    limit: int) -> list[Row]:
    where, params = ["user_id = ?"], [user_id]
    if kind:
        where.append("kind = ?")
        params.append(kind)
    if after is not None:
        where.append("(created_at < ? OR (created_at = ? AND id < ?))")
        params += [after[0], after[0], after[1]]
    return await db.fetchall(
        f"""SELECT {TX_SELECT} FROM transactions WHERE {' AND '.join(where)}
            ORDER BY created_at DESC, id DESC LIMIT ?""", (*params, limit))


async def mismatches(db: Executor) -> list[Row]:
    """Users whose balance is not the sum of their ledger, or whose reserved is not their holds;
    or below zero with no refund (`reversal`) to explain it, or reserving more than they have."""
    return await db.fetchall(
        """SELECT u.id, u.email, u.balance, u.reserved,
                  COALESCE((SELECT SUM(t.amount) FROM transactions t WHERE t.user_id = u.id), 0)
                      AS ledger_sum,
                  COALESCE((SELECT SUM(h.amount) FROM holds h WHERE h.user_id = u.id), 0)
                      AS holds_sum
           FROM users u
           WHERE u.balance <> COALESCE((SELECT SUM(t.amount) FROM transactions t
                                        WHERE t.user_id = u.id), 0)
              OR u.reserved <> COALESCE((SELECT SUM(h.amount) FROM holds h
                                         WHERE h.user_id = u.id), 0)
              OR (u.balance < 0 AND NOT EXISTS (SELECT 1 FROM transactions r
                                                WHERE r.user_id = u.id AND r.kind = 'reversal'))
              OR (u.reserved > u.balance AND u.balance >= 0)""")
