"""Per-send cost: server CPU per short reply in a closed loop, beside the bare forwarder's.

Every path gets `--users` clients that each send, wait for the reply to finish and send again, for
`--seconds` (Chatwire's users `--turns-per-chat` times in a chat, then in the next one of a stock
made before the clock starts, so the history a send reads stays a few turns long); the provider (bench/fake_provider.py) answers at once with `--tokens` tokens (2 by
default), so what is measured is the send itself: from the frame's arrival to the provider request
on the wire, the turn's storage and events, and the reply's end. CPU is the server process's
user+system time over the replies it finished (10 ms clock ticks, so runs are seconds long).

Paths, measured `--rounds` times in alternation so a drift of the shared machine lands on all:
  forwarder   bench/forwarder.py (one WebSocket frame per token; no auth, storage or accounting)
  sqlite      Chatwire on SQLite        postgres   Chatwire on PostgreSQL (if reachable)
  *_baseline  the same engines, from an earlier checkout (`--baseline ../before`): the A/B
  *_asyncio   the same engines with `EVENT_LOOP=asyncio` (`--loops`): uvloop's own share

    .venv/bin/python bench/sends.py
    .venv/bin/python bench/sends.py --baseline ../before --rounds 3
    .venv/bin/python bench/sends.py --loops --pin

Prints one JSON object: per path the replies, CPU per reply (µs), its ratio to the forwarder's
(pooled, and each round's), first-token p50/p99 and, with a baseline, the ratio to it.
"""
from __future__ import annotations

import argparse
import asyncio
import functools
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import aiohttp
import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.common import (ROOT, chat_create, cpu_seconds, free_port, percentile,  # noqa: E402
                          register, spawn, stop, wait_http)
from bench.relay import chatwire_env, pg_schema, pinning  # noqa: E402


async def closed_loop(sockets: list, seconds: float, pid: int, one) -> tuple[int, float, list[float]]:
    """Every socket sends again as soon as its reply ends, for `seconds`; replies, CPU, TTFTs."""
    ttfts: list[float] = []
    replies = 0
    deadline = time.monotonic() + seconds

    async def user(i: int) -> None:
        nonlocal replies
        while time.monotonic() < deadline:
            first = await one(i, sockets[i])
            if first is not None:
                ttfts.append(first)
                replies += 1
    cpu0 = cpu_seconds(pid)
    await asyncio.gather(*[user(i) for i in range(len(sockets))])
    return replies, cpu_seconds(pid) - cpu0, ttfts


async def run_forwarder(url: str, users: int, seconds: float, pid: int):
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as session:
        sockets = [await session.ws_connect(f"{url}/ws") for _ in range(users)]

        async def one(i: int, ws) -> float | None:
            started, first = time.monotonic(), None
            await ws.send_str("go")
            async for msg in ws:
                if msg.data == '{"type":"done"}':
                    break
                first = first or time.monotonic() - started
            return first
        result = await closed_loop(sockets, seconds, pid, one)
        for ws in sockets:
            await ws.close()
    return result


