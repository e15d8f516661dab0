"""Defects found by attacking a running server (issue 27), each reproduced here: a typed error and
nothing changed, on both engines."""
from __future__ import annotations

import base64
import stat

import orjson
import pytest

from tests.client import WSClient
from tests.helpers import open_socket, send_from_each


def mode(path) -> int:
    """A file's permission bits."""
    return stat.S_IMODE(path.stat().st_mode)


def forged(payload) -> str:
    raw = payload if isinstance(payload, bytes) else orjson.dumps(payload)
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


GOOD_ID = "0" * 32
FORGED_CURSORS = [
    forged(["not a time", GOOD_ID]),
    forged(["2026-13-45T99:99:99.000000Z", GOOD_ID]),  # the right shape, no such moment
    forged(["2026-11-27T05:09:47.123456Z", "x\u0000y"]),  # a NUL PostgreSQL refuses
    forged(["2026-11-27T05:09:47.123456Z\u0000", GOOD_ID]),
    forged(["2026-11-27T05:09:47.123456Z", "'; DROP TABLE chats; --"]),
    forged(["2026-11-27T05:09:47.123456Z", 7]),
    forged([1, 2, 3]),
    forged({"ts": 1}),
    "!!!not base64!!!",
]


@pytest.mark.parametrize("request_type", ["chat.list", "transactions.list", "file.list"])
@pytest.mark.parametrize("cursor", FORGED_CURSORS)
async def test_a_forged_paging_cursor_is_a_bad_request(client, alice, request_type, cursor):
    sock = await open_socket(client, alice)
    error = await sock.error(request_type, cursor=cursor)
    assert error["code"] == "bad_request" and "cursor" in error["message"]
    assert "chats" in await sock.ok("chat.list")  # the socket and the server carry on


@pytest.mark.parametrize("cursor", [forged(b"x\x00y"), forged("не id".encode()), forged(b"\xff\xfe")])
async def test_a_forged_branch_cursor_is_a_bad_request(client, alice, cursor):
    sock = await open_socket(client, alice)
    chat = await sock.ok("chat.create")
    error = await sock.error("message.list", chat_id=chat["id"], cursor=cursor)
    assert error["code"] == "bad_request"


async def test_real_cursors_still_page(client, alice):
    sock = await open_socket(client, alice)
    for i in range(3):
        await sock.ok("chat.create", title=f"chat {i}")
    first = await sock.ok("chat.list", limit=2)
    rest = await sock.ok("chat.list", limit=2, cursor=first["next_cursor"])
    titles = [c["title"] for c in first["chats"] + rest["chats"]]
    assert titles == ["chat 2", "chat 1", "chat 0"] and rest["next_cursor"] is None


@pytest.mark.parametrize("value", ["²", "①", "٣", "1²", "١٢"])
async def test_a_non_ascii_digit_last_seq_is_a_typed_refusal(client, alice, value):
    resp = await client.get(f"/ws?last_seq={value}",
                            headers={"Authorization": f"Bearer {alice['access_token']}"})
    assert resp.status == 400
    body = await resp.json()
    assert body["error"]["code"] == "bad_request" and body["error"]["field"] == "last_seq"


async def test_a_replayed_refresh_token_closes_the_stolen_sessions_sockets(client, alice):
    thief = await open_socket(client, alice)  # the session whose refresh token was stolen
    assert "chats" in await thief.ok("chat.list")
    first = alice["refresh_token"]
    rotated = await client.post("/api/v1/auth/refresh", json={"refresh_token": first})
    assert rotated.status == 200
    replay = await client.post("/api/v1/auth/refresh", json={"refresh_token": first})
    assert replay.status == 401
    assert await thief.closed() == 4401
    refused = WSClient(await client.ws_connect(
        "/ws", headers={"Authorization": f"Bearer {alice['access_token']}"}))
    assert await refused.closed() == 4401  # the ended session's token opens nothing
    assert refused.frames[-1]["error"]["code"] == "unauthorized"


