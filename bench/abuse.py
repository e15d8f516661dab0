"""Abuse benchmark: each attack of issue 27 against one Chatwire, with the server's peak RSS growth
and a concurrent log-in's latency during it (targets: < 100 MB, p99 < 1 s).

The server runs with its real defaults (limits on, argon2id at its default cost), on SQLite unless
--pg is given, events in process unless --redis is. Every attack is bounded in count and time and
sends only to loopback. One JSON line per attack, then a summary line. Settings in the environment
reach the server (`ARGON2_PARALLEL=2 .venv/bin/python bench/abuse.py` compares a setting).

    .venv/bin/python bench/abuse.py
    .venv/bin/python bench/abuse.py --pg postgresql://postgres@127.0.0.1:5432/test \
        --redis redis://127.0.0.1:6379/0
"""
from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
from pathlib import Path

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.common import free_port, percentile, rss_bytes, spawn, stop, wait_http  # noqa: E402
from bench.relay import pg_schema  # noqa: E402
from tests import samples  # noqa: E402  (the hostile files the tests use)

PASSWORD = "correct horse battery"


class Watch:
    """Samples the server's RSS and logs a probe account in, over and over, during an attack."""

    def __init__(self, base: str, pid: int, probe_email: str) -> None:
        self.base, self.pid, self.email = base, pid, probe_email
        self.peak = self.start = rss_bytes(pid)
        self.logins: list[float] = []
        self._stop = asyncio.Event()

    async def run(self, session: aiohttp.ClientSession) -> None:
        async def rss() -> None:
            while not self._stop.is_set():
                self.peak = max(self.peak, rss_bytes(self.pid))
                await asyncio.sleep(0.05)

        async def login() -> None:
            while not self._stop.is_set():
                started = time.monotonic()
                async with session.post(f"{self.base}/api/v1/auth/login", json={
                        "email": self.email, "password": PASSWORD}) as resp:
                    await resp.read()
                self.logins.append(time.monotonic() - started)
                await asyncio.sleep(0.2)

        await asyncio.gather(rss(), login())

    def stop(self) -> None:
        self._stop.set()  # the log-in in flight finishes (and counts) before `run` returns

    def figures(self) -> dict:
        return {"peak_rss_growth_mb": round((self.peak - self.start) / 2**20, 1),
                "login_p99_ms": round(percentile(self.logins, 99) * 1000, 1),
                "logins": len(self.logins)}


async def account(session: aiohttp.ClientSession, base: str, email: str) -> dict:
    async with session.post(f"{base}/api/v1/auth/register",
                            json={"email": email, "password": PASSWORD}) as resp:
        body = await resp.json()
        if resp.status != 201:
            raise RuntimeError(f"register {email}: {resp.status} {body}")
        return body


def bearer(user: dict) -> dict:
    return {"Authorization": f"Bearer {user['access_token']}"}


async def upload(session, base, user, name, data, mime) -> int:
    form = aiohttp.FormData()
    form.add_field("file", data, filename=name, content_type=mime)
    async with session.post(f"{base}/api/v1/files", data=form, headers=bearer(user)) as resp:
        await resp.read()
        return resp.status


async def sockets_that_never_read(session, base, user) -> dict:
    opened, refused = [], 0
    for _ in range(300):
        ws = await session.ws_connect(f"{base}/ws", headers=bearer(user))
        first = await ws.receive(timeout=10)
        if '"rate_limited"' in (first.data if isinstance(first.data, str) else ""):
            refused += 1
            await ws.close()
        else:
            opened.append(ws)
    for ws in opened:  # closed one by one: each close was a notice to all the others
        await ws.close()
    return {"opened": len(opened), "refused": refused}


async def pdf_flood(session, base, user) -> dict:
    statuses = await asyncio.gather(*[upload(session, base, user, f"flood{i}.pdf",
                                             samples.pdf_operator_flood(), "application/pdf")
                                      for i in range(6)])
    return {"statuses": sorted(statuses)}


async def docx_flood(session, base, user) -> dict:
    statuses = await asyncio.gather(*[upload(session, base, user, f"flood{i}.docx",
                                             samples.docx_paragraph_flood(),
                                             "application/octet-stream") for i in range(3)])
    return {"statuses": sorted(statuses)}


async def frames(session, base, user, build, count) -> dict:
    outcomes: dict[str, int] = {}
    async with session.ws_connect(f"{base}/ws", headers=bearer(user),
                                  max_msg_size=0) as ws:
        await ws.receive()
        for i in range(count):
            await ws.send_str(json.dumps(build(i)))
        answered = 0
        while answered < count:
            frame = json.loads((await ws.receive(timeout=30)).data)
            if frame.get("type") == "reply":
                answered += 1
                key = "ok" if frame["ok"] else frame["error"]["code"]
                outcomes[key] = outcomes.get(key, 0) + 1
    return outcomes


async def profile_updates(session, base, user) -> dict:
    big = [{"text": "x" * 190, "note": "y" * 490} for _ in range(30)]  # ~60 KB a frame
    return await frames(session, base, user, lambda i: {
        "type": "profile.update", "id": str(i), "values": big, "interests": big}, 1000)


