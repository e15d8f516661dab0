"""Capacity: the most concurrent streams a server relays while every one of them still feels live.

For each target — the bare forwarder (bench/forwarder.py, the floor), Chatwire alone (one
process, no Redis: the in-process broker), Chatwire with `--workers 1` and Chatwire with
`--workers 2` (both on Redis, so only the worker count differs) — ramp the
number of concurrent streams from --step by --step up to --max-streams. Each stream is a closed
loop against one fake OpenAI-compatible provider (bench/fake_provider.py) at --rate tokens/s:
send, read the whole reply, send again, for --seconds (the first sends are spread over one reply's
time, not a burst). A step passes when first-token p99 ≤ --ttft-ms (100) and no gap between two
frames of a reply exceeds --gap-ms (250), with no errors; the ramp stops at the first step that
fails, and the target's capacity is the last step that passed. Prints one JSON line: each target's
steps (latencies, server CPU) and capacity, and the ratios workers_1 ÷ forwarder (target ≥ 0.7)
and workers_2 ÷ workers_1 (target ≥ 1.6).

The load (the clients, in --load-procs processes of their own, and the provider) must not take the
measured server's cores: with --pin each server process gets a core of its own (the forwarder
and one worker: the first core; two workers: the first two) and the load the remaining cores. On
a 2-core machine two pinned workers leave none, so the load then shares them (the JSON says
`load_shares_server_cpus`): measure two workers there with a lower --rate (less load per stream),
or on a machine with more cores.

    .venv/bin/python bench/capacity.py --pin                                  # the full ramp
    .venv/bin/python bench/capacity.py --max-streams 40 --step 20 --seconds 5  # a smoke run
    .venv/bin/python bench/capacity.py --targets workers_2 --rate 25 --pin
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import aiohttp
import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.common import (cpu_seconds, free_port, percentile, register, spawn,  # noqa: E402
                          stop, wait_http)
from bench.relay import chatwire_env, pg_schema  # noqa: E402

TARGETS = ("forwarder", "alone", "workers_1", "workers_2")  # alone: one process, no Redis
CPUS = sorted(os.sched_getaffinity(0))  # before any pinning narrows this process's own


# -- the load: one process drives its share of the streams ----------------------------------------

class Streams:
    def __init__(self) -> None:
        self.ttft: list[float] = []
        self.gaps: list[float] = []
        self.replies = 0
        self.errors = 0

    def reply(self, started: float, arrivals: list[float]) -> None:
        if not arrivals:
            self.errors += 1
            return
        self.replies += 1
        self.ttft.append(arrivals[0] - started)
        self.gaps += [b - a for a, b in zip(arrivals, arrivals[1:])]


async def forwarder_stream(ws, out: Streams) -> None:
    started, arrivals = time.monotonic(), []
    await ws.send_str("go")
    async for msg in ws:
        if orjson.loads(msg.data)["type"] == "done":
            break
        arrivals.append(time.monotonic())
    out.reply(started, arrivals)


async def chatwire_stream(ws, chat_id: str, out: Streams) -> None:
    started, arrivals = time.monotonic(), []
    await ws.send_str(orjson.dumps({"type": "message.send", "id": "s", "chat_id": chat_id,
                                    "content": "go"}).decode())
    async for msg in ws:
        frame = orjson.loads(msg.data)
        kind = frame["type"]
        if kind == "message.delta":
            arrivals.append(time.monotonic())
        elif kind == "message.done":
            break
        elif kind == "message.error" or (kind == "reply" and not frame["ok"]):
            print("error:", frame.get("error"), file=sys.stderr)
            arrivals = []
            break
    out.reply(started, arrivals)


async def open_streams(kind: str, url: str, n: int, session) -> list:
    """n sockets ready to stream: (socket, chat id or None)."""
    if kind == "forwarder":
        return [(await session.ws_connect(f"{url}/ws"), None) for _ in range(n)]
    gate = asyncio.Semaphore(16)

    async def one():
        async with gate:
            token = await register(session, url)
            ws = await session.ws_connect(f"{url}/ws", headers={"Authorization": f"Bearer {token}"})
            await ws.receive()  # hello
            await ws.send_str('{"type":"chat.create","id":"c"}')
            while (frame := orjson.loads((await ws.receive()).data))["type"] != "reply":
                pass
            return ws, frame["data"]["id"]
    return await asyncio.gather(*[one() for _ in range(n)])


async def load(spec: dict) -> None:
    """A load process: open the sockets, say `ready`, wait for `go` on stdin, run, print figures."""
    out = Streams()
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as session:
        sockets = await open_streams(spec["kind"], spec["url"], spec["streams"], session)
        print("ready", flush=True)
        await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)
        deadline = time.monotonic() + spec["seconds"]

        async def loop(i: int, ws, chat_id) -> None:
            await asyncio.sleep(spec["spread"] * i / len(sockets))
            while time.monotonic() < deadline:
                if chat_id is None:
                    await forwarder_stream(ws, out)
                else:
                    await chatwire_stream(ws, chat_id, out)
        await asyncio.gather(*[loop(i, ws, chat) for i, (ws, chat) in enumerate(sockets)])
        for ws, _ in sockets:
            await ws.close()
    print(json.dumps({"ttft": [round(t, 5) for t in out.ttft],
                      "gaps": [round(g, 5) for g in out.gaps],
                      "replies": out.replies, "errors": out.errors}), flush=True)


# -- the bench: servers, placement, the ramp --------------------------------------------------------

def placement(pin: bool, server_procs: int) -> tuple[list[set[int]], set[int] | None, bool]:
    """Each server process's CPUs, the load's CPUs, and whether the load shares the servers'."""
    cpus = CPUS
    if not pin or len(cpus) < 2:
        return [set(cpus)] * server_procs, None, True
    servers = [{cpus[k % len(cpus)]} for k in range(server_procs)]
    rest = set(cpus[server_procs:])
    return servers, rest or set(cpus), not rest