@pytest.mark.parametrize("redis_too", [False, True])
async def test_concurrent_wrong_passwords_check_no_more_than_the_limit(make_client, request,
                                                                       redis_too):
    import asyncio
    import uuid

    from tests.helpers import PASSWORD, inside_one_window, register

    overrides = {"redis_url": request.getfixturevalue("redis_url")} if redis_too else {}
    server = await make_client(**overrides)
    email = f"lock-{uuid.uuid4().hex[:12]}@example.com"  # Redis keeps counts between runs
    await inside_one_window(15 * 60)  # all fifteen in one fixed window
    await register(server, email)

    async def attempt(password):
        resp = await server.post("/api/v1/auth/login", json={"email": email, "password": password})
        return resp.status

    statuses = await asyncio.gather(*[attempt(f"wrong {i}") for i in range(15)])
    assert statuses.count(401) == 5 and statuses.count(429) == 10, statuses
    assert await attempt(PASSWORD) == 429  # locked for the window, even with the right password


async def test_the_concurrent_replies_limit_is_per_user_however_many_sockets_send(make_client,
                                                                                  alice_on):

    from providers.factory import ProviderSettings

    slow = await make_client(providers=ProviderSettings(echo_tokens_per_second=20),
                             max_concurrent_generations=3)
    alice = await alice_on(slow)
    sockets = [await open_socket(slow, alice) for _ in range(8)]
    started, refused = await send_from_each(sockets, " ".join(["slow"] * 60))
    assert len(started) == 3, (started, refused)
    assert {a["error"]["code"] for a in refused} == {"rate_limited"}
    balance = await sockets[0].ok("balance.get")
    assert balance["reserved"] > 0  # the three started hold credits; the refused hold none
    for answer in started:
        await sockets[0].ok("message.stop", message_id=answer["data"]["assistant_message"]["id"])
    assert (await sockets[0].ok("balance.get"))["reserved"] == 0


async def test_the_database_uploads_and_secrets_are_private_to_the_server(client, alice, settings):
    from tests.helpers import upload

    status, body = await upload(client, alice, "note.txt", "приватно".encode(), "text/plain")
    assert status == 201, body


    uploads = settings.upload_dir
    kept = [p for p in uploads.rglob("*") if p.is_file()]
    assert kept and all(mode(p) == 0o600 for p in kept), [(p, oct(mode(p))) for p in kept]
    folders = [uploads, *(p for p in uploads.rglob("*") if p.is_dir())]
    assert all(mode(p) & 0o077 == 0 for p in folders), [(p, oct(mode(p))) for p in folders]


async def test_a_new_sqlite_database_is_private_with_its_folder(tmp_path):
    import asyncio

    from storage import open_database
    from storage.migrate import apply_migrations


    migrated = tmp_path / "var" / "chatwire.db"  # what `make run` makes on a fresh machine
    await asyncio.to_thread(apply_migrations, f"sqlite:///{migrated}")
    opened = tmp_path / "other" / "served.db"
    db = await open_database(f"sqlite:///{opened}")
    await db.execute("CREATE TABLE t (x INTEGER)")
    await db.close()
    for path in (migrated, opened, migrated.parent, opened.parent):
        assert mode(path) & 0o077 == 0, (path, oct(mode(path)))


async def test_nul_and_lone_surrogates_from_a_provider_are_stored_and_sent_as_replacements(
        vendored, vendor, alice_on):
    from tests.helpers import reply_events

    vendor.script.tokens = ["half ", "LONE", " and ", "NUL", " end"]
    vendor.script.raw = {"LONE": b"\\ud800", "NUL": b"\\u0000"}
    alice = await alice_on(vendored)
    sock = await open_socket(vendored, alice)
    chat = await sock.ok("chat.create", model="gpt-4o-mini")
    sent = await sock.ok("message.send", chat_id=chat["id"], content="say it")
    events = await reply_events(sock, sent["assistant_message"]["id"])
    final = events[-1]
    assert final["type"] == "message.done", final.get("error")  # never stuck `streaming`, never `internal`
    assert final["message"]["content"] == "half \ufffd and \ufffd end"
    stored = (await sock.ok("chat.get", chat_id=chat["id"]))["messages"][-1]
    assert stored["content"] == "half \ufffd and \ufffd end" and stored["status"] == "complete"



