"""Reconnecting without losing anything: resume replays what a socket missed, once, in order."""
import asyncio

import pytest

from providers.factory import ProviderSettings
from tests.client import WSClient
from tests.helpers import collect, deltas_of, open_socket, read_until_done


@pytest.fixture
async def slow(make_client):
    return await make_client(providers=ProviderSettings(echo_tokens_per_second=60))


@pytest.mark.parametrize("how", ["request", "url"])
async def test_a_socket_dropped_mid_reply_resumes_and_misses_nothing(slow, alice_on, how):
    alice = await alice_on(slow)
    sender = await open_socket(slow, alice)
    watcher = await open_socket(slow, alice)
    await watcher.ok("ping")  # a client that has said something gets live events at once
    chat = await sender.ok("chat.create", title="resume me")
    words = " ".join(f"w{i}" for i in range(120))  # 2 s at 60 tokens/s
    sent = await sender.ok("message.send", chat_id=chat["id"], content=words)
    reply_id = sent["assistant_message"]["id"]

    await deltas_of(watcher, reply_id, 3)  # some deltas reach the watcher, then its network drops
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 0.1  # not "until quiet": deltas come every 50 ms to the end
    while loop.time() < deadline:
        try:
            await watcher._next_frame(timeout=0.02)
        except asyncio.TimeoutError:
            break
    seen = list(watcher.frames)
    assert not any(f.get("type") == "message.done" for f in seen)  # it dropped mid-reply
    await watcher.ws.close()
    last = max(f["seq"] for f in seen if "seq" in f)
    # more of the reply goes by while it is away
    await deltas_of(sender, reply_id, 3, after_seq=last)

    if how == "url":
        again = await open_socket(slow, alice, f"/ws?last_seq={last}")
    else:
        again = await open_socket(slow, alice)
        resumed = await again.ok("resume", last_seq=last)
        assert resumed["replayed"] > 0
    await read_until_done(again, reply_id)
    frames = seen + again.frames[1:]
    seqs, text, final = collect(frames, reply_id)
    assert seqs == list(range(seqs[0], seqs[-1] + 1))  # no gap, no duplicate, in order
    stored = (await sender.ok("message.list", chat_id=chat["id"]))["messages"][-1]
    assert text == stored["content"] == words and final["message"]["status"] == "complete"


async def test_events_older_than_the_history_need_a_resync(make_client, alice_on):
    small = await make_client(event_history=5)
    alice = await alice_on(small)
    sock = await open_socket(small, alice)
    for i in range(12):
        await sock.ok("chat.create", title=f"c{i}")
    fresh = await open_socket(small, alice)
    answer = await fresh.ok("resume", last_seq=1)
    assert answer["resync_required"] is True and answer["replayed"] == 0
    resync = await fresh.event("resync_required")
    assert resync["last_seq"] == answer["last_seq"] >= fresh.hello["last_seq"]
    # a client ahead of the server (it restarted and lost its history) must resync too
    ahead = await open_socket(small, alice)
    assert (await ahead.ok("resume", last_seq=10_000))["resync_required"] is True
    # nothing missed: nothing to replay
    current = await open_socket(small, alice)
    assert await current.ok("resume", last_seq=current.hello["last_seq"]) == {
        "replayed": 0, "last_seq": current.hello["last_seq"]}


async def test_a_listener_that_never_speaks_still_gets_live_events(client, alice, connect):
    listener = await connect(alice)
    actor = await connect(alice)
    chat = await actor.ok("chat.create", title="heard")
    event = await listener.event("chat.created", timeout=3)  # after the short resume grace
    assert event["chat_id"] == chat["id"]


async def test_presence_lists_devices_and_tells_the_others(client, alice, connect):
    phone = await connect(alice)
    phone.ignore = frozenset()
    await phone.ok("ping")
    laptop = await client.ws_connect("/ws", headers={
        "Authorization": f"Bearer {alice['access_token']}", "User-Agent": "Laptop/1.0"})
    laptop_sock = WSClient(laptop)
    hello = await laptop_sock._next_frame()
    change = await phone.event("presence.changed")
    if change["connection_id"] == phone.hello["connection_id"]:  # its own arrival, first
        change = await phone.event("presence.changed")
    assert change["change"] == "connected" and change["connection_id"] == hello["connection_id"]
    assert change["device"]["user_agent"] == "Laptop/1.0" and "devices" not in change
    devices = (await phone.ok("presence.get"))["devices"]
    assert [d["connection_id"] for d in devices] == [phone.hello["connection_id"],
                                                     hello["connection_id"]]
    assert devices[1]["user_agent"] == "Laptop/1.0" and devices[1]["instance"]
    await laptop.close()
    gone = await phone.event("presence.changed")
    assert gone["change"] == "disconnected" and gone["connection_id"] == hello["connection_id"]
    assert "devices" not in gone and "device" not in gone  # the change alone
    devices = (await phone.ok("presence.get"))["devices"]
    assert [d["connection_id"] for d in devices] == [phone.hello["connection_id"]]


async def test_a_bad_last_seq_in_the_url_is_refused(client, alice):
    resp = await client.get("/ws?last_seq=-1", headers={
        "Authorization": f"Bearer {alice['access_token']}"})
    assert resp.status == 400 and (await resp.json())["error"]["field"] == "last_seq"

