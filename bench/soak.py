"""Soak: many users for a long time on one Chatwire process, with random drops and resumes.

Users (default 1,000, in 4 client processes) send messages and stream echo replies at 30 tokens/s,
think 5–15 s between messages, start a new chat every 10 messages (a workload that is the same
after warm-up as before; with `--turns-per-chat 0` one chat per user grows all run, and with it
every send's thread read), and cut their socket mid-reply 10% of the time, reconnecting with
`?last_seq=N`. Checked at the end: no event lost or duplicated (by `seq`), every rebuilt reply equal
to the stored message, `run.py ledger check` clean, no error beyond the injected drops. Server RSS
is sampled every 5 s; the slope after warm-up (first quarter left out, and the final check after
the load) says whether memory is flat,
and the same slope for the C heap and for anonymous mappings says where any growth lives.
Prints one JSON line.

    .venv/bin/python bench/soak.py                              # 1,000 users, 10 minutes
    .venv/bin/python bench/soak.py --users 200 --seconds 120    # a quick look
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
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.common import (ROOT, SERVER_ENV, cpu_seconds, free_port, memory_split,  # noqa: E402
                          percentile, rss_bytes, stop, wait_http)
from bench.realtime import chatwire  # noqa: E402
from bench.relay import pg_schema  # noqa: E402


def slope_per_minute(samples: list[tuple[float, int]]) -> float:
    """Least-squares slope of RSS over time, in KB per minute."""
    if len(samples) < 3:
        return float("nan")
    n = len(samples)
    mean_t = sum(t for t, _ in samples) / n
    mean_r = sum(r for _, r in samples) / n
    num = sum((t - mean_t) * (r - mean_r) for t, r in samples)
    den = sum((t - mean_t) ** 2 for t, _ in samples) or 1e-9
    return num / den * 60 / 1024


def workers(urls: str, users: int, processes: int, args: argparse.Namespace,
            extra: list[str]) -> list[subprocess.Popen]:
    share = [users // processes + (1 if i < users % processes else 0) for i in range(processes)]
    return [subprocess.Popen(
        [sys.executable, str(ROOT / "bench" / "load_clients.py"), "--urls", urls,
         "--users", str(n), "--seconds", str(args.seconds), *extra],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=ROOT) for n in share if n]


def merge(outputs: list[dict]) -> dict:
    merged: dict = {}
    for out in outputs:
        for key, value in out.items():
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                merged[key] = merged.get(key, 0) + value
            elif isinstance(value, list):
                merged.setdefault(key, []).extend(value)
    return merged


async def collect(procs: list[subprocess.Popen]) -> list[dict]:
    """Every client's JSON line, all pipes read at once (a full pipe would stall its writer)."""
    results = await asyncio.gather(*(asyncio.to_thread(proc.communicate) for proc in procs))
    outputs = []
    for proc, (out, err) in zip(procs, results):
        if proc.returncode != 0 or not out.strip():
            raise RuntimeError(f"a client process failed: {err.decode()[-2000:]}")
        outputs.append(json.loads(out.decode().strip().splitlines()[-1]))
    return outputs


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--users", type=int, default=1000)
    parser.add_argument("--seconds", type=float, default=600)
    parser.add_argument("--processes", type=int, default=4, help="client processes")
    parser.add_argument("--tokens-per-s", type=float, default=30)
    parser.add_argument("--drop", type=float, default=0.1)
    parser.add_argument("--think-min", type=float, default=5)
    parser.add_argument("--think-max", type=float, default=15)
    parser.add_argument("--turns-per-chat", type=int, default=10,
                        help="messages before a user starts a new chat (0: one chat that grows all run)")
    parser.add_argument("--redis", default=os.environ.get("TEST_REDIS_URL", ""),
                        help="use the Redis broker (default: in-process)")
    parser.add_argument("--pg", default=os.environ.get("TEST_DATABASE_URL",
                                                       "postgresql://postgres@127.0.0.1:5432/test"))
    args = parser.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="chatwire-soak-"))
    pg = pg_schema(args.pg)
    database_url = pg[0] if pg else f"sqlite:///{tmp / 'soak.db'}"
    port = free_port()
    extra_env = {"ECHO_TOKENS_PER_SECOND": str(args.tokens_per_s),
                 "MAX_CONCURRENT_GENERATIONS": "10", "DB_POOL_SIZE": "20"}
    server = chatwire(database_url, args.redis, tmp, port, "soak", **extra_env)
    url = f"http://127.0.0.1:{port}"
    result: dict = {"bench": "soak", "users": args.users, "seconds": args.seconds,
                    "engine": "postgres" if pg else "sqlite", "broker": "redis" if args.redis else "in-process",
                    "echo_tokens_per_s": args.tokens_per_s, "drop_chance": args.drop,
                    "turns_per_chat": args.turns_per_chat,
                    "cpus": os.cpu_count()}
    try:
        await wait_http(f"{url}/healthz", server)
        started = time.monotonic()
        cpu0 = cpu_seconds(server.pid)
        clients = workers(url, args.users, args.processes, args, [
            "--tokens-per-s", str(args.tokens_per_s), "--drop", str(args.drop),
            "--think-min", str(args.think_min), "--think-max", str(args.think_max),
            "--turns-per-chat", str(args.turns_per_chat)])
        outputs_read = asyncio.ensure_future(collect(clients))  # read while they run: pipes fill
        samples: list[tuple[float, int]] = []
        heap: list[tuple[float, int]] = []
        anon: list[tuple[float, int]] = []
        while not outputs_read.done():
            now = time.monotonic() - started
            samples.append((now, rss_bytes(server.pid)))
            split = memory_split(server.pid)
            heap.append((now, split[0]))
            anon.append((now, split[1]))
            await asyncio.wait([outputs_read], timeout=5)
        outputs = outputs_read.result()
        cpu = cpu_seconds(server.pid) - cpu0
        totals = merge(outputs)
        def during_load(series: list[tuple[float, int]], since: float) -> list[tuple[float, int]]:
            """Samples from `since` to the load's end: the clients' final check (every chat
            listed) comes after it and is not what the slopes are about."""
            return [s for s in series if since <= s[0] <= args.seconds]

        warm = during_load(samples, args.seconds / 4)
        ledger = subprocess.run([sys.executable, "run.py", "ledger", "check"], cwd=ROOT,
                                env={**os.environ, **SERVER_ENV, "DATABASE_URL": database_url,
                                     "VAR_DIR": str(tmp)},
                                capture_output=True, text=True)
        latencies = totals.pop("latencies_ms", [])
        ttft = totals.pop("ttft_ms", [])
        errors = totals.pop("errors", [])
        result.update({
            **{k: totals.get(k, 0) for k in (
                "users", "messages", "replies_done", "events", "gaps", "duplicates",
                "bad_delta_index", "mismatched_replies", "unfinished_replies", "drops", "resyncs",
                "error_count")},
            "errors_sample": errors[:5],
            "reply_latency_p50_ms": round(percentile(latencies, 50), 1),
            "reply_latency_p99_ms": round(percentile(latencies, 99), 1),
            "ttft_p50_ms": round(percentile(ttft, 50), 1),
            "ttft_p99_ms": round(percentile(ttft, 99), 1),
            "server_cpu_s": round(cpu, 1),
            "server_cpu_share": round(cpu / max(samples[-1][0], 1e-9), 3) if samples else None,
            "rss_start_mb": round(samples[0][1] / 2**20, 1) if samples else None,
            "rss_after_warmup_mb": round(warm[0][1] / 2**20, 1) if warm else None,
            "rss_end_mb": round(samples[-1][1] / 2**20, 1) if samples else None,
            "rss_slope_after_warmup_kb_per_min": round(slope_per_minute(warm), 1),
            # the second half alone: a slope that keeps shrinking is warm-up, not growth
            "rss_slope_last_half_kb_per_min": round(slope_per_minute(
                during_load(samples, args.seconds / 2)), 1),
            "rss_mb_every_30s": [round(r / 2**20, 1) for t, r in samples[::6]],
            # of which the C heap (malloc) and anonymous mappings (Python's arenas)
            "heap_slope_after_warmup_kb_per_min": round(slope_per_minute(
                during_load(heap, args.seconds / 4)), 1),
            "anon_slope_after_warmup_kb_per_min": round(slope_per_minute(
                during_load(anon, args.seconds / 4)), 1),
            "ledger_check": "ok" if ledger.returncode == 0 else ledger.stdout[-500:] + ledger.stderr[-500:],
        })
    finally:
        stop(server)
        if pg:
            pg[1]()
    print(json.dumps(result))


if __name__ == "__main__":
    asyncio.run(main())
