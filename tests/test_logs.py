"""The server's own log, as an operator reads it: JSON lines that name the request, and never a
password, a token or what a user wrote."""
import asyncio
import json
import signal

import aiohttp

from tests.client import WSClient
from tests.helpers import free_port, start_server, wait_ready

PASSWORD = "Tr0ub4dor&3-horse"
SECRET_TEXT = "мой пин-код 4921, never log this"


async def test_a_session_leaves_json_lines_with_ids_and_no_secrets(tmp_path):
    port, log_path = free_port(), tmp_path / "server.log"
    with log_path.open("wb") as log:
        server = start_server(f"sqlite:///{tmp_path / 'logs.db'}", tmp_path, port, stderr=log,
                              REDIS_URL="", LOG_LEVEL="INFO", LOG_FORMAT="json",
                              ECHO_TOKENS_PER_SECOND="200")
    base = f"http://127.0.0.1:{port}"
    try:
        async with aiohttp.ClientSession() as session:
            await wait_ready(session, base)
            async with session.post(f"{base}/api/v1/auth/register", json={
                    "email": "logs@example.com", "password": PASSWORD}) as resp:
                assert resp.status == 201
                tokens = await resp.json()
            async with session.post(f"{base}/api/v1/auth/login", json={
                    "email": "logs@example.com", "password": PASSWORD},
                    headers={"X-Request-Id": "lb-7f3a"}) as resp:
                assert resp.status == 200
                assert resp.headers["X-Request-Id"] == "lb-7f3a"
            async with session.post(f"{base}/api/v1/auth/login", json={
                    "email": "logs@example.com", "password": "wrong " + PASSWORD}) as resp:
                assert resp.status == 401
                failed_id = resp.headers["X-Request-Id"]
            headers = {"Authorization": f"Bearer {tokens['access_token']}"}
            async with session.ws_connect(f"{base}/ws", headers=headers) as ws:
                client = WSClient(ws)
                await client.event("hello")
                chat = await client.ok("chat.create", title="private")
                await client.ok("message.send", chat_id=chat["id"], content=SECRET_TEXT)
                await client.event("message.done", timeout=10)
    finally:
        server.send_signal(signal.SIGTERM)
        await asyncio.to_thread(server.wait, 30)

    text = log_path.read_text()
    lines = [json.loads(line) for line in text.splitlines() if line.strip()]
    assert all({"time", "level", "logger", "message"} <= line.keys() for line in lines)
    access = [line for line in lines if line["logger"] == "aiohttp.access"]
    login = [line for line in access if line.get("request_id") == "lb-7f3a"]
    assert login and login[0]["path"] == "/api/v1/auth/login" and login[0]["status"] == 200
    assert any(line.get("request_id") == failed_id and line["status"] == 401 for line in access)
    assert any(line["path"] == "/ws" and line["status"] == 101 for line in access)
    assert any("draining" in line["message"] for line in lines)
    for secret in (PASSWORD, tokens["access_token"], tokens["refresh_token"], SECRET_TEXT, "4921"):
        assert secret not in text


def test_a_text_log_line_cannot_be_forged_through_a_path():
    import io
    import logging

    from server.logs import TextFormatter

    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(TextFormatter())
    logger = logging.getLogger("test.forged")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        # what the access log writes for GET /x%0a2026-12-01 INFO chatwire admin logged in%0d
        logger.warning("%s %s %s", "GET", "/x\n2026-12-01 INFO chatwire admin logged in\r\u2028", 404)
    finally:
        logger.removeHandler(handler)
    written = out.getvalue()
    assert written.count("\n") == 1 and "\r" not in written and "\u2028" not in written
    assert "/x\\x0a2026-12-01 INFO chatwire admin logged in\\x0d\\x2028 404" in written
