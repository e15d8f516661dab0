"""Relay benchmark: what Chatwire adds between a streaming provider and a WebSocket client.

In one run, against one fake OpenAI-compatible provider process:
  direct     N clients streaming from the provider themselves (the latency baseline);
  forwarder  N clients through a bare aiohttp SSE→WebSocket forwarder (the CPU floor);
  chatwire   N clients through Chatwire over WebSocket, persistence on, SQLite and PostgreSQL;
  *_http     N clients through Chatwire's OpenAI-compatible face (`/v1/chat/completions`, SSE,
             each with its own API key), billed like the WebSocket, stored as no chat.
Streams start spread evenly over one reply's duration, so N are in flight at the peak (`--burst`
starts them all in the same instant). Every path is measured `--rounds` times in alternation and
the samples pooled, so a drift of the shared machine lands on all of them; the one-stream run sends
`--single-repeats` replies one after another, so its percentiles are over more than one reply.
For N in --streams, prints one JSON line: time-to-first-token and inter-arrival gaps (p50/p99,
ms), their ratios to direct, and server CPU per relayed token with its ratio to the forwarder
(pooled, and each round's).

    .venv/bin/python bench/relay.py                      # 1, 50, 200 streams; SQLite (+PG if reachable)
    .venv/bin/python bench/relay.py --streams 200 --pg postgresql://postgres@127.0.0.1:5432/test
    .venv/bin/python bench/relay.py --streams 50 --rounds 3 --pin   # servers on CPU 0, the load elsewhere
    .venv/bin/python bench/relay.py --baseline ../before   # also an earlier checkout, A/B in one run

With `--baseline TREE`, every engine also runs the Chatwire checked out in TREE (`git worktree add
../before <commit>`), measured in the same alternating rounds, and each path's CPU is also given as
a ratio to its baseline's (`cpu_ratio_to_baseline`).
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

import aiohttp
import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.common import (ROOT, SERVER_ENV, chat_create, cpu_seconds, free_port,  # noqa: E402
                          percentile, probe_list, register, spawn, stop, wait_http)


class Sample:
    def __init__(self) -> None:
        self.ttft: list[float] = []
        self.gaps: list[float] = []
        self.lists: list[float] = []  # another user's chat.list during a burst
        self.tokens = 0

    def stream(self, started: float, arrivals: list[float]) -> None:
        if arrivals:
            self.ttft.append(arrivals[0] - started)
            self.gaps += [b - a for a, b in zip(arrivals, arrivals[1:])]

    def figures(self) -> dict:
        ms = lambda v: round(v * 1000, 2)  # noqa: E731
        return {"ttft_p50_ms": ms(percentile(self.ttft, 50)), "ttft_p99_ms": ms(percentile(self.ttft, 99)),
                "gap_p50_ms": ms(percentile(self.gaps, 50)), "gap_p99_ms": ms(percentile(self.gaps, 99)),
                "streams_completed": len(self.ttft),
                **({"list_p50_ms": ms(percentile(self.lists, 50)), "list_p99_ms": ms(percentile(self.lists, 99)),
                    "lists": len(self.lists)} if self.lists else {})}

    def add(self, other: "Sample") -> None:
        self.ttft += other.ttft
        self.gaps += other.gaps
        self.lists += other.lists


async def staggered(n: int, spread: float, start, repeat: int = 1) -> None:
    """Start n streams evenly over `spread` seconds (all at once when 0); each of the n slots
    then runs `repeat` streams one after another (a one-stream run gets more than one sample)."""
    async def later(i: int) -> None:
        await asyncio.sleep(spread * i / n)
        for _ in range(repeat):
            await start(i)
    await asyncio.gather(*[later(i) for i in range(n)])


async def run_direct(url: str, n: int, spread: float, repeat: int = 1) -> Sample:
    sample = Sample()
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as session:
        async def one(i: int) -> None:
            started = time.monotonic()
            arrivals = []
            async with session.post(f"{url}/v1/chat/completions", json={
                    "model": "bench", "stream": True, "messages": [{"role": "user", "content": "go"}]
            }) as resp:
                async for line in resp.content:
                    if line.startswith(b"data: {") and b'"content"' in line:
                        arrivals.append(time.monotonic())
            sample.stream(started, arrivals)
        await staggered(n, spread, one, repeat)
    return sample


async def run_forwarder(url: str, n: int, pid: int, spread: float, repeat: int = 1) -> tuple[Sample, float]:
    sample = Sample()
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as session:
        sockets = [await session.ws_connect(f"{url}/ws") for _ in range(n)]
        cpu0 = cpu_seconds(pid)

        async def one(i: int) -> None:
            ws = sockets[i]
            started = time.monotonic()
            arrivals = []
            await ws.send_str("go")
            async for msg in ws:
                frame = orjson.loads(msg.data)
                if frame["type"] == "done":
                    break
                arrivals.append(time.monotonic())
            sample.stream(started, arrivals)
        await staggered(n, spread, one, repeat)
        cpu = cpu_seconds(pid) - cpu0
        for ws in sockets:
            await ws.close()
    return sample, cpu


async def run_chatwire(url: str, n: int, pid: int, spread: float = 0.0,
                       repeat: int = 1) -> tuple[Sample, float, int]:
    """N users each send in a chat of their own. In a burst (spread 0) the chat is created in
    the burst too — a new chat and a send, as a user starting a conversation — and its time
    counts in the first token's; another user's `chat.list` runs beside it (`list_p50/p99`)."""
    sample = Sample()
    frames = 0
    burst = spread == 0 and n > 1
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as session:
        sockets, chats = [], []
        for i in range(n):
            token = await register(session, url)
            ws = await session.ws_connect(f"{url}/ws", headers={"Authorization": f"Bearer {token}"})
            await ws.receive()  # hello
            chats.append(None if burst else await chat_create(ws))
            sockets.append(ws)
        done = asyncio.Event()
        probe = asyncio.ensure_future(probe_list(session, url, done)) if burst else None
        await asyncio.sleep(0.05 if burst else 0)
        cpu0 = cpu_seconds(pid)

        async def one(i: int) -> None:
            nonlocal frames
            ws = sockets[i]
            started = time.monotonic()
            chat_id = chats[i] or await chat_create(ws)
            arrivals = []
            await ws.send_str(orjson.dumps({"type": "message.send", "id": "s", "chat_id": chat_id,
                                            "content": "go"}).decode())
            async for msg in ws:
                frame = orjson.loads(msg.data)
                kind = frame["type"]
                if kind == "message.delta":
                    arrivals.append(time.monotonic())
                    frames += 1
                elif kind in ("message.done", "message.error"):
                    if kind == "message.error":
                        print("error:", frame["error"], file=sys.stderr)
                    break
                elif kind == "reply" and not frame["ok"]:
                    print("refused:", frame["error"], file=sys.stderr)
                    break
            sample.stream(started, arrivals)
        await staggered(n, spread, one, repeat)
        cpu = cpu_seconds(pid) - cpu0
        done.set()
        if probe is not None:
            sample.lists += await probe
        for ws in sockets:
            await ws.close()
    return sample, cpu, frames


async def api_key(session: aiohttp.ClientSession, url: str) -> str:
    """A new account and a personal API key for it (`apikey.create` over its socket)."""
    token = await register(session, url)
    async with session.ws_connect(f"{url}/ws", headers={"Authorization": f"Bearer {token}"}) as ws:
        await ws.receive()  # hello
        await ws.send_str('{"type":"apikey.create","id":"k","name":"bench"}')
        while (frame := orjson.loads((await ws.receive()).data))["type"] != "reply":
            pass
    return frame["data"]["key"]


async def run_chatwire_http(url: str, n: int, pid: int, spread: float = 0.0,
                            repeat: int = 1) -> tuple[Sample, float, int]:
    """As `run_direct`, through Chatwire's /v1 with an API key per client; frames = errors."""
    sample = Sample()
    errors = 0
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as session:
        keys = [await api_key(session, url) for _ in range(n)]
        cpu0 = cpu_seconds(pid)

        async def one(i: int) -> None:
            nonlocal errors
            started = time.monotonic()
            arrivals = []
            async with session.post(f"{url}/v1/chat/completions", json={
                    "model": "bench", "stream": True, "messages": [{"role": "user", "content": "go"}]
            }, headers={"Authorization": f"Bearer {keys[i]}"}) as resp:
                if resp.status != 200:
                    errors += 1
                    print("refused:", resp.status, await resp.text(), file=sys.stderr)
                    return
                async for line in resp.content:
                    if line.startswith(b"data: {") and b'"content"' in line:
                        arrivals.append(time.monotonic())
                    elif line.startswith(b'data: {"error"'):
                        errors += 1
            sample.stream(started, arrivals)
        await staggered(n, spread, one, repeat)
        cpu = cpu_seconds(pid) - cpu0
    return sample, cpu, errors


