"""`run.py serve --workers N`: N processes on one port, one user's sockets on different workers
still see each other's events, SIGTERM drains them all; bad numbers are refused before anything
starts."""
import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import aiohttp
import pytest

from protocol import decode
from server.config import ConfigError, load_settings, parse_workers
from server.supervisor import for_serve
from tests.helpers import PASSWORD, call, free_port, start_server, until, until_closed

ROOT = Path(__file__).resolve().parent.parent.parent


def free_ports(n):
    """A first port such that it and the n - 1 after it are free."""
    while True:
        base = free_port()
        try:
            for p in range(base, base + n):
                with socket.socket() as s:
                    s.bind(("127.0.0.1", p))
            return base
        except OSError:
            continue


def serve(args, tmp_path, **env):
    """`run.py serve ARGS` to its end (a refusal ends it at once)."""
    full = {**os.environ, "VAR_DIR": str(tmp_path / "var"), "PORT": str(free_port()), **env}
    for name in ("DATABASE_URL", "REDIS_URL", "WORKERS"):
        if name not in env:
            full.pop(name, None)
    return subprocess.run([sys.executable, str(ROOT / "run.py"), "serve", *args], cwd=tmp_path,
                          env=full, capture_output=True, text=True, timeout=30)


def cores():
    return len(os.sched_getaffinity(0))


@pytest.mark.parametrize("args, env, message", [
    (["--workers", "0"], {}, "--workers must be at least 1"),
    (["--workers", "-2"], {}, "--workers must be at least 1"),
    (["--workers", "abc"], {}, "--workers must be a whole number of server processes"),
    (["--workers", "1.5"], {}, "--workers must be a whole number of server processes"),
    (["--workers", str(4 * cores() + 1)], {},
     f"--workers {4 * cores() + 1} is more than 4 x the {cores()} CPU core(s) here"),
    ([], {"WORKERS": "many"}, "WORKERS must be a whole number of server processes"),
    ([], {"WORKERS": "0"}, "WORKERS must be at least 1"),
    (["--workers", "2"], {}, "2 workers need REDIS_URL: one user's sockets may land on different "
                             "worker processes"),
    ([], {"WORKERS": "auto" if cores() > 1 else "2"}, f"{max(cores(), 2)} workers need REDIS_URL"),
    (["--workers", "2"], {"REDIS_URL": "redis://127.0.0.1:6379/0", "PORT": "9001",
                          "METRICS_PORT_BASE": "9000"}, "include PORT=9001"),
    ([], {"METRICS_PORT_BASE": "70000"}, "METRICS_PORT_BASE must be a TCP port"),
])
def test_bad_worker_counts_are_refused_before_anything_starts(args, env, message, tmp_path):
    result = serve(args, tmp_path, **env)
    assert result.returncode == 2, result.stderr
    assert result.stderr.startswith("configuration error: ") and message in result.stderr
    assert "Chatwire serving" not in result.stdout
    assert not (tmp_path / "var" / "chatwire.db").exists()  # not even migrated


def test_the_flag_wins_over_workers_and_auto_is_one_per_core(tmp_path):
    settings = load_settings({"VAR_DIR": str(tmp_path), "WORKERS": "3",
                              "REDIS_URL": "redis://x:6379/0"}, env_file=None)
    assert settings.workers == 3
    assert for_serve(settings, "2").workers == 2
    assert for_serve(settings).workers == 3
    assert parse_workers("auto", cores=3) == 3 and parse_workers(None) == 1
    assert parse_workers("12", cores=3) == 12
    with pytest.raises(ConfigError, match="at most 12"):
        parse_workers("13", cores=3)


