"""A tab that stops reading: it is told to reconnect and resume, and nobody else waits for it.

(What a resume then replays is tests/server/test_ws_resume.py.)
"""
import asyncio
import socket

import aiohttp

from server.web.state import CONTEXT

N = 300
PROMPT = "x" * 19_000  # each chat.updated event carries it: ~20 KB a frame


def small_receive_buffer(addr_info):
    """A client socket whose kernel buffer fills after a few KB, as a stalled tab's would."""
    family, kind, proto, _, _ = addr_info
    sock = socket.socket(family, kind, proto)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    return sock


async def test_a_tab_that_stops_reading_is_closed_to_resume_and_the_others_get_everything(
        make_client, alice_on, connect):
    server = await make_client(ws_send_queue=8)
    alice = await alice_on(server)
    reading = await connect(alice, on=server)
    connector = aiohttp.TCPConnector(socket_factory=small_receive_buffer)
    async with aiohttp.ClientSession(connector=connector) as session:
        stalled = await session.ws_connect(server.make_url("/ws"), max_msg_size=0, headers={
            "Authorization": f"Bearer {alice['access_token']}"})
        hello = await stalled.receive_json()
        assert hello["type"] == "hello"

        chat = await reading.ok("chat.create", title="long prompts")
        for i in range(N):  # ~6 MB of events to every socket of Alice's: more than the kernel buffers
            await reading.ok("chat.update", chat_id=chat["id"], system_prompt=f"{i} {PROMPT}")
        updates = [await reading.event("chat.updated") for _ in range(N)]
        assert [u["chat"]["system_prompt"].split()[0] for u in updates] == [str(i) for i in range(N)]
        seqs = [u["seq"] for u in updates]
        assert seqs == list(range(seqs[0], seqs[0] + N))  # none lost, none twice, in order

        # The stalled tab now reads: what had reached it (if the close did not cut it off), in
        # order, then "reconnect and resume".
        got = []
        while True:
            msg = await asyncio.wait_for(stalled.receive(), 10)
            if msg.type != aiohttp.WSMsgType.TEXT:
                break
            got.append(msg.json())
        assert (msg.type, msg.data, msg.extra) == (aiohttp.WSMsgType.CLOSE, 1013,
                                                   "too slow: reconnect and resume")
        got_seqs = [f["seq"] for f in got if "seq" in f]
        assert got_seqs == list(range(hello["last_seq"] + 1, hello["last_seq"] + 1 + len(got_seqs)))
        assert len(got_seqs) < seqs[-1] - hello["last_seq"]  # it was cut off, not sent everything

    assert (await reading.ok("chat.get", chat_id=chat["id"]))["system_prompt"].startswith(f"{N - 1} ")
    assert len(server.server.app[CONTEXT].sockets) == 1  # only the reading tab is left
