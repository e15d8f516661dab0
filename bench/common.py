"""Shared pieces of the benchmarks: child processes, CPU time, percentiles, ports."""
from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import aiohttp
import orjson

ROOT = Path(__file__).resolve().parent.parent
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")

# What every benchmarked Chatwire runs with: fixed secrets, cheap password hashing (sign-ups are
# set-up, not the thing measured), credits that never run out, no rate limits, quiet logs.
SERVER_ENV = {"SECRET_KEY": "b" * 48, "JWT_SECRET_KEY": "c" * 48, "ARGON2_TIME_COST": "1",
              "ARGON2_MEMORY_COST": "1024", "LOG_LEVEL": "WARNING", "SIGNUP_CREDITS": "1000000000",
              "RATE_AUTH_PER_MINUTE": "0", "RATE_SEND_PER_MINUTE": "0", "RATE_WRITE_PER_MINUTE": "0"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def rss_bytes(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0


def memory_split(pid: int) -> tuple[int, int]:
    """Resident bytes of the C heap (malloc: objects over 512 bytes, C libraries) and of anonymous
    mappings (Python's small-object arenas, large mmaps): where a growth happens says what grows."""
    heap = anon = 0
    name = None
    for line in Path(f"/proc/{pid}/smaps").read_text().splitlines():
        parts = line.split()
        if len(parts) >= 5 and "-" in parts[0]:
            name = parts[5] if len(parts) > 5 else ""
        elif parts and parts[0] == "Rss:":
            if name == "[heap]":
                heap += int(parts[1]) * 1024
            elif name == "":
                anon += int(parts[1]) * 1024
    return heap, anon


def spawn(args: list[str], env: dict[str, str] | None = None, cwd: Path | None = None) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, *args], env={**os.environ, **(env or {})},
                            cwd=cwd or ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


async def wait_http(url: str, proc: subprocess.Popen, timeout: float = 30.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    async with aiohttp.ClientSession() as session:
        while asyncio.get_running_loop().time() < deadline:
            if proc.poll() is not None:
                raise RuntimeError(f"{url} exited: {proc.stderr.read().decode()[-2000:]}")
            try:
                async with session.get(url) as resp:
                    if resp.status < 500:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.1)
    raise RuntimeError(f"{url} did not come up")


async def register(session: aiohttp.ClientSession, base: str) -> str:
    """A new account on the Chatwire at `base`; its access token."""
    return (await register_tokens(session, base))["access_token"]


async def register_tokens(session: aiohttp.ClientSession, base: str) -> dict:
    """A new account on the Chatwire at `base`: its access and refresh tokens, and `expires_in`."""
    async with session.post(f"{base}/api/v1/auth/register", json={
            "email": f"bench-{uuid.uuid4().hex[:12]}@example.com",
            "password": "correct horse battery"}) as resp:
        body = await resp.json()
        if resp.status != 201:
            raise RuntimeError(f"register: {resp.status} {body}")
        return body


async def refresh_tokens(session: aiohttp.ClientSession, base: str, refresh_token: str) -> dict:
    """New tokens for a session, as a client does before its access token runs out."""
    async with session.post(f"{base}/api/v1/auth/refresh", json={"refresh_token": refresh_token}) as resp:
        body = await resp.json()
        if resp.status != 200:
            raise RuntimeError(f"refresh: {resp.status} {body}")
        return body


async def chat_create(ws) -> str:
    await ws.send_str('{"type":"chat.create","id":"c"}')
    while True:
        frame = orjson.loads((await ws.receive()).data)
        if frame["type"] == "reply":
            return frame["data"]["id"]


async def probe_list(session: aiohttp.ClientSession, url: str, until: asyncio.Event) -> list[float]:
    """Another user's `chat.list`, again and again while the burst runs: how long a request
    queued behind it waits (the issue's no-starvation check)."""
    token = await register(session, url)
    latencies = []
    async with session.ws_connect(f"{url}/ws", headers={"Authorization": f"Bearer {token}"}) as ws:
        await ws.receive()  # hello
        while not until.is_set():
            started = time.monotonic()
            await ws.send_str('{"type":"chat.list","id":"l"}')
            while orjson.loads((await ws.receive()).data)["type"] != "reply":
                pass
            latencies.append(time.monotonic() - started)
            await asyncio.sleep(0.01)
    return latencies


def percentile(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    k = (len(ordered) - 1) * p / 100
    low, high = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (k - low)


def stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