def test_a_port_already_taken_is_refused(redis_url, tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = serve(["--workers", "2"], tmp_path, REDIS_URL=redis_url, PORT=str(port))
    assert result.returncode == 1
    assert f"cannot listen on 127.0.0.1:{port}" in result.stderr


def children_of(pid):
    found = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.add(int(entry.name))
    return found


def gone(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


async def started(proc):
    """The supervisor's line once every worker listens; the workers' pids."""
    line = await asyncio.wait_for(asyncio.to_thread(proc.stdout.readline), 60)
    assert "with 2 workers" in line, line
    return {int(p) for p in line.split("(pids ")[1].rstrip(")\n").split(", ")}


async def next_event(ws, kind, **match):
    while True:
        frame = decode((await ws.receive(timeout=15)).data)
        if frame.get("type") == kind and all(frame.get(k) == v for k, v in match.items()):
            return frame


async def sockets_on_two_workers(session, base, headers):
    """Sockets of one user, opened until two sit on different workers (the kernel spreads new
    connections over them); which is which, by presence (each device names its instance)."""
    opened = []
    for attempt in range(24):
        ws = await session.ws_connect(f"{base}/ws", headers=headers)
        hello = decode((await ws.receive(timeout=10)).data)
        opened.append((hello["connection_id"], ws))
        devices = (await call(ws, "presence.get", f"p{attempt}"))["devices"]
        instance = {d["connection_id"]: d["instance"] for d in devices}
        placed = {}
        for conn_id, sock in opened:
            placed.setdefault(instance.get(conn_id), sock)
        if {"wtest-w1", "wtest-w2"} <= set(placed):
            keep = [placed["wtest-w1"], placed["wtest-w2"]]
            for _, sock in opened:
                if sock not in keep:
                    await sock.close()
            return keep
    raise AssertionError("24 sockets all landed on one worker")


async def test_two_workers_serve_one_port_share_events_and_drain_on_sigterm(
        database_url, redis_url, tmp_path):
    port, metrics_base = free_port(), free_ports(2)
    base = f"http://127.0.0.1:{port}"
    proc = start_server(database_url, tmp_path, port, args=("--workers", "2"),
                        stdout=subprocess.PIPE, REDIS_URL=redis_url, INSTANCE_ID="wtest",
                        METRICS_PORT_BASE=str(metrics_base), SHUTDOWN_GRACE_S="5")
    pids = set()
    try:
        pids = await started(proc)
        assert len(pids) == 2 and children_of(proc.pid) == pids
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(force_close=True)) as session:
            async def both_answered(seen=set()):
                async with session.get(f"{base}/healthz") as resp:
                    seen.add((await resp.json())["worker"])
                return seen == {1, 2}
            await until(both_answered, 10, what="both workers to answer /healthz")
            for k in (1, 2):  # each worker's own metrics port
                async with session.get(f"http://127.0.0.1:{metrics_base + k - 1}/metrics") as resp:
                    assert resp.status == 200 and "chatwire_open_sockets" in await resp.text()

            async with session.post(f"{base}/api/v1/auth/register",
                                    json={"email": "two@example.com", "password": PASSWORD}) as resp:
                assert resp.status == 201
                headers = {"Authorization": f"Bearer {(await resp.json())['access_token']}"}
            on_w1, on_w2 = await sockets_on_two_workers(session, base, headers)
            chat = await call(on_w1, "chat.create", "c", title="Across workers")
            assert (await next_event(on_w2, "chat.created"))["chat"]["id"] == chat["id"]
            sent = await call(on_w2, "message.send", "s", chat_id=chat["id"], content="hi there")
            reply_id = sent["assistant_message"]["id"]
            await next_event(on_w1, "message.delta", message_id=reply_id)
            done = await next_event(on_w1, "message.done", message_id=reply_id)
            assert done["message_id"] == reply_id

            proc.send_signal(signal.SIGTERM)
            for ws in (on_w1, on_w2):
                assert (await until_closed(ws, timeout=20))[1] == 1001
        assert await asyncio.to_thread(proc.wait, 30) == 0
        assert all(gone(pid) for pid in pids)
    finally:
        end(proc, pids)


def end(proc, pids):
    """Nothing left behind, whatever failed: the supervisor, its workers, its pipes."""
    if proc.poll() is None:
        proc.kill()
        proc.wait()
    for pid in pids:
        if not gone(pid):
            os.kill(pid, signal.SIGKILL)
    for pipe in (proc.stdout, proc.stderr):
        if pipe is not None:
            pipe.close()


async def test_a_worker_that_dies_stops_the_rest_with_a_failure(redis_url, tmp_path):
    port = free_port()
    proc = start_server(f"sqlite:///{tmp_path / 'chatwire.db'}", tmp_path, port,
                        args=("--workers", "2"), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                        REDIS_URL=redis_url)
    pids = set()
    try:
        pids = await started(proc)
        victim, survivor = sorted(pids)
        os.kill(victim, signal.SIGKILL)
        assert await asyncio.to_thread(proc.wait, 30) == 1
        assert gone(survivor)
        lines = [json.loads(line) for line in proc.stderr.read().splitlines() if line.startswith("{")]
        assert {"worker 1 of 2 serving on 127.0.0.1:%d" % port, "worker 2 of 2 serving on "
                "127.0.0.1:%d" % port} <= {line["message"] for line in lines if "worker" in line}
        assert any(f"(pid {victim}) exited on its own with code -9; stopping the others"
                   in line["message"] and "worker" not in line for line in lines)  # the supervisor
    finally:
        end(proc, pids)


async def test_a_worker_starting_beside_a_streaming_one_leaves_its_reply_alone(
        make_client, redis_url):
    """Workers start at their own pace: a late one must not take the first one's reply in flight
    for an orphan (on SQLite one process would be the only instance; with workers it is not)."""
    from providers.factory import ProviderSettings
    from tests.helpers import open_socket, register

    slow = ProviderSettings(echo_tokens_per_second=20)
    first = await make_client(redis_url=redis_url, workers=2, worker=1, instance_id="late-w1",
                              providers=slow)
    ann = await register(first, "ann@example.com")
    sock = await open_socket(first, ann)
    chat = await sock.ok("chat.create")
    sent = await sock.ok("message.send", chat_id=chat["id"], content=" ".join(["w"] * 20))
    await sock.event("message.delta")
    await make_client(redis_url=redis_url, workers=2, worker=2, instance_id="late-w2",
                      providers=slow)
    done = await sock.event("message.done")
    assert done["message_id"] == sent["assistant_message"]["id"]
    history = await sock.ok("message.list", chat_id=chat["id"])
    assert history["messages"][-1]["status"] == "complete"
