"""The frames one turn of the loop gives a socket leave in one write, in order, and a client reads
each as its own message (server/web/connection.py).

A real aiohttp server and client over a real socket; the socket's transport is wrapped only to
count the writes that reach it (the wrapper forwards every call).
"""
import asyncio

import aiohttp
import orjson
from aiohttp import web

from server.domain.accounts import Identity
from server.web.connection import WRITE_BUFFER_BYTES, Connection


class CountedTransport:
    """The socket's transport, with the writes made to it kept for the test to count."""

    def __init__(self, inner: asyncio.WriteTransport) -> None:
        self.inner = inner
        self.writes: list[int] = []

    def write(self, data: bytes) -> None:
        self.writes.append(len(data))
        self.inner.write(data)

    def is_closing(self) -> bool:
        return self.inner.is_closing()

    def get_write_buffer_size(self) -> int:
        return self.inner.get_write_buffer_size()


async def open_pair(aiohttp_client, *, compress: bool = False):
    """A server-side Connection and the client socket on its other end."""
    made: asyncio.Future = asyncio.get_running_loop().create_future()

    async def handler(request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(compress=compress)
        await ws.prepare(request)
        transport = CountedTransport(request.transport)
        conn = Connection(ws, Identity("u1", "s1", "user"), 8, transport=transport)
        made.set_result((conn, transport))
        async for _ in ws:
            pass
        await conn.finish()
        return ws

    app = web.Application()
    app.router.add_get("/ws", handler)
    client = await aiohttp_client(app)
    sock = await client.ws_connect("/ws", max_msg_size=0, compress=15 if compress else 0)
    conn, transport = await made
    return conn, transport, sock


async def read(sock, count: int) -> list[dict]:
    return [orjson.loads((await asyncio.wait_for(sock.receive(), 5)).data) for _ in range(count)]


async def test_one_turns_frames_reach_the_socket_in_one_write_and_arrive_as_separate_messages(
        aiohttp_client):
    conn, transport, sock = await open_pair(aiohttp_client)
    conn.write(orjson.dumps({"type": "message.created", "seq": 1}))
    conn.write(orjson.dumps({"type": "chat.updated", "seq": 2, "chat": {"title": "Привет"}}))
    conn.send({"type": "reply", "id": "s", "ok": True, "data": {"text": "x" * 300}})  # 2-byte length
    assert transport.writes == []  # written at the loop's next turn, not now
    await asyncio.sleep(0)
    assert len(transport.writes) == 1
    assert await read(sock, 3) == [
        {"type": "message.created", "seq": 1},
        {"type": "chat.updated", "seq": 2, "chat": {"title": "Привет"}},
        {"type": "reply", "id": "s", "ok": True, "data": {"text": "x" * 300}}]

    conn.write(orjson.dumps({"type": "message.delta", "seq": 3}))  # the next turn: its own write
    await asyncio.sleep(0)
    assert len(transport.writes) == 2
    assert await read(sock, 1) == [{"type": "message.delta", "seq": 3}]
    await sock.close()


async def test_a_backlog_released_at_once_is_cut_into_writes_the_size_of_the_buffer_limit(
        aiohttp_client):
    conn, transport, sock = await open_pair(aiohttp_client)
    big = "y" * 70_000  # an 8-byte length
    frames = [orjson.dumps({"seq": i, "text": big if i == 5 else f"{i} " + "z" * 19_000})
              for i in range(60)]
    for frame in frames:  # as a held backlog is, in one go
        conn.write(frame)
    got = await read(sock, 60)
    assert [f["seq"] for f in got] == list(range(60))  # none lost, in order
    assert got[5]["text"] == big
    assert len(transport.writes) > 10  # not one 1.2 MB write
    assert max(transport.writes) <= WRITE_BUFFER_BYTES + 70_100  # at most one frame over the limit
    await sock.close()


async def test_frames_written_just_before_a_close_go_out_before_it(aiohttp_client):
    conn, transport, sock = await open_pair(aiohttp_client)
    conn.write(orjson.dumps({"type": "balance.updated", "seq": 7}))
    conn.close_soon(1001, "server shutting down")
    assert await read(sock, 1) == [{"type": "balance.updated", "seq": 7}]
    closing = await asyncio.wait_for(sock.receive(), 5)
    assert (closing.type, closing.data, closing.extra) == (aiohttp.WSMsgType.CLOSE, 1001,
                                                           "server shutting down")


async def test_with_compression_every_frame_goes_through_aiohttps_deflating_writer(aiohttp_client):
    conn, transport, sock = await open_pair(aiohttp_client, compress=True)
    for i in range(3):
        conn.write(orjson.dumps({"seq": i, "text": "сжатие " * 50}))
    assert [f["seq"] for f in await read(sock, 3)] == [0, 1, 2]
    assert conn.ws.compress  # negotiated
    assert transport.writes == []  # none framed here: the deflate context is aiohttp's
    await sock.close()
