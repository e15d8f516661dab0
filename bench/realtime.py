"""Realtime benchmark: two Chatwire instances sharing PostgreSQL (SQLite if unreachable) and Redis.

Prints one JSON line per figure:
  delivery     an event made on instance A, delivered to a socket on A and to one on B: p50/p99 of
               each and the p50 that B adds (target ≤ 2 ms);
  publishes    Redis event publishes per relayed provider token for one streamed reply (≤ 0.2);
  idle_memory  server RSS per authenticated, presence-registered idle socket vs a bare aiohttp
               WebSocket server holding as many, measured in the same run (target ≤ 1.3×).

    .venv/bin/python bench/realtime.py                        # 300 events, 2,000 idle sockets
    .venv/bin/python bench/realtime.py --sockets 20000 --events 1000
    .venv/bin/python bench/realtime.py --baseline ../before    # idle memory A/B in one run

With `--baseline TREE` (a checkout of an earlier commit), the idle-memory figure is also taken on a
third instance running TREE's Chatwire, and printed with its ratio to this checkout's
(`idle_memory_ab`).
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import aiohttp
import orjson
import redis

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.common import (SERVER_ENV, free_port, percentile, register, rss_bytes,  # noqa: E402
                          spawn, stop, wait_http)
from bench.relay import pg_schema  # noqa: E402


def chatwire(database_url: str, redis_url: str, var_dir: Path, port: int, name: str,
             tree: Path | None = None, **extra: str) -> subprocess.Popen:
    env = {**SERVER_ENV, "DATABASE_URL": database_url, "REDIS_URL": redis_url,
           "VAR_DIR": str(var_dir), "PORT": str(port), "INSTANCE_ID": name, "DB_POOL_SIZE": "20",
           **extra}
    return spawn(["run.py", "serve"], env=env, cwd=tree)


async def open_ws(session, base: str, token: str) -> aiohttp.ClientWebSocketResponse:
    ws = await session.ws_connect(f"{base}/ws", headers={"Authorization": f"Bearer {token}"})
    await ws.receive()  # hello
    await ws.send_str('{"type":"ping","id":"p"}')  # speak first: live events flow at once
    return ws


async def next_event(ws, kind: str) -> float:
    while True:
        msg = await ws.receive(timeout=10)
        if orjson.loads(msg.data).get("type") == kind:
            return time.perf_counter()


async def delivery(base_a: str, base_b: str, events: int) -> dict:
    async with aiohttp.ClientSession() as session:
        token = await register(session, base_a)
        actor = await open_ws(session, base_a, token)
        on_a, on_b = await open_ws(session, base_a, token), await open_ws(session, base_b, token)
        await asyncio.sleep(1.5)  # past the presence events of the sockets above
        for ws in (actor, on_a, on_b):
            while True:
                try:
                    await ws.receive(timeout=0.2)
                except asyncio.TimeoutError:
                    break
        await actor.send_str('{"type":"chat.create","id":"c"}')
        chat_id = None
        while chat_id is None:
            frame = orjson.loads((await actor.receive()).data)
            if frame.get("type") == "reply":
                chat_id = frame["data"]["id"]
        for ws in (on_a, on_b):
            await next_event(ws, "chat.created")
        same, other = [], []
        for i in range(events):
            sent = time.perf_counter()
            await actor.send_str(orjson.dumps({"type": "chat.update", "id": str(i), "chat_id": chat_id,
                                               "title": f"t{i}"}).decode())
            got_a, got_b = await asyncio.gather(next_event(on_a, "chat.updated"),
                                                next_event(on_b, "chat.updated"))
            same.append(got_a - sent)
            other.append(got_b - sent)
            await next_event(actor, "reply")
        for ws in (actor, on_a, on_b):
            await ws.close()
    ms = lambda v: round(v * 1000, 3)  # noqa: E731
    return {"figure": "delivery", "events": events,
            "same_instance_p50_ms": ms(percentile(same, 50)),
            "same_instance_p99_ms": ms(percentile(same, 99)),
            "other_instance_p50_ms": ms(percentile(other, 50)),
            "other_instance_p99_ms": ms(percentile(other, 99)),
            "added_p50_ms": ms(percentile(other, 50) - percentile(same, 50)), "target_added_p50_ms": 2.0}


def script_calls(client: redis.Redis) -> int:
    stats = client.info("commandstats")
    return sum(stats.get(name, {}).get("calls", 0) for name in ("cmdstat_evalsha", "cmdstat_eval"))


async def publishes(base: str, client: redis.Redis, words: int) -> dict:
    async with aiohttp.ClientSession() as session:
        token = await register(session, base)
        ws = await open_ws(session, base, token)
        await ws.send_str('{"type":"chat.create","id":"c"}')
        chat_id = None
        while chat_id is None:
            frame = orjson.loads((await ws.receive()).data)
            if frame.get("type") == "reply" and frame.get("id") == "c":
                chat_id = frame["data"]["id"]
        await asyncio.sleep(0.5)
        before = script_calls(client)
        content = " ".join(f"w{i}" for i in range(words))
        await ws.send_str(orjson.dumps({"type": "message.send", "id": "s", "chat_id": chat_id,
                                        "content": content}).decode())
        tokens = 0
        while True:
            frame = orjson.loads((await ws.receive(timeout=60)).data)
            if frame.get("type") == "message.done":
                tokens = frame["usage"]["completion_tokens"]
                break
        await asyncio.sleep(0.3)  # balance.updated follows
        calls = script_calls(client) - before
        await ws.close()
    return {"figure": "publishes", "provider_tokens": tokens, "redis_publishes": calls,
            "publishes_per_token": round(calls / tokens, 3), "target": 0.2}


async def hold_sockets(url: str, n: int, tokens_file: str) -> subprocess.Popen:
    proc = subprocess.Popen([sys.executable, "bench/idle_clients.py", url, str(n), tokens_file],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            cwd=Path(__file__).resolve().parent.parent)
    line = await asyncio.get_running_loop().run_in_executor(None, proc.stdout.readline)
    if line.split() != [b"ready", str(n).encode()]:
        raise RuntimeError(f"idle clients: {n} sockets asked, {line.decode().strip()!r} greeted")
    return proc


# Both servers ping every socket 30 s after it connected and wait up to 15 s for the pong; the
# pong's timer stays in the event loop until then even when answered at once. Reading RSS only
# after every socket has been through one such round puts both servers in their steady state: a
# reading 22 s after the last connect (as before 2026-11-29) caught Chatwire's first sockets after
# their first heartbeat and none of the bare server's (it connects 5,000 sockets in 2 s, Chatwire
# in 11 s, as each socket is authenticated), which counted against Chatwire.
HEARTBEAT_ROUND_S = 30.0 + 15.0 + 5.0


async def per_socket(server_pid: int, url: str, n: int, tokens_file: str,
                     settle_s: float = HEARTBEAT_ROUND_S) -> float:
    await asyncio.sleep(1.0)
    before = rss_bytes(server_pid)
    clients = await hold_sockets(url, n, tokens_file)
    await asyncio.sleep(settle_s)  # idle: a heartbeat round done, resume grace over
    after = rss_bytes(server_pid)
    clients.stdin.write(b"alive\n")
    clients.stdin.flush()
    line = await asyncio.get_running_loop().run_in_executor(None, clients.stdout.readline)
    if line.split() != [b"alive", str(n).encode()]:  # a closed socket would flatter the figure
        raise RuntimeError(f"idle clients: {n} sockets held, {line.decode().strip()!r} when measured")
    clients.stdin.close()
    clients.wait(timeout=60)
    return (after - before) / n


async def idle_memory(base: str, server_pid: int, n: int, tmp: Path) -> dict:
    bare_port = free_port()
    bare = spawn(["bench/bare_ws.py", str(bare_port)])
    try:
        await wait_http(f"http://127.0.0.1:{bare_port}/healthz", bare)
        await per_socket(bare.pid, f"http://127.0.0.1:{bare_port}/ws", min(n, 200), "", settle_s=2)
        bare_bytes = await per_socket(bare.pid, f"http://127.0.0.1:{bare_port}/ws", n, "")
    finally:
        stop(bare)
    users = min(n, 1000)  # one socket or a few per user, as in real life
    async with aiohttp.ClientSession() as session:
        tokens = []
        for start in range(0, users, 50):
            tokens += await asyncio.gather(*[register(session, base)
                                             for _ in range(start, min(users, start + 50))])
    tokens_file = tmp / "tokens.txt"
    tokens_file.write_text("\n".join(tokens))
    # a warm-up round first: the server's first sockets also pay for its own lazy imports and pools
    await per_socket(server_pid, f"{base}/ws", min(n, 200), str(tokens_file), settle_s=2)
    ours = await per_socket(server_pid, f"{base}/ws", n, str(tokens_file))
    return {"figure": "idle_memory", "sockets": n, "bare_aiohttp_bytes_per_socket": round(bare_bytes),
            "chatwire_bytes_per_socket": round(ours), "users": users, "ratio": round(ours / bare_bytes, 3),
            "target_ratio": 1.3}


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=300)
    parser.add_argument("--sockets", type=int, default=2000)
    parser.add_argument("--words", type=int, default=400, help="tokens in the streamed reply")
    parser.add_argument("--redis", default=os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0"))
    parser.add_argument("--pg", default=os.environ.get("TEST_DATABASE_URL",
                                                       "postgresql://postgres@127.0.0.1:5432/test"))
    parser.add_argument("--baseline", type=Path, default=None,
                        help="a checkout of an earlier commit: its idle memory measured too")
    args = parser.parse_args()
    client = redis.Redis.from_url(args.redis)
    client.ping()
    tmp = Path(tempfile.mkdtemp(prefix="chatwire-realtime-"))
    schema = pg_schema(args.pg)
    database_url = schema[0] if schema else f"sqlite:///{tmp / 'bench.db'}"
    port_a, port_b = free_port(), free_port()
    a = chatwire(database_url, args.redis, tmp / "a", port_a, f"bench-a-{uuid.uuid4().hex[:4]}",
                 ECHO_TOKENS_PER_SECOND="200")
    base_a, base_b = f"http://127.0.0.1:{port_a}", f"http://127.0.0.1:{port_b}"
    servers = [a]
    try:
        await wait_http(f"{base_a}/healthz", a)
        # B holds the idle sockets: no heap trim there, or a trim between the two RSS readings
        # would hand back what earlier phases left and flatter the per-socket figure
        b = chatwire(database_url, args.redis, tmp / "b", port_b, f"bench-b-{uuid.uuid4().hex[:4]}",
                     MALLOC_TRIM_S="0")
        servers.append(b)
        await wait_http(f"{base_b}/healthz", b)
        print(json.dumps({"database": "postgresql" if schema else "sqlite",
                          **await delivery(base_a, base_b, args.events)}), flush=True)
        print(json.dumps(await publishes(base_a, client, args.words)), flush=True)
        ours = await idle_memory(base_b, b.pid, args.sockets, tmp)
        print(json.dumps(ours), flush=True)
        if args.baseline is not None:
            port_c = free_port()
            c = chatwire(database_url, args.redis, tmp / "c", port_c,
                         f"bench-c-{uuid.uuid4().hex[:4]}", tree=args.baseline.resolve(),
                         MALLOC_TRIM_S="0")
            servers.append(c)
            await wait_http(f"http://127.0.0.1:{port_c}/healthz", c)
            before = await idle_memory(f"http://127.0.0.1:{port_c}", c.pid, args.sockets, tmp)
            print(json.dumps({**before, "figure": "idle_memory_baseline"}), flush=True)
            print(json.dumps({
                "figure": "idle_memory_ab", "sockets": args.sockets,
                "bytes_per_socket": ours["chatwire_bytes_per_socket"],
                "baseline_bytes_per_socket": before["chatwire_bytes_per_socket"],
                "ratio_to_baseline": round(ours["chatwire_bytes_per_socket"]
                                           / before["chatwire_bytes_per_socket"], 3),
                "ratio_to_bare": ours["ratio"], "baseline_ratio_to_bare": before["ratio"]}),
                flush=True)
    finally:
        for proc in servers:
            stop(proc)
        if schema:
            schema[1]()


if __name__ == "__main__":
    asyncio.run(main())