def children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
    return sorted(found)


async def start_target(name: str, args, provider_url: str, tmp: Path, cleanups: list):
    """The target's URL, its measured pids (the workers, not the supervisor), its process."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    if name == "forwarder":
        proc = spawn(["bench/forwarder.py", str(port), provider_url])
        await wait_http(f"{url}/healthz", proc)
        return url, [proc.pid], proc
    workers = 1 if name == "alone" else int(name.rsplit("_", 1)[1])
    (tmp / name).mkdir(parents=True, exist_ok=True)
    database, args.engine = f"sqlite:///{tmp / name / 'bench.db'}", "sqlite"
    if not args.sqlite and (schema := pg_schema(args.pg)) is not None:
        database, args.engine = schema[0], "postgres"
        cleanups.append(schema[1])
    env = {**chatwire_env(database, provider_url, tmp / name, port), "DB_POOL_SIZE": "20",
           **({} if name == "alone" else {"REDIS_URL": args.redis})}
    proc = spawn(["run.py", "serve", "--workers", str(workers)], env=env)
    await wait_http(f"{url}/healthz", proc)
    if workers == 1:
        return url, [proc.pid], proc
    seen: set = set()  # every worker answering: each new connection lands on one of them
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(force_close=True)) as session:
        for _ in range(600):
            async with session.get(f"{url}/healthz") as resp:
                seen.add((await resp.json())["worker"])
            if len(seen) == workers:
                break
            await asyncio.sleep(0.05)
    return url, children(proc.pid), proc


async def step(kind: str, url: str, n: int, args, pids: list[int], load_cpus) -> dict:
    """n streams for --seconds, spread over --load-procs processes; the step's figures."""
    shares = [n // args.load_procs + (1 if i < n % args.load_procs else 0)
              for i in range(args.load_procs)]
    spread = args.first_token_ms / 1000 + args.tokens / args.rate
    procs = []
    for share in filter(None, shares):
        spec = json.dumps({"kind": kind, "url": url, "streams": share, "seconds": args.seconds,
                           "spread": spread})
        procs.append(await asyncio.create_subprocess_exec(
            sys.executable, __file__, "--load", spec, stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE, limit=1 << 26))  # its samples: one long line
        if load_cpus:
            os.sched_setaffinity(procs[-1].pid, load_cpus)
    for proc in procs:
        line = await asyncio.wait_for(proc.stdout.readline(), 300)
        if line.strip() != b"ready":
            raise RuntimeError(f"a load process did not start: {line!r}")
    cpu0 = sum(cpu_seconds(p) for p in pids)
    for proc in procs:
        proc.stdin.write(b"go\n")
        await proc.stdin.drain()
    results = [json.loads(await proc.stdout.readline()) for proc in procs]
    cpu = sum(cpu_seconds(p) for p in pids) - cpu0
    for proc in procs:
        await proc.wait()
    ttft = [t for r in results for t in r["ttft"]]
    gaps = [g for r in results for g in r["gaps"]]
    errors = sum(r["errors"] for r in results)
    figures = {"streams": n, "replies": sum(r["replies"] for r in results), "errors": errors,
               "ttft_p50_ms": round(percentile(ttft, 50) * 1000, 1),
               "ttft_p99_ms": round(percentile(ttft, 99) * 1000, 1),
               "gap_p99_ms": round(percentile(gaps, 99) * 1000, 1),
               "gap_max_ms": round(max(gaps, default=float("nan")) * 1000, 1),
               "server_cpu_s": round(cpu, 2),
               "server_cpu_share": round(cpu / (args.seconds * len(pids)), 3)}
    figures["ok"] = bool(ttft) and not errors and figures["ttft_p99_ms"] <= args.ttft_ms \
        and figures["gap_max_ms"] <= args.gap_ms
    return figures


