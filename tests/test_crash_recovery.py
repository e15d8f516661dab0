"""`kill -9` mid-reply, then restart: the reply is `interrupted`, with the text that was saved."""
import signal

import aiohttp

from storage import open_database
from tests.helpers import call, free_port, start_server, until, wait_ready


async def test_a_reply_killed_mid_stream_is_interrupted_on_restart(database_url, tmp_path):
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = start_server(database_url, tmp_path, port)
    try:
        async with aiohttp.ClientSession() as session:
            await wait_ready(session, base)
            async with session.post(f"{base}/api/v1/auth/register", json={
                    "email": "crash@example.com", "password": "correct horse battery"}) as resp:
                token = (await resp.json())["access_token"]
            headers = {"Authorization": f"Bearer {token}"}
            async with session.ws_connect(f"{base}/ws", headers=headers) as ws:
                chat = await call(ws, "chat.create", "1")
                text = " ".join(f"word{i}" for i in range(100))
                sent = await call(ws, "message.send", "2", chat_id=chat["id"], content=text)
                db = await open_database(database_url, pool_size=1)
                try:  # a few deltas, and at least one save to storage (once a second)
                    await until(lambda: db.fetchval(
                        "SELECT content FROM messages WHERE id = ?",
                        (sent["assistant_message"]["id"],)), interval=0.05,
                        what="part of the reply in storage")
                finally:
                    await db.close()
                server.send_signal(signal.SIGKILL)
                server.wait(timeout=10)

            server = start_server(database_url, tmp_path, port)
            await wait_ready(session, base)
            async with session.ws_connect(f"{base}/ws", headers=headers) as ws:
                history = await call(ws, "message.list", "3", chat_id=chat["id"])
                account = await call(ws, "balance.get", "4")
                usage = await call(ws, "transactions.list", "5", kind="usage")
        # nothing charged for the interrupted reply, and its reservation released
        assert account == {"balance": 10_000_000, "reserved": 0, "available": 10_000_000,
                           "caps": {"daily": None, "monthly": None}}
        assert usage["transactions"] == []
        reply = history["messages"][-1]
        assert reply["id"] == sent["assistant_message"]["id"]
        assert reply["status"] == "interrupted"
        assert reply["content"] and text.startswith(reply["content"]) and reply["content"] != text
    finally:
        server.kill()
        server.wait(timeout=10)