async def measure(n: int, args, spread: float, provider_url: str, forwarder_url: str, forwarder_pid: int,
                  chatwires: dict) -> dict:
    """N streams on every path, `--rounds` times in alternation (direct, forwarder, each Chatwire),
    so a drift of the shared machine lands on all paths alike. Latencies pool every round's
    streams; CPU per token is the rounds' CPU over their tokens, and each round's own ratio is
    listed beside it to show the spread."""
    repeat = args.single_repeats if n == 1 else 1
    direct, fwd = Sample(), Sample()
    fwd_cpu = 0.0
    faces = [(name, name, run_chatwire) for name in chatwires] + [
        (f"{name}_http", name, run_chatwire_http) for name in chatwires
        if not name.endswith("_baseline")]
    paths = {face: {"sample": Sample(), "cpu": 0.0, "frames": 0, "ratios": []}
             for face, _, _ in faces}
    for _ in range(args.rounds):
        direct.add(await run_direct(provider_url, n, spread, repeat))
        sample, cpu = await run_forwarder(forwarder_url, n, forwarder_pid, spread, repeat)
        fwd.add(sample)
        fwd_cpu += cpu
        for face, name, run in faces:
            url, proc = chatwires[name]
            sample, cw_cpu, frames = await run(url, n, proc.pid, spread, repeat)
            path = paths[face]
            path["sample"].add(sample)
            path["cpu"] += cw_cpu
            path["frames"] += frames
            path["ratios"].append(round(cw_cpu / max(cpu, 1e-9), 3))
    replies = n * repeat * args.rounds
    tokens = replies * args.tokens
    fwd_per_token = fwd_cpu / tokens * 1e6
    base = direct.figures()
    run = {"streams": n, "replies_per_path": replies, "direct": base,
           "forwarder": {**fwd.figures(), "cpu_us_per_token": round(fwd_per_token, 2)}}
    # What the floor itself adds to the tail: on a loaded machine, the noise under any relay's p99.
    run["forwarder"]["ttft_added_p99_ms"] = round(run["forwarder"]["ttft_p99_ms"] - base["ttft_p99_ms"], 2)
    for name, path in paths.items():
        figures = path["sample"].figures()
        per_token = path["cpu"] / tokens * 1e6
        figures.update(
            cpu_us_per_token=round(per_token, 2),
            cpu_ratio_to_forwarder=round(per_token / max(fwd_per_token, 1e-9), 3),
            cpu_ratio_each_round=path["ratios"],
            ttft_p50_ratio_to_direct=round(figures["ttft_p50_ms"] / base["ttft_p50_ms"], 3),
            ttft_added_p50_ms=round(figures["ttft_p50_ms"] - base["ttft_p50_ms"], 2),
            ttft_added_p99_ms=round(figures["ttft_p99_ms"] - base["ttft_p99_ms"], 2),
            **({"errors": path["frames"]} if name.endswith("_http") else {
                "frames_per_stream_s": round(path["frames"] / replies / (args.tokens / args.rate),
                                             2)}))
        run[f"chatwire_{name}"] = figures
    for name, path in paths.items():
        baseline = paths.get(f"{name}_baseline")
        if baseline is not None:
            run[f"chatwire_{name}"]["cpu_ratio_to_baseline"] = round(
                path["cpu"] / max(baseline["cpu"], 1e-9), 3)
    return run