async def ramp(name: str, args, provider_url: str, tmp: Path) -> dict:
    server_procs = 1 if name in ("forwarder", "alone") else int(name.rsplit("_", 1)[1])
    server_cpus, load_cpus, shared = placement(args.pin, server_procs)
    cleanups: list = []
    url, pids, proc = await start_target(name, args, provider_url, tmp, cleanups)
    kind = "forwarder" if name == "forwarder" else "chatwire"
    result = {"target": name, "server_processes": len(pids), "load_shares_server_cpus": shared,
              "database": getattr(args, "engine", None) if kind == "chatwire" else None,
              "steps": [], "capacity_streams": 0}
    try:
        if args.pin:
            os.sched_setaffinity(proc.pid, set().union(*server_cpus))
            for pid, cpus in zip(pids, server_cpus):
                os.sched_setaffinity(pid, cpus)
            result["server_cpus"] = [sorted(c) for c in server_cpus]
            result["load_cpus"] = sorted(load_cpus)
        await step(kind, url, 1, argparse.Namespace(**{**vars(args), "seconds": 1.0}), pids,
                   load_cpus)  # warm: first-request costs, lazy imports
        for n in range(args.step, args.max_streams + 1, args.step):
            figures = await step(kind, url, n, args, pids, load_cpus)
            result["steps"].append(figures)
            print(json.dumps({"target": name, **figures}), file=sys.stderr)
            if not figures["ok"]:
                break
            result["capacity_streams"] = n
    finally:
        stop(proc)
        for cleanup in cleanups:
            cleanup()
    return result


def ratio(a: int, b: int) -> float | None:
    return round(a / b, 3) if b else None