async def test_an_upload_whose_body_goes_silent_is_refused_not_held_open(make_client, alice_on):
    import asyncio

    from tests.helpers import multipart

    server = await make_client(upload_idle_timeout_s=0.5)
    alice = await alice_on(server)
    body, boundary = multipart("slow.txt", b"x" * 200_000, "text/plain")
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    writer.write((f"POST /api/v1/files HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                  f"Authorization: Bearer {alice['access_token']}\r\n"
                  f"Content-Type: multipart/form-data; boundary={boundary}\r\n"
                  f"Content-Length: {len(body)}\r\n\r\n").encode() + body[:70_000])
    await writer.drain()  # ...and then nothing more: a slowloris upload
    async with asyncio.timeout(15):
        answer = await reader.read(4096)
    writer.close()
    assert answer.startswith(b"HTTP/1.1 400"), answer[:200]
    assert b"sent nothing for 0.5 s" in answer
    assert (await server.get("/healthz")).status == 200  # serving throughout
    from server.web.state import SETTINGS
    incoming = server.app[SETTINGS].upload_dir / ".incoming"
    assert not incoming.exists() or not any(incoming.iterdir())  # nothing half-written kept


async def test_a_user_past_the_socket_cap_is_refused_with_a_typed_close(make_client, alice_on):
    import asyncio

    capped = await make_client(max_sockets_per_user=4)
    alice = await alice_on(capped)
    headers = {"Authorization": f"Bearer {alice['access_token']}"}
    opened = await asyncio.gather(*[capped.ws_connect("/ws", headers=headers) for _ in range(6)])
    socks = [WSClient(ws) for ws in opened]
    firsts = [await sock._next_frame() for sock in socks]  # hello, or the refusal
    refused = [s for s, f in zip(socks, firsts) if f["type"] == "error"]
    admitted = [s for s, f in zip(socks, firsts) if f["type"] == "hello"]
    assert len(admitted) == 4 and len(refused) == 2  # opened at once, still only four
    for sock, first in zip(socks, firsts):
        if first["type"] == "error":
            assert first["error"]["code"] == "rate_limited" and first["error"]["limit"] == "sockets"
            assert await sock.closed() == 4429
    assert "chats" in await admitted[0].ok("chat.list")  # the admitted ones work
    await admitted[1].ws.close()
    for _ in range(100):
        again = WSClient(await capped.ws_connect("/ws", headers=headers))
        if (await again._next_frame())["type"] == "hello":
            break
        await again.closed()
        await asyncio.sleep(0.02)
    else:
        pytest.fail("a closed socket's place was never given back")
    bob = await capped.post("/api/v1/auth/register", json={"email": "bob@example.com",
                                                           "password": "correct horse battery"})
    bob_sock = WSClient(await capped.ws_connect("/ws", headers={
        "Authorization": f"Bearer {(await bob.json())['access_token']}"}))
    assert (await bob_sock._next_frame())["type"] == "hello"  # the cap is per user


async def test_a_document_that_parses_too_long_is_refused_with_the_reason(make_client, alice_on):
    from tests import samples
    from tests.helpers import upload

    strict = await make_client(parse_time_limit_s=0.5)
    alice = await alice_on(strict)
    status, body = await upload(strict, alice, "flood.pdf", samples.pdf_operator_flood(),
                                "application/pdf")
    assert status == 415 and body["error"]["code"] == "unsupported_file_type", body
    assert "too long to read" in body["error"]["message"]
    status, body = await upload(strict, alice, "fine.pdf", samples.pdf("still served"),
                                "application/pdf")
    assert status == 201, body  # the server, and the next document, carry on
    listed = await (await open_socket(strict, alice)).ok("file.list")
    assert [f["name"] for f in listed["files"]] == ["fine.pdf"]  # nothing kept of the refused


async def test_a_docx_flooded_with_empty_paragraphs_is_refused_cheaply(client, alice):
    from tests import samples
    from tests.helpers import upload

    status, body = await upload(client, alice, "flood.docx", samples.docx_paragraph_flood(),
                                "application/octet-stream")
    assert status == 415 and "more than 300,000 parts" in body["error"]["message"], body


