"""The generation core without a transport: the services as `server.services.build` assembles them,
a reply started and consumed as a stream of events, with no socket and no HTTP server anywhere —
what the OpenAI-compatible endpoint will write as server-sent events."""
from __future__ import annotations

import asyncio
from dataclasses import replace

import pytest

from protocol.errors import NotFound
from server import services
from tests.helpers import PASSWORD


@pytest.fixture
async def core(settings):
    built = await services.build(replace(settings, migrate_on_start=False))
    yield built
    await built.close()


async def collect(events):
    """Every event of a reply, to its end (a stream that never ends fails here, not in CI's limit)."""
    async with asyncio.timeout(10):
        return [event async for event in events]


async def signed_up(core, email="core@example.com"):
    return await core.accounts.create_user(email, PASSWORD, "Core")


async def test_a_reply_is_consumed_as_events_without_any_socket(core):
    user = await signed_up(core)
    chat = await core.chats.create(user["id"], title="no socket")
    started = await core.generations.send_streaming(user["id"], chat["id"], "Привет, мир и все")
    assert started.answer["message"]["content"] == "Привет, мир и все"
    reply_id = started.answer["assistant_message"]["id"]
    assert started.answer["assistant_message"]["status"] == "streaming"

    events = await collect(started.events)

    kinds = [kind for kind, _ in events]
    assert kinds[-1] == "message.done" and set(kinds[:-1]) == {"message.delta"}, kinds
    deltas = [fields for kind, fields in events if kind == "message.delta"]
    assert [d["index"] for d in deltas] == list(range(len(deltas)))
    assert all(d["message_id"] == reply_id for d in deltas)
    text = "".join(d["delta"] for d in deltas)
    done = events[-1][1]
    assert done["message"]["content"] == text == "Привет, мир и все"  # echo repeats the user
    assert done["message"]["status"] == "complete"
    assert done["cost"] > 0 and done["balance"] == user["balance"] - done["cost"]
    # What storage and the ledger say afterwards agrees with what the stream said.
    page = await core.messages.list(user["id"], chat["id"])
    assert [m["content"] for m in page["messages"]] == ["Привет, мир и все", text]
    assert (await core.ledger.balance(user["id"]))["balance"] == done["balance"]
    assert await core.ledger.check() == []
    assert core.streams.running() == 0


async def test_a_stopped_reply_ends_its_stream_with_the_stopped_event(core, settings):
    slow = await services.build(replace(settings, migrate_on_start=False,
                                        providers=replace(settings.providers,
                                                          echo_tokens_per_second=20)))
    try:
        user = await signed_up(slow, "slow@example.com")
        chat = await slow.chats.create(user["id"])
        started = await slow.generations.send_streaming(
            user["id"], chat["id"], " ".join(f"word{i}" for i in range(200)))
        reply_id = started.answer["assistant_message"]["id"]
        seen = []
        async with asyncio.timeout(10):
            async for kind, fields in started.events:
                seen.append(kind)
                if kind == "message.delta" and len(seen) == 1:
                    stopped = await slow.generations.stop(user["id"], reply_id)
                    assert stopped["message"]["status"] == "stopped"
        assert seen[0] == "message.delta" and seen[-1] == "message.stopped", seen
        assert await slow.ledger.check() == []
    finally:
        await slow.close()


async def test_a_refused_send_starts_nothing_and_changes_nothing(core):
    user = await signed_up(core)
    stranger = await signed_up(core, "stranger@example.com")
    chat = await core.chats.create(user["id"])
    with pytest.raises(NotFound):
        await core.generations.send_streaming(stranger["id"], chat["id"], "not yours")
    assert (await core.messages.list(user["id"], chat["id"]))["messages"] == []
    assert core.streams.running() == 0


async def test_a_retried_send_answers_the_first_and_starts_no_second_reply(core):
    user = await signed_up(core)
    chat = await core.chats.create(user["id"])
    first = await core.generations.send_streaming(user["id"], chat["id"], "once", client_msg_id="c-1")
    again = await core.generations.send_streaming(user["id"], chat["id"], "once", client_msg_id="c-1")
    assert again.events is None and again.answer["duplicate"] is True
    assert again.answer["message"]["id"] == first.answer["message"]["id"]
    assert [kind for kind, _ in await collect(first.events)][-1] == "message.done"
    assert len((await core.messages.list(user["id"], chat["id"]))["messages"]) == 2


async def test_regenerated_and_edited_replies_stream_to_their_caller_too(core):
    user = await signed_up(core)
    chat = await core.chats.create(user["id"])
    first = await core.generations.send_streaming(user["id"], chat["id"], "first words")
    await collect(first.events)
    again = await core.generations.regenerate_streaming(
        user["id"], first.answer["assistant_message"]["id"])
    regenerated = await collect(again.events)
    assert regenerated[-1][0] == "message.done"
    assert regenerated[-1][1]["message"]["content"] == "first words"
    edited = await core.generations.edit_streaming(user["id"], first.answer["message"]["id"],
                                                   "other words")
    events = await collect(edited.events)
    assert events[-1][0] == "message.done" and events[-1][1]["message"]["content"] == "other words"
    assert edited.answer["message"]["sibling_ids"] == [first.answer["message"]["id"],
                                                       edited.answer["message"]["id"]]


async def test_listening_after_a_reply_ended_ends_at_once(core):
    user = await signed_up(core)
    chat = await core.chats.create(user["id"])
    started = await core.generations.send_streaming(user["id"], chat["id"], "short")
    await collect(started.events)
    # the job is gone from the registry; a late listener on a finished job gets an empty stream
    from server.domain.streams import Job
    job = Job(user["id"], chat["id"], "m", None)
    job.ended()
    assert await collect(job.listen()) == []



async def test_a_stop_landing_while_the_reply_writes_its_end_waits_for_that_write(settings):
    """The reply's stream is over and its final write (row, charge, hold) waits on the database;
    a stop arriving then must not cut that write short (it left the row streaming and the
    credits held until recovery)."""
    core = await services.build(replace(settings, migrate_on_start=False, providers=replace(
        settings.providers, echo_tokens_per_second=50)))
    try:
        user = await signed_up(core, "late-stop@example.com")
        chat = await core.chats.create(user["id"])
        started = await core.generations.send_streaming(user["id"], chat["id"], "быстро fast",
                                                        listen=False)
        reply_id = started.answer["assistant_message"]["id"]
        db = core.db
        async with db.quick.transaction() as tx:  # the reply's final write waits behind this
            if db.dialect == "postgresql":
                await tx.fetchall("SELECT id FROM users WHERE id = ? FOR UPDATE", (user["id"],))
            await asyncio.sleep(0.5)  # two tokens at 50/s: the stream is over, its end waits
            stopping = asyncio.ensure_future(core.generations.stop(user["id"], reply_id))
            await asyncio.sleep(0.1)  # the stop has landed
        async with asyncio.timeout(10):
            stopped = await stopping
        assert stopped["message"]["status"] == "complete"  # it had ended; nothing cut short
        assert stopped["message"]["content"] == "быстро fast"
        account = await core.ledger.balance(user["id"])
        assert account["reserved"] == 0 and account["balance"] < user["balance"]
        assert await core.ledger.check() == []
    finally:
        await core.close()