def chatwire_env(database_url: str, provider_url: str, var_dir: Path, port: int) -> dict[str, str]:
    models = var_dir / "models.json"
    models.write_bytes(orjson.dumps([{"id": "bench", "provider": "openai", "upstream": "bench",
                                      "input_price": 1000, "output_price": 1000,
                                      "context_window": 100000, "max_output_tokens": 4096}]))
    return {**SERVER_ENV, "DATABASE_URL": database_url, "VAR_DIR": str(var_dir), "PORT": str(port),
            "OPENAI_BASE_URL": f"{provider_url}/v1", "OPENAI_API_KEY": "bench",
            "MODELS_FILE": str(models), "DEFAULT_MODEL": "bench",
            "MAX_CONCURRENT_GENERATIONS": "1000", "INSTANCE_ID": "bench",
            "RATE_API_KEY_PER_MINUTE": "0"}


def pg_schema(base_url: str) -> tuple[str, callable] | None:
    try:
        import psycopg2
        conn = psycopg2.connect(base_url, connect_timeout=3)
    except Exception as exc:  # noqa: BLE001 - report and carry on without PostgreSQL
        print(f"PostgreSQL skipped: {exc}".strip(), file=sys.stderr)
        return None
    conn.autocommit = True
    schema = f"bench_{uuid.uuid4().hex[:8]}"
    conn.cursor().execute(f"CREATE SCHEMA {schema}")

    def drop() -> None:
        conn.cursor().execute(f"DROP SCHEMA {schema} CASCADE")
        conn.close()
    return f"{base_url}{'&' if '?' in base_url else '?'}schema={schema}", drop