async def test_a_document_that_needs_too_much_memory_is_refused(make_client, alice_on):
    from tests.helpers import upload

    # 16 MB more than the worker started with, and a text file whose reading and decoding need more
    strict = await make_client(parse_memory_mb=16, max_upload_mb=30)
    alice = await alice_on(strict)
    status, body = await upload(strict, alice, "big.txt", ("я" * 9_000_000).encode(), "text/plain")
    assert status == 415 and "too much memory" in body["error"]["message"], body
    status, body = await upload(strict, alice, "small.txt", "мало".encode(), "text/plain")
    assert status == 201, body


async def test_logout_by_cookie_needs_our_own_origin(client, alice):
    # the session cookie from signing up, no bearer token: what a browser page sends
    for origin in ({}, {"Origin": "https://evil.example"}):
        refused = await client.post("/api/v1/auth/logout", headers=origin)
        assert refused.status == 401
        assert (await client.get("/api/v1/auth/me")).status == 200  # still logged in
    own = await client.post("/api/v1/auth/logout",
                            headers={"Origin": str(client.make_url("")).rstrip("/")})
    assert own.status == 204
    assert (await client.get("/api/v1/auth/me")).status == 401


@pytest.mark.parametrize("engine", ["in-process", "redis"])
async def test_event_history_is_bounded_in_bytes_as_well_as_count(request, engine):
    import uuid

    from server.broker import make_broker

    url = request.getfixturevalue("redis_url") if engine == "redis" else None
    broker = make_broker(url, f"i-{uuid.uuid4().hex[:6]}", on_stop=print, history=1000,
                         history_bytes=64 * 1024)
    await broker.start()
    try:
        user = f"u-{uuid.uuid4().hex[:10]}"
        big = "x" * 20_000
        for i in range(50):  # ~1 MB of events, far over 64 KB
            await broker.events.publish(user, "chat.updated", {"i": i, "title": big})
        assert await broker.events.current_seq(user) == 50
        assert await broker.events.replay(user, 0) is None  # the oldest are gone: resync
        kept = await broker.events.replay(user, 47)
        assert [seq for seq, _ in kept] == [48, 49, 50]  # the newest are kept, in order
        everything = None
        for after in range(50):
            everything = await broker.events.replay(user, after)
            if everything is not None:
                break
        assert 1 <= len(everything) <= 4  # what fits in 64 KB of 20 KB events
        assert sum(len(frame) for _, frame in everything) <= 64 * 1024 + 21_000
    finally:
        await broker.stop()


async def test_profile_updates_keep_no_profile_in_the_history(client, alice):
    sock = await open_socket(client, alice)
    await sock.ok("ping")
    big = [{"text": "a" * 190, "note": "b" * 490} for _ in range(30)]
    await sock.ok("profile.update", values=big, interests=big)
    changed = await sock.event("profile.updated")
    assert set(changed) == {"type", "seq", "updated_at"}  # changed: re-fetch
    assert len(orjson.dumps(changed)) < 200


async def test_a_request_whose_headers_never_finish_is_closed_by_the_served_server(tmp_path):
    """Slowloris on the headers, against `run.py serve` (aiohttp's own default held it an hour)."""
    import asyncio
    import time

    import aiohttp

    from tests.helpers import free_port, start_server, wait_ready

    port = free_port()
    server = start_server(f"sqlite:///{tmp_path / 'slow.db'}", tmp_path, port, REDIS_URL="",
                          HEADER_TIMEOUT_S="1.5")
    try:
        async with aiohttp.ClientSession() as session:
            await wait_ready(session, f"http://127.0.0.1:{port}", timeout=30)
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n")
            opened = time.monotonic()

            async def trickle():  # a header line every 0.3 s, never the blank line that ends them
                for i in range(100):
                    await asyncio.sleep(0.3)
                    writer.write(f"X-Slow-{i}: y\r\n".encode())
                    await writer.drain()
            trickling = asyncio.create_task(trickle())
            async with asyncio.timeout(10):
                assert await reader.read() == b""  # closed by the server, nothing answered
            held = time.monotonic() - opened
            trickling.cancel()
            writer.close()
            assert 1.0 < held < 5, held
            async with session.get(f"http://127.0.0.1:{port}/healthz") as resp:
                assert resp.status == 200  # serving throughout
    finally:
        server.terminate()
        server.wait(timeout=15)