async def chat_creates(session, base, user) -> dict:
    return await frames(session, base, user, lambda i: {
        "type": "chat.create", "id": str(i), "system_prompt": "z" * 19_000}, 300)


async def login_race(session, base, user) -> dict:
    async def guess(i):
        async with session.post(f"{base}/api/v1/auth/login", json={
                "email": user["user"]["email"], "password": f"wrong {i}"}) as resp:
            return resp.status
    statuses = await asyncio.gather(*[guess(i) for i in range(15)])
    return {"checked": statuses.count(401), "refused": statuses.count(429)}


async def slowloris(session, base, user) -> dict:
    async def one():
        reader, writer = await asyncio.open_connection("127.0.0.1", int(base.rsplit(":", 1)[1]))
        writer.write(b"POST /api/v1/files HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer "
                     + user["access_token"].encode() + b"\r\nContent-Type: multipart/form-data; "
                     b"boundary=b\r\nContent-Length: 1000000\r\n\r\n--b\r\nContent-Disposition: "
                     b'form-data; name="file"; filename="a.txt"\r\n\r\nsome')
        await writer.drain()
        try:
            async with asyncio.timeout(60):
                answer = await reader.read(64)
        finally:
            writer.close()
        return answer[:12].decode(errors="replace")
    answers = await asyncio.gather(*[one() for _ in range(50)])
    return {"answers": {a: answers.count(a) for a in set(answers)}}


async def slowloris_headers(session, base, user) -> dict:
    """50 connections that send a header line every second and never finish their headers."""
    port = int(base.rsplit(":", 1)[1])

    async def one():
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
        opened = time.monotonic()

        async def trickle():
            for i in range(120):
                await asyncio.sleep(1)
                writer.write(b"X-Slow-%d: y\r\n" % i)
                await writer.drain()
        trickling = asyncio.create_task(trickle())
        try:
            async with asyncio.timeout(90):
                await reader.read()
        finally:
            trickling.cancel()
            writer.close()
        return time.monotonic() - opened
    held = await asyncio.gather(*[one() for _ in range(50)], return_exceptions=True)
    closed = [h for h in held if isinstance(h, float)]
    return {"closed_by_server": len(closed), "held_s_max": round(max(closed, default=0), 1)}


async def nothing(session, base, user) -> dict:
    """No attack: what the probe's own log-ins cost (an argon2id hash holds 64 MiB while it runs)."""
    await asyncio.sleep(3)
    return {}


ATTACKS = [("baseline_probe_only", nothing), ("sockets_that_never_read", sockets_that_never_read), ("pdf_operator_flood", pdf_flood),
           ("docx_paragraph_flood", docx_flood), ("profile_updates_60kb", profile_updates),
           ("chat_create_19kb_prompts", chat_creates), ("login_race", login_race),
           ("slowloris_uploads", slowloris), ("slowloris_headers", slowloris_headers)]


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pg", default=None, help="PostgreSQL base URL (default: SQLite)")
    parser.add_argument("--redis", default="", help="Redis URL (default: events in process)")
    parser.add_argument("--only", default=None, help="comma-separated attack names")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="chatwire-abuse-"))
    schema = pg_schema(args.pg) if args.pg else None
    database_url = schema[0] if schema else f"sqlite:///{tmp / 'abuse.db'}"
    port = free_port()
    server = spawn(["run.py", "serve"], env={
        "SECRET_KEY": "b" * 48, "JWT_SECRET_KEY": "c" * 48, "LOG_LEVEL": "ERROR",
        "DATABASE_URL": database_url, "REDIS_URL": args.redis, "VAR_DIR": str(tmp / "var"), "PORT": str(port),
        "UPLOAD_IDLE_TIMEOUT_S": "5", "RATE_AUTH_PER_MINUTE": "0", "SIGNUP_CREDITS": "100000000"})
    base = f"http://127.0.0.1:{port}"
    results = []
    try:
        await wait_http(f"{base}/healthz", server)
        async with aiohttp.ClientSession() as session:
            await account(session, base, "probe@example.com")
            for number, (name, attack) in enumerate(ATTACKS):
                if args.only and name not in args.only.split(","):
                    continue
                user = await account(session, base, f"attacker{number}@example.com")
                watch = Watch(base, server.pid, "probe@example.com")
                watching = asyncio.create_task(watch.run(session))
                started = time.monotonic()
                outcome = await attack(session, base, user)
                watch.stop()
                await watching
                figures = watch.figures()
                line = {"attack": name, "seconds": round(time.monotonic() - started, 1),
                        **figures, "outcome": outcome,
                        "met": figures["peak_rss_growth_mb"] < 100 and figures["login_p99_ms"] < 1000}
                if results:  # beside the probe-only run: what the attack itself added
                    line["growth_over_probe_mb"] = round(
                        figures["peak_rss_growth_mb"] - results[0]["peak_rss_growth_mb"], 1)
                results.append(line)
                print(json.dumps(line, ensure_ascii=False), flush=True)
    finally:
        stop(server)
        if schema:
            schema[1]()
    print(json.dumps({"bench": "abuse", "database": "postgresql" if schema else "sqlite",
                      "redis": bool(args.redis),
                      "attacks": len(results), "all_met": all(r["met"] for r in results)}))


if __name__ == "__main__":
    asyncio.run(main())
