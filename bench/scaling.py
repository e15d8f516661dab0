"""Scaling curve: the same closed-loop load on 1 and on 2 Chatwire instances sharing PostgreSQL and
Redis. Users are spread over the instances (as a load balancer would); each sends a message, waits
for the whole streamed reply, thinks briefly, and sends again. Reports replies/s, reply latency
p50/p99 and time to first token p99 per instance count, and the 2 ÷ 1 throughput ratio. On a
machine with fewer cores than instances + clients the curve shows contention, not capacity: the
JSON says how many CPUs there were. Prints one JSON line.

    .venv/bin/python bench/scaling.py --users 300 --seconds 40
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.common import cpu_seconds, free_port, percentile, stop, wait_http  # noqa: E402
from bench.realtime import chatwire  # noqa: E402
from bench.relay import pg_schema  # noqa: E402
from bench.soak import collect, merge, workers  # noqa: E402


async def run(instances: int, args: argparse.Namespace, tmp: Path) -> dict:
    schema = pg_schema(args.pg)
    if schema is None:
        raise SystemExit("the scaling curve needs PostgreSQL (TEST_DATABASE_URL or --pg)")
    servers, urls = [], []
    try:
        for i in range(instances):
            port = free_port()
            (tmp / f"{instances}-{i}").mkdir(parents=True, exist_ok=True)
            servers.append(chatwire(schema[0], args.redis, tmp / f"{instances}-{i}", port,
                                    f"scale-{instances}-{i}",
                                    ECHO_TOKENS_PER_SECOND=str(args.tokens_per_s),
                                    MAX_CONCURRENT_GENERATIONS="10"))
            urls.append(f"http://127.0.0.1:{port}")
        for url, proc in zip(urls, servers):
            await wait_http(f"{url}/healthz", proc)
        cpu0 = [cpu_seconds(p.pid) for p in servers]
        clients = workers(",".join(urls), args.users, args.processes, args, [
            "--tokens-per-s", str(args.tokens_per_s), "--think-min", "0", "--think-max",
            str(args.think_max), "--words-min", "20", "--words-max", "40"])
        totals = merge(await collect(clients))
        cpu = sum(cpu_seconds(p.pid) - c for p, c in zip(servers, cpu0))
    finally:
        for proc in servers:
            stop(proc)
        schema[1]()
    latencies, ttft = totals.get("latencies_ms", []), totals.get("ttft_ms", [])
    return {"instances": instances, "replies": totals.get("replies_done", 0),
            "replies_per_s": round(totals.get("replies_done", 0) / args.seconds, 2),
            "reply_latency_p50_ms": round(percentile(latencies, 50), 1),
            "reply_latency_p99_ms": round(percentile(latencies, 99), 1),
            "ttft_p99_ms": round(percentile(ttft, 99), 1),
            "server_cpu_s": round(cpu, 1), "gaps": totals.get("gaps", 0),
            "duplicates": totals.get("duplicates", 0),
            "mismatched_replies": totals.get("mismatched_replies", 0),
            "errors": totals.get("error_count", 0)}


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--users", type=int, default=300)
    parser.add_argument("--seconds", type=float, default=40)
    parser.add_argument("--processes", type=int, default=2, help="client processes")
    parser.add_argument("--tokens-per-s", type=float, default=100, help="echo pace")
    parser.add_argument("--think-max", type=float, default=0.5)
    parser.add_argument("--redis", default=os.environ.get("TEST_REDIS_URL",
                                                          "redis://127.0.0.1:6379/0"))
    parser.add_argument("--pg", default=os.environ.get("TEST_DATABASE_URL",
                                                       "postgresql://postgres@127.0.0.1:5432/test"))
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="chatwire-scaling-"))
    one = await run(1, args, tmp)
    print(json.dumps(one), file=sys.stderr)
    two = await run(2, args, tmp)
    print(json.dumps(two), file=sys.stderr)
    print(json.dumps({"bench": "scaling", "users": args.users, "seconds": args.seconds,
                      "echo_tokens_per_s": args.tokens_per_s, "cpus": os.cpu_count(),
                      "runs": [one, two],
                      "throughput_2_over_1": round(two["replies_per_s"] / max(one["replies_per_s"], 1e-9), 3),
                      "p99_2_over_1": round(two["reply_latency_p99_ms"] / max(one["reply_latency_p99_ms"], 1e-9), 3)}))


if __name__ == "__main__":
    asyncio.run(main())