async def run_chatwire(url: str, users: int, seconds: float, pid: int, turns_per_chat: int = 4,
                       stock: int = 0):
    """Each user sends `turns_per_chat` times in a chat, then moves to the next of a stock made
    before the clock starts (a chat grows with every turn: without this the cost per send would
    be the cost of an ever longer history). A user who runs out makes one more (counted)."""
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as session:
        sockets = []
        for _ in range(users):
            token = await register(session, url)
            ws = await session.ws_connect(f"{url}/ws", headers={"Authorization": f"Bearer {token}"})
            await ws.receive()  # hello
            chats = [await chat_create(ws) for _ in range(max(stock, 1))]
            sockets.append({"ws": ws, "chats": chats, "turns": 0})

        async def one(i: int, user) -> float | None:
            ws = user["ws"]
            if user["turns"] == turns_per_chat:
                user["chats"].pop(0)
                user["turns"] = 0
            if not user["chats"]:
                user["chats"].append(await chat_create(ws))
            user["turns"] += 1
            started, first = time.monotonic(), None
            await ws.send_str(orjson.dumps({"type": "message.send", "id": "s",
                                            "chat_id": user["chats"][0], "content": "go"}).decode())
            async for msg in ws:
                frame = orjson.loads(msg.data)
                kind = frame["type"]
                if kind == "message.delta":
                    first = first or time.monotonic() - started
                elif kind == "message.done":
                    return first
                elif kind == "message.error" or (kind == "reply" and not frame["ok"]):
                    print("error:", frame.get("error"), file=sys.stderr)
                    return None
            return None
        result = await closed_loop(sockets, seconds, pid, one)
        for user in sockets:
            await user["ws"].close()
    return result


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=8.0, help="per path and round")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--tokens", type=int, default=2)
    parser.add_argument("--turns-per-chat", type=int, default=4,
                        help="sends in one chat before the next (the history stays short)")
    parser.add_argument("--expected-rate", type=float, default=400,
                        help="replies/s to stock chats for (more are made, counted, if it runs out)")
    parser.add_argument("--pin", action="store_true", help="servers on CPU 0, the load elsewhere")
    parser.add_argument("--loops", action="store_true", help="also every engine with EVENT_LOOP=asyncio")
    parser.add_argument("--pg", default="postgresql://postgres@127.0.0.1:5432/test",
                        help="PostgreSQL to measure on ('' for SQLite only)")
    parser.add_argument("--baseline", type=Path, default=None)
    args = parser.parse_args()

    provider_port, forwarder_port = free_port(), free_port()
    provider = spawn(["bench/fake_provider.py", str(provider_port)],
                     env={"BENCH_TOKENS": str(args.tokens), "BENCH_RATE": "100000",
                          "BENCH_FIRST_TOKEN_MS": "0"})
    provider_url = f"http://127.0.0.1:{provider_port}"
    forwarder = spawn(["bench/forwarder.py", str(forwarder_port), provider_url])
    pin = pinning(args.pin)
    for pid, load in ((provider.pid, True), (forwarder.pid, False)):
        pin(pid, load)
    pin(os.getpid(), True)
    servers = [provider, forwarder]
    tmp = Path(tempfile.mkdtemp(prefix="chatwire-sends-"))
    engines = [("sqlite", lambda name: f"sqlite:///{tmp / name / 'bench.db'}")]
    drops = []

    def pg_url(name: str) -> str:
        made = pg_schema(args.pg)
        if made is None:
            raise RuntimeError(f"PostgreSQL is not reachable at {args.pg}")
        drops.append(made[1])
        return made[0]
    if args.pg:
        engines.append(("postgres", pg_url))
    variants = [("", ROOT, {})]
    if args.baseline is not None:
        variants.append(("_baseline", args.baseline.resolve(), {}))
    if args.loops:
        variants.append(("_asyncio", ROOT, {"EVENT_LOOP": "asyncio"}))
    paths: dict[str, dict] = {"forwarder": {"url": f"http://127.0.0.1:{forwarder_port}",
                                            "pid": forwarder.pid, "run": run_forwarder}}
    try:
        await wait_http(f"{provider_url}/healthz", provider)
        await wait_http(f"{paths['forwarder']['url']}/healthz", forwarder)
        for engine, url_for in engines:
            for suffix, tree, extra in variants:
                name = engine + suffix
                (tmp / name).mkdir(parents=True, exist_ok=True)
                port = free_port()
                env = {**chatwire_env(url_for(name), provider_url, tmp / name, port), **extra}
                proc = spawn(["run.py", "serve"], env=env, cwd=tree)
                servers.append(proc)
                pin(proc.pid, False)
                await wait_http(f"http://127.0.0.1:{port}/healthz", proc)
                paths[name] = {"url": f"http://127.0.0.1:{port}", "pid": proc.pid, "run": run_chatwire}
        stock = int(args.seconds * args.expected_rate / args.users / args.turns_per_chat) + 2
        for name, path in paths.items():
            if name != "forwarder":
                path["run"] = functools.partial(run_chatwire, turns_per_chat=args.turns_per_chat,
                                                stock=stock)
        for path in paths.values():  # warm: pools, lazy imports, first statements
            await path["run"](path["url"], 2, 1.0, path["pid"])
            path.update(replies=0, cpu=0.0, ttfts=[], rounds=[])
        for _ in range(args.rounds):
            for path in paths.values():
                replies, cpu, ttfts = await path["run"](path["url"], args.users, args.seconds, path["pid"])
                path["replies"] += replies
                path["cpu"] += cpu
                path["ttfts"] += ttfts
                path["rounds"].append(cpu / max(replies, 1))
    finally:
        for proc in servers:
            stop(proc)
        for drop in drops:
            drop()
    fwd = paths["forwarder"]
    fwd_per = fwd["cpu"] / max(fwd["replies"], 1)
    result = {"bench": "sends", "users": args.users, "seconds": args.seconds, "rounds": args.rounds,
              "tokens_per_reply": args.tokens, "pinned": args.pin, "paths": {}}
    for name, path in paths.items():
        per = path["cpu"] / max(path["replies"], 1)
        figures = {"replies": path["replies"], "cpu_us_per_reply": round(per * 1e6, 1),
                   "cpu_ratio_to_forwarder": round(per / max(fwd_per, 1e-9), 2),
                   "each_round": [round(r / max(f, 1e-9), 2) for r, f in zip(path["rounds"], fwd["rounds"])],
                   "ttft_p50_ms": round(percentile(path["ttfts"], 50) * 1000, 2),
                   "ttft_p99_ms": round(percentile(path["ttfts"], 99) * 1000, 2)}
        for suffix in ("_baseline", "_asyncio"):
            other = paths.get(name + suffix)
            if other is not None and other["replies"]:
                figures[f"cpu_ratio_to{suffix}"] = round(
                    per / (other["cpu"] / other["replies"]), 3)
        result["paths"][name] = figures
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    asyncio.run(main())