async def main(args) -> None:
    provider_port = free_port()
    provider = spawn(["bench/fake_provider.py", str(provider_port)],
                     env={"BENCH_TOKENS": str(args.tokens), "BENCH_RATE": str(args.rate),
                          "BENCH_FIRST_TOKEN_MS": str(args.first_token_ms)})
    provider_url = f"http://127.0.0.1:{provider_port}"
    tmp = Path(tempfile.mkdtemp(prefix="chatwire-capacity-"))
    out: dict = {"bench": "capacity", "rate_tok_s": args.rate, "tokens_per_reply": args.tokens,
                 "provider_first_token_ms": args.first_token_ms, "seconds_per_step": args.seconds,
                 "ttft_p99_limit_ms": args.ttft_ms, "gap_limit_ms": args.gap_ms,
                 "load_procs": args.load_procs, "pinned": args.pin,
                 "cpus": len(CPUS),
                 "targets": {}}
    try:
        await wait_http(f"{provider_url}/healthz", provider)
        for name in args.targets.split(","):
            if name not in TARGETS:
                raise SystemExit(f"--targets: {name!r} is not one of {', '.join(TARGETS)}")
            # the provider is load too: on the load's cores, recomputed per target
            _, load_cpus, _ = placement(args.pin, 1 if name in ("forwarder", "alone") else int(name[-1]))
            if load_cpus:
                os.sched_setaffinity(provider.pid, load_cpus)
                os.sched_setaffinity(0, load_cpus)
            out["targets"][name] = await ramp(name, args, provider_url, tmp)
    finally:
        stop(provider)
    cap = {name: t["capacity_streams"] for name, t in out["targets"].items()}
    if "workers_1" in cap and "forwarder" in cap:
        out["workers_1_over_forwarder"] = ratio(cap["workers_1"], cap["forwarder"])
        out["workers_1_target_met"] = (out["workers_1_over_forwarder"] or 0) >= 0.7
    if "alone" in cap and "forwarder" in cap:  # the broker's share: the same process, no Redis
        out["alone_over_forwarder"] = ratio(cap["alone"], cap["forwarder"])
    if "workers_2" in cap and "workers_1" in cap:
        out["workers_2_over_workers_1"] = ratio(cap["workers_2"], cap["workers_1"])
        out["workers_2_target_met"] = (out["workers_2_over_workers_1"] or 0) >= 1.6
    if any(cap[name] == args.max_streams for name in cap):
        out["note"] = "a target passed every step: raise --max-streams for its true capacity"
    print(json.dumps(out))


def parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--targets", default=",".join(TARGETS))
    parser.add_argument("--rate", type=float, default=50, help="tokens/s per stream (50)")
    parser.add_argument("--tokens", type=int, default=100, help="tokens per reply (100)")
    parser.add_argument("--first-token-ms", type=float, default=0,
                        help="the provider's think time (0: first-token latency is the relay's own)")
    parser.add_argument("--step", type=int, default=50, help="streams added per step (50)")
    parser.add_argument("--max-streams", type=int, default=2000)
    parser.add_argument("--seconds", type=float, default=20, help="each step's length (20)")
    parser.add_argument("--ttft-ms", type=float, default=100, help="first-token p99 limit (100)")
    parser.add_argument("--gap-ms", type=float, default=250, help="largest frame gap allowed (250)")
    parser.add_argument("--load-procs", type=int, default=2, help="client processes (2)")
    parser.add_argument("--pin", action="store_true",
                        help="a core for each server process, the load on the other cores")
    parser.add_argument("--sqlite", action="store_true", help="Chatwire on SQLite, not PostgreSQL")
    parser.add_argument("--pg", default=os.environ.get("TEST_DATABASE_URL",
                                                       "postgresql://postgres@127.0.0.1:5432/test"))
    parser.add_argument("--redis", default=os.environ.get("TEST_REDIS_URL",
                                                          "redis://127.0.0.1:6379/0"))
    return parser.parse_args()


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--load":
        asyncio.run(load(json.loads(sys.argv[2])))
    else:
        asyncio.run(main(parse()))
