"""The server runs on uvloop unless EVENT_LOOP=asyncio: a whole turn, an upload included, on each."""
import subprocess

import aiohttp
import pytest

from tests.helpers import call, free_port, start_server, wait_ready
from tests.helpers import multipart


@pytest.mark.parametrize("choice", ["", "asyncio"])
async def test_a_turn_and_an_upload_on_the_chosen_event_loop(database_url, tmp_path, choice):
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = start_server(database_url, tmp_path, port, stdout=subprocess.PIPE,
                          **({"EVENT_LOOP": choice} if choice else {}))
    try:
        async with aiohttp.ClientSession() as session:
            await wait_ready(session, base)
            async with session.post(f"{base}/api/v1/auth/register", json={
                    "email": "loop@example.com", "password": "correct horse battery"}) as resp:
                token = (await resp.json())["access_token"]
            headers = {"Authorization": f"Bearer {token}"}
            body, boundary = multipart("notes.txt", "план на завтра".encode(), "text/plain")
            async with session.post(f"{base}/api/v1/files", data=body, headers={
                    **headers, "Content-Type": f"multipart/form-data; boundary={boundary}"}) as resp:
                assert resp.status == 201, await resp.text()  # inspected in the parser's process
                file_id = (await resp.json())["file"]["id"]
            async with session.ws_connect(f"{base}/ws", headers=headers) as ws:
                chat = await call(ws, "chat.create", "1")
                sent = await call(ws, "message.send", "2", chat_id=chat["id"], content="hi",
                                  file_ids=[file_id])
                reply_id = sent["assistant_message"]["id"]
                while True:
                    frame = (await ws.receive_json(timeout=10))
                    if frame.get("type") == "message.done" and frame["message_id"] == reply_id:
                        break
                assert frame["message"]["status"] == "complete" and frame["message"]["content"]
    finally:
        server.terminate()
        out, _ = server.communicate(timeout=15)
    assert server.returncode == 0
    assert f"Chatwire serving on http://127.0.0.1:{port} ({choice or 'uvloop'})" in out


def test_an_unknown_event_loop_is_refused_at_start(tmp_path):
    server = start_server(f"sqlite:///{tmp_path / 'x.db'}", tmp_path, free_port(),
                          stderr=subprocess.PIPE, stdout=subprocess.PIPE, EVENT_LOOP="trio")
    out, err = server.communicate(timeout=30)
    assert server.returncode == 2
    assert "EVENT_LOOP must be one of uvloop, asyncio, got 'trio'" in err
