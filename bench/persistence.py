"""Persistence cost: SQL statements per assistant message, and replies/s with and without the
streaming writes, on SQLite and PostgreSQL.

Chatwire runs in this process so the database drivers' work can be counted: round trips (every
call into aiosqlite's connection thread, every aiopg Cursor.execute) and statements (each
sqlite3 Connection.execute; on PostgreSQL, the statements of each query sent, a transaction
sending several in one), BEGIN/COMMIT included.
  statements  one reply at a time, of 10, 100 and 400 tokens (echo at 100 tokens/s): statements
              and round trips per message, split into the send (user turn, reservation, reply
              row, events) and the stream (partial saves, final write, charge). Target: not
              proportional to length.
  throughput  N concurrent users, closed loop, 40-token replies at 400 tokens/s for S seconds:
              replies/s with partial-text saves on (every STREAM_FLUSH_S = 1 s, one statement for
              every reply in flight) ÷ off (no partial saves; the final write is the same).
              Target ≥ 0.95.
Prints one JSON line.

    .venv/bin/python bench/persistence.py
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
import time
import uuid
from pathlib import Path

import sqlite3

import aiohttp
import aiopg
import aiosqlite
import orjson
from aiohttp import web

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.common import SERVER_ENV, free_port, register  # noqa: E402
from bench.relay import pg_schema  # noqa: E402
from server.config import load_settings  # noqa: E402
from server.web import create_app  # noqa: E402
from storage.postgres import JOIN  # noqa: E402

COUNTS = {"statements": 0, "trips": 0}


def count_statements() -> None:
    """Wrap both drivers once: every round trip and statement Chatwire sends passes through them."""
    trip = aiosqlite.Connection._execute  # every call into a connection's thread

    def sqlite_trip(self, *args, **kwargs):
        COUNTS["trips"] += 1
        return trip(self, *args, **kwargs)
    aiosqlite.Connection._execute = sqlite_trip

    class Counted(sqlite3.Connection):
        def execute(self, *args, **kwargs):  # the call every statement on SQLite goes through
            COUNTS["statements"] += 1
            return super().execute(*args, **kwargs)
    connect = aiosqlite.connect  # the engine's, not the migrations' (yoyo's own sqlite3 calls)

    def sqlite_connect(*args, **kwargs):
        return connect(*args, factory=Counted, **kwargs)
    aiosqlite.connect = sqlite_connect

    execute = aiopg.Cursor.execute

    def pg_execute(self, operation, *args, **kwargs):
        COUNTS["trips"] += 1
        COUNTS["statements"] += operation.count(JOIN) + 1 if isinstance(operation, bytes) else 1
        return execute(self, operation, *args, **kwargs)
    aiopg.Cursor.execute = pg_execute


async def serve(database_url: str, var_dir: Path, **env: str) -> tuple[web.AppRunner, str]:
    port = free_port()
    settings = load_settings({
        **SERVER_ENV, "DATABASE_URL": database_url, "VAR_DIR": str(var_dir), "PORT": str(port),
        "MAX_CONCURRENT_GENERATIONS": "100", "INSTANCE_ID": f"persist-{uuid.uuid4().hex[:6]}",
        **env}, env_file=None)
    runner = web.AppRunner(create_app(settings), access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    return runner, f"http://127.0.0.1:{port}"


class Client:
    def __init__(self, session: aiohttp.ClientSession, url: str) -> None:
        self.session, self.url, self.rid = session, url, 0

    async def open(self) -> None:
        token = await register(self.session, self.url)
        self.ws = await self.session.ws_connect(f"{self.url}/ws",
                                                headers={"Authorization": f"Bearer {token}"})
        await self.ws.receive()
        self.chat = (await self.call("chat.create"))["id"]

    async def call(self, kind: str, **params) -> dict:
        self.rid += 1
        rid = str(self.rid)
        await self.ws.send_str(orjson.dumps({"type": kind, "id": rid, **params}).decode())
        while True:
            frame = orjson.loads((await self.ws.receive()).data)
            if frame.get("type") == "reply" and frame["id"] == rid:
                assert frame["ok"], frame
                return frame["data"]

    async def reply(self, words: int) -> tuple[dict, dict]:
        """Send; return the counts until the send's reply, and from there until message.done."""
        before = dict(COUNTS)
        sent = await self.call("message.send", chat_id=self.chat, content=" ".join(["слово"] * words))
        at_reply = dict(COUNTS)
        reply_id = sent["assistant_message"]["id"]
        while True:
            frame = orjson.loads((await self.ws.receive()).data)
            if frame.get("type") == "message.done" and frame["message_id"] == reply_id:
                break
        await asyncio.sleep(0.2)  # the charge's balance event and any trailing write
        return ({k: at_reply[k] - before[k] for k in COUNTS},
                {k: COUNTS[k] - at_reply[k] for k in COUNTS})


