"""The hello's `epoch` names the event history seqs count in: a client resuming against another
history (an in-process broker that restarted, its seqs counting from 1 again) is told to resync
instead of being replayed someone else's events under the seqs it asked for."""
from __future__ import annotations

import pytest

from tests.helpers import open_socket as socket


async def make_events(server, user, n):
    sock = await socket(server, user)
    for i in range(n):
        await sock.ok("chat.create", title=f"chat {i}")
    await sock.ws.close()


@pytest.mark.parametrize("how", ["url", "request"])
async def test_a_resume_into_a_restarted_history_is_a_resync_not_a_wrong_replay(make_client,
                                                                               alice_on, how):
    before = await make_client()
    alice = await alice_on(before)
    await make_events(before, alice, 3)
    first = await socket(before, alice)
    last_seq, old_epoch = first.hello["last_seq"], first.hello["epoch"]
    assert last_seq == 3 and old_epoch
    await first.ws.close()

    after = await make_client()  # the same database, a new process's history: seqs start over
    await make_events(after, alice, 5)  # its seq passes the client's: only the epoch tells
    if how == "url":
        sock = await socket(after, alice, f"/ws?last_seq={last_seq}&epoch={old_epoch}")
        assert sock.hello["epoch"] != old_epoch
        resync = await sock.event("resync_required")
    else:
        sock = await socket(after, alice)
        assert sock.hello["epoch"] != old_epoch
        answer = await sock.ok("resume", last_seq=last_seq, epoch=old_epoch)
        assert answer == {"replayed": 0, "last_seq": 5, "resync_required": True}
        resync = await sock.event("resync_required")
    assert resync["last_seq"] == 5 and resync["epoch"] == sock.hello["epoch"]
    await sock.no_event()  # nothing of the other history was replayed as if it were the client's


async def test_a_resume_in_the_same_history_replays_as_before(client, alice):
    sock = await socket(client, alice)
    epoch = sock.hello["epoch"]
    await sock.ok("chat.create", title="one")
    await sock.ok("chat.create", title="two")
    await sock.ws.close()
    again = await socket(client, alice, f"/ws?last_seq=1&epoch={epoch}")
    replayed = await again.event("chat.created")
    assert replayed["seq"] == 2 and replayed["chat"]["title"] == "two"
    assert again.hello["epoch"] == epoch
