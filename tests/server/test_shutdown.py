"""SIGTERM: not ready at once, no new sockets, replies in flight finish (or end interrupted at the
deadline, charged nothing), then sockets close with 1001 so clients reconnect elsewhere."""
import signal

import aiohttp

from protocol import decode
from tests.helpers import (PASSWORD, call, free_port, start_server, until, until_closed,
                           wait_ready)


async def sign_up(session, base):
    async with session.post(f"{base}/api/v1/auth/register",
                            json={"email": "drain@example.com", "password": PASSWORD}) as resp:
        return {"Authorization": f"Bearer {(await resp.json())['access_token']}"}


async def first_delta(ws, message_id):
    """Until the reply `message_id` is streaming: its first delta has arrived."""
    while True:
        frame = decode((await ws.receive(timeout=10)).data)
        if frame.get("type") == "message.delta" and frame["message_id"] == message_id:
            return


async def test_sigterm_lets_a_running_reply_finish_then_closes_with_1001(database_url, tmp_path):
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = start_server(database_url, tmp_path, port, SHUTDOWN_GRACE_S="10")
    try:
        async with aiohttp.ClientSession() as session:
            await wait_ready(session, base)
            headers = await sign_up(session, base)
            async with session.ws_connect(f"{base}/ws", headers=headers) as ws:
                chat = await call(ws, "chat.create", "1")
                text = " ".join(f"w{i}" for i in range(30))  # 1.5 s at 20 tokens/s
                sent = await call(ws, "message.send", "2", chat_id=chat["id"], content=text)
                await first_delta(ws, sent["assistant_message"]["id"])
                server.send_signal(signal.SIGTERM)

                async def draining():
                    async with session.get(f"{base}/readyz") as resp:
                        return resp.status == 503 and (await resp.json())["draining"] is True
                await until(draining, interval=0.05, what="/readyz to say it is draining")
                async with session.get(f"{base}/ws", headers=headers) as resp:
                    assert resp.status == 503
                    assert (await resp.json())["error"]["code"] == "unavailable"
                frames, code = await until_closed(ws)
            done = [f for f in frames if f.get("type") == "message.done"]
            assert code == 1001
            assert done and done[0]["message_id"] == sent["assistant_message"]["id"]
            assert done[0]["message"]["content"] == text
        assert server.wait(timeout=15) == 0
    finally:
        server.kill()
        server.wait(timeout=10)


async def test_a_reply_still_running_at_the_deadline_ends_interrupted_and_costs_nothing(
        database_url, tmp_path):
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = start_server(database_url, tmp_path, port, SHUTDOWN_GRACE_S="0.5")
    try:
        async with aiohttp.ClientSession() as session:
            await wait_ready(session, base)
            headers = await sign_up(session, base)
            async with session.ws_connect(f"{base}/ws", headers=headers) as ws:
                chat = await call(ws, "chat.create", "1")
                text = " ".join(f"w{i}" for i in range(200))
                sent = await call(ws, "message.send", "2", chat_id=chat["id"], content=text)
                await first_delta(ws, sent["assistant_message"]["id"])
                server.send_signal(signal.SIGTERM)
                frames, code = await until_closed(ws)
            assert code == 1001
            ended = [f for f in frames if f.get("type") == "message.interrupted"]
            assert ended and ended[0]["message_id"] == sent["assistant_message"]["id"]
            assert ended[0]["cost"] == 0
            assert server.wait(timeout=15) == 0

            server = start_server(database_url, tmp_path, port)
            await wait_ready(session, base)
            async with session.ws_connect(f"{base}/ws", headers=headers) as ws:
                account = await call(ws, "balance.get", "3")
                history = await call(ws, "message.list", "4", chat_id=chat["id"])
        assert account == {"balance": 10_000_000, "reserved": 0, "available": 10_000_000,
                           "caps": {"daily": None, "monthly": None}}
        reply = history["messages"][-1]
        assert reply["status"] == "interrupted" and text.startswith(reply["content"])
        assert reply["content"] == ended[0]["message"]["content"]
    finally:
        server.kill()
        server.wait(timeout=10)