def pinning(enabled: bool):
    """With --pin: a function that puts a server on CPU 0 and the load on the other CPUs."""
    cpus = sorted(os.sched_getaffinity(0))
    if not enabled or len(cpus) < 2:
        return lambda pid, load: None
    return lambda pid, load: os.sched_setaffinity(pid, set(cpus[1:]) if load else {cpus[0]})


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--streams", default="1,50,200")
    parser.add_argument("--tokens", type=int, default=100, help="tokens per reply")
    parser.add_argument("--rate", type=float, default=50, help="tokens/s per stream")
    parser.add_argument("--first-token-ms", type=float, default=200, help="provider think time")
    parser.add_argument("--rounds", type=int, default=2,
                        help="measure every path this many times in alternation and pool the samples")
    parser.add_argument("--single-repeats", type=int, default=10,
                        help="replies one after another in the one-stream run (its percentiles need samples)")
    parser.add_argument("--pin", action="store_true",
                        help="the servers (forwarder, Chatwire) on CPU 0, the provider and the clients on "
                             "the others, so the load does not take the measured server's core")
    parser.add_argument("--burst", action="store_true",
                        help="start all N streams at once instead of spread over one reply's time")
    parser.add_argument("--pg", default=os.environ.get("TEST_DATABASE_URL",
                                                       "postgresql://postgres@127.0.0.1:5432/test"))
    parser.add_argument("--baseline", type=Path, default=None,
                        help="a checkout of an earlier commit to measure beside this one")
    args = parser.parse_args()
    counts = [int(c) for c in args.streams.split(",")]

    provider_port, forwarder_port = free_port(), free_port()
    provider = spawn(["bench/fake_provider.py", str(provider_port)],
                     env={"BENCH_TOKENS": str(args.tokens), "BENCH_RATE": str(args.rate),
                          "BENCH_FIRST_TOKEN_MS": str(args.first_token_ms)})
    provider_url = f"http://127.0.0.1:{provider_port}"
    forwarder = spawn(["bench/forwarder.py", str(forwarder_port), provider_url])
    pin = pinning(args.pin)
    pin(os.getpid(), load=True)
    pin(provider.pid, load=True)
    pin(forwarder.pid, load=False)
    forwarder_url = f"http://127.0.0.1:{forwarder_port}"
    servers = [provider, forwarder]
    tmp = Path(tempfile.mkdtemp(prefix="chatwire-bench-"))
    engines: list[tuple[str, str, object]] = [("sqlite", f"sqlite:///{tmp / 'sqlite' / 'bench.db'}", None)]
    pg = pg_schema(args.pg) if args.pg else None  # --pg '': SQLite only
    if pg:
        engines.append(("postgres", pg[0], pg[1]))
    if args.baseline is not None:
        engines.append(("sqlite_baseline", f"sqlite:///{tmp / 'sqlite_baseline' / 'bench.db'}", None))
        if pg:
            pg_b = pg_schema(args.pg)
            engines.append(("postgres_baseline", pg_b[0], pg_b[1]))
    result: dict = {"bench": "relay", "tokens_per_reply": args.tokens, "rate_tok_s": args.rate,
                    "rounds": args.rounds, "single_stream_repeats": args.single_repeats,
                    "provider_first_token_ms": args.first_token_ms, "cpus": os.cpu_count(),
                    "pinned": args.pin, "runs": []}
    try:
        await wait_http(f"{provider_url}/healthz", provider)
        await wait_http(f"{forwarder_url}/healthz", forwarder)
        chatwires = {}
        for name, url, _ in engines:
            port = free_port()
            (tmp / name).mkdir(parents=True, exist_ok=True)
            tree = args.baseline.resolve() if name.endswith("_baseline") else ROOT
            proc = spawn(["run.py", "serve"], env=chatwire_env(url, provider_url, tmp / name, port),
                         cwd=tree)
            servers.append(proc)
            pin(proc.pid, load=False)
            await wait_http(f"http://127.0.0.1:{port}/healthz", proc)
            chatwires[name] = (f"http://127.0.0.1:{port}", proc)

        # Warm every path once (first-request costs: connection pools, lazy imports).
        await run_direct(provider_url, 1, 0)
        await run_forwarder(forwarder_url, 1, forwarder.pid, 0)
        for name, (url, proc) in chatwires.items():
            await run_chatwire(url, 1, proc.pid)
            if not name.endswith("_baseline"):
                await run_chatwire_http(url, 1, proc.pid)
        spread = 0.0 if args.burst else args.first_token_ms / 1000 + args.tokens / args.rate
        result["arrivals"] = "burst" if args.burst else f"spread evenly over {spread:.2f} s"
        for n in counts:
            run = await measure(n, args, spread, provider_url, forwarder_url, forwarder.pid, chatwires)
            result["runs"].append(run)
            print(json.dumps(run), file=sys.stderr)
    finally:
        for proc in servers:
            stop(proc)
        for _, _, drop in engines:
            if drop:
                drop()
    print(json.dumps(result))


if __name__ == "__main__":
    asyncio.run(main())
