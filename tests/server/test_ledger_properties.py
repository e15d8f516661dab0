"""Random interleavings of deposits, replies, stops and failures never break the ledger.

Hypothesis drives the real Ledger against the real database (both engines); after every step the
balance is the sum of the ledger, the reserved amount is the sum of open holds, nothing is
negative, and each operation did exactly what the rules say.
"""
import asyncio
import uuid

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from protocol.errors import Conflict
from server.broker import make_broker
from server.domain.ledger import Ledger
from storage import chats, messages, new_id, open_database, users, utcnow

# Small amounts as often as large ones, so balances, holds and prices collide at the boundaries
# (a price above the hold, an adjustment down to the reserved amount) where the rules bite.
AMOUNT = st.one_of(st.integers(0, 20), st.integers(0, 5_000))
OPS = st.lists(st.one_of(
    st.tuples(st.just("deposit"), AMOUNT.filter(bool)),
    st.tuples(st.just("adjust"), st.one_of(AMOUNT, AMOUNT.map(lambda a: -a)).filter(bool)),
    st.tuples(st.just("reply"), AMOUNT),  # reserve this much for a new reply
    st.tuples(st.just("finish"), AMOUNT),  # the oldest reply ends costing this (maybe over its hold)
    st.tuples(st.just("fail"), st.just(0)),  # the oldest reply fails: charged nothing
    st.tuples(st.just("settle_again"), AMOUNT),  # a duplicate settlement
), max_size=25)


async def scenario(database_url, ops):
    db = await open_database(database_url, pool_size=2)
    ledger = Ledger(db, make_broker(None, "local", on_stop=print).events)
    try:
        user = await users.insert(db, id=new_id(), email=f"p{uuid.uuid4().hex}@example.com",
                                  email_key=f"p{uuid.uuid4().hex}", password_hash="x",
                                  display_name="p", role="user", now=utcnow())
        uid = user["id"]
        balance, reserved = 0, 0
        open_holds, settled = [], []
        for op, amount in ops:
            if op == "deposit":
                await ledger.credit(uid, amount)
                balance += amount
            elif op == "adjust":
                try:
                    await ledger.credit(uid, amount, kind="adjustment", note="property test")
                    balance += amount
                except Conflict:
                    assert balance + amount < reserved  # refused only when it would cut into holds
            elif op == "reply":  # each in its own chat: a chat streams one reply at a time
                chat = await chats.insert(db, id=new_id(), user_id=uid, title="", favorite=False,
                                          model=None, system_prompt=None, tags=[], now=utcnow())
                reply = await messages.insert(db, id=new_id(), chat_id=chat["id"], user_id=uid,
                                              parent_id=None, role="assistant", content="",
                                              model="echo", status="streaming",
                                              client_msg_id=None, now=utcnow())
                async with db.transaction() as tx:
                    granted = await ledger.reserve(tx, uid, reply["id"], amount)
                assert (granted is not None) == (balance - reserved >= amount)
                if granted is not None:
                    reserved += amount
                    open_holds.append((reply["id"], amount))
            elif op in ("finish", "fail") and open_holds:
                message_id, held = open_holds.pop(0)
                price = amount if op == "finish" else 0
                async with db.transaction() as tx:
                    charged, _ = await ledger.settle(tx, uid, message_id, price)
                assert charged == max(0, min(price, balance - (reserved - held)))
                balance -= charged
                reserved -= held
                settled.append(message_id)
            elif op == "settle_again" and settled:
                async with db.transaction() as tx:
                    charged, _ = await ledger.settle(tx, uid, settled[-1], amount)
                assert charged == 0  # a message is charged once, ever
            view = await ledger.balance(uid)
            assert view == {"balance": balance, "reserved": reserved,
                            "available": balance - reserved}
            assert 0 <= reserved <= balance
            assert await ledger.check() == []
    finally:
        await db.close()


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops=OPS)
def test_random_interleavings_keep_the_ledger_whole(database_url, ops):
    asyncio.run(scenario(database_url, ops))