async def statements(database_url: str, var_dir: Path) -> dict:
    runner, url = await serve(database_url, var_dir, ECHO_TOKENS_PER_SECOND="100")
    out = {}
    try:
        async with aiohttp.ClientSession() as session:
            client = Client(session, url)
            await client.open()
            await client.reply(5)  # warm
            for words in (10, 100, 400):
                send, stream = await client.reply(words)
                out[f"{words}_tokens"] = {
                    **{f"{part}_{k}": counts[k] for part, counts in (("send", send), ("stream", stream))
                       for k in COUNTS},
                    **{f"total_{k}": send[k] + stream[k] for k in COUNTS}, "stream_seconds": words / 100}
    finally:
        await runner.cleanup()
    return out


async def throughput(database_url: str, var_dir: Path, users: int, seconds: float,
                     flush_s: str) -> float:
    runner, url = await serve(database_url, var_dir, ECHO_TOKENS_PER_SECOND="400",
                              STREAM_FLUSH_S=flush_s)
    done = 0
    try:
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as session:
            clients = [Client(session, url) for _ in range(users)]
            await asyncio.gather(*(c.open() for c in clients))
            until = time.monotonic() + seconds

            async def loop(client: Client) -> None:
                nonlocal done
                while time.monotonic() < until:
                    await client.reply(40)
                    done += 1
            started = time.monotonic()
            await asyncio.gather(*(loop(c) for c in clients))
            elapsed = time.monotonic() - started
    finally:
        await runner.cleanup()
    return done / elapsed


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--rounds", type=int, default=2, help="on/off pairs, alternated")
    parser.add_argument("--pg", default=os.environ.get("TEST_DATABASE_URL",
                                                       "postgresql://postgres@127.0.0.1:5432/test"))
    args = parser.parse_args()
    count_statements()
    tmp = Path(tempfile.mkdtemp(prefix="chatwire-persist-"))
    result: dict = {"bench": "persistence", "users": args.users, "seconds": args.seconds,
                    "cpus": os.cpu_count(), "engines": {}}
    engines = [("sqlite", lambda name: (f"sqlite:///{tmp / name / 'p.db'}", None))]
    probe = pg_schema(args.pg)
    if probe is not None:
        probe[1]()
        engines.append(("postgres", lambda name: pg_schema(args.pg)))
    for engine, make in engines:
        figures: dict = {}
        made = make("statements")
        if made is None:
            continue
        (tmp / "statements").mkdir(exist_ok=True)
        try:
            figures["statements_per_message"] = await statements(made[0], tmp / "statements")
        finally:
            if made[1]:
                made[1]()
        on, off = [], []
        for r in range(args.rounds):
            for mode, bucket, flush in (("on", on, "1"), ("off", off, "100000")):
                name = f"{engine}-{mode}-{r}"
                (tmp / name).mkdir(exist_ok=True)
                made = make(name)
                try:
                    bucket.append(await throughput(made[0], tmp / name, args.users, args.seconds,
                                                   flush))
                finally:
                    if made[1]:
                        made[1]()
        figures["replies_per_s_on"] = round(sum(on) / len(on), 2)
        figures["replies_per_s_off"] = round(sum(off) / len(off), 2)
        figures["on_over_off"] = round(sum(on) / sum(off), 3)
        result["engines"][engine] = figures
        print(json.dumps({engine: figures}), file=sys.stderr)
    print(json.dumps(result))


if __name__ == "__main__":
    asyncio.run(main())
