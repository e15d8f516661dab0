"""`run.py serve --workers N`: N server processes on one port, each a full Chatwire instance.

The supervisor (the process the operator started) checks the port, applies migrations once, then
starts N children, each `run.py serve` with `--worker K`: each binds HOST:PORT with SO_REUSEPORT
(the kernel spreads new connections over them), shares the database and Redis like any other
instance, and is instance `<INSTANCE_ID>-w<K>` (its replies, stops and orphans are its own).

SIGTERM or SIGINT is passed to every worker, which drains as one instance does (`drain`); the
supervisor exits 0 once all of them have exited cleanly. A worker that dies on its own is not
restarted: the supervisor logs it, drains the others and exits 1, so the orchestrator restarts
the whole container (a half-capacity server that looks healthy is worse than a restart).
A worker that outlives SHUTDOWN_GRACE_S by a margin is killed. The workers die with the
supervisor even if it is killed outright (Linux's parent-death signal): no orphans on the port.
"""
from __future__ import annotations

import ctypes
import logging
import os
import select
import signal
import socket
import subprocess
import sys
import time
from dataclasses import replace
from types import FrameType

from .config import ConfigError, Settings, parse_workers

log = logging.getLogger("chatwire")
KILL_MARGIN_S = 15.0  # past SHUTDOWN_GRACE_S: the drain's own socket closing, then the cleanup
PR_SET_PDEATHSIG = 1


def for_serve(settings: Settings, workers_flag: str | None = None) -> Settings:
    """The settings `run.py serve` runs with: `--workers` (if given) over WORKERS, checked
    against what several processes on one port need."""
    workers = settings.workers if workers_flag is None else parse_workers(workers_flag, "--workers")
    if workers > 1 and not settings.redis_url:
        raise ConfigError(
            f"{workers} workers need REDIS_URL: one user's sockets may land on different worker "
            f"processes, and without Redis, events, stops and presence stay in the process that "
            f"made them (a reply streamed by one worker would never reach a tab on another). "
            f"Set REDIS_URL, or run one worker")
    base = settings.metrics_port_base
    if base is not None:
        if base + workers - 1 > 65535:
            raise ConfigError(f"METRICS_PORT_BASE={base} leaves no room for {workers} workers' "
                              f"metrics ports (base .. base + {workers - 1} must be at most 65535)")
        if base <= settings.port < base + workers:
            raise ConfigError(f"METRICS_PORT_BASE={base} with {workers} worker(s) takes ports "
                              f"{base}..{base + workers - 1}, which include PORT={settings.port}")
    return replace(settings, workers=workers)


def as_worker(settings: Settings, worker: int) -> Settings:
    """A child's settings: its own instance id, and no migrations (the supervisor ran them)."""
    return replace(settings, worker=worker, instance_id=f"{settings.instance_id}-w{worker}",
                   migrate_on_start=False)


def metrics_port(settings: Settings) -> int | None:
    """Where this process also answers /metrics alone: METRICS_PORT_BASE + K - 1 for worker K."""
    if settings.metrics_port_base is None:
        return None
    return settings.metrics_port_base + max(settings.worker, 1) - 1


def die_with_parent(parent: int) -> None:
    """Have the kernel send this process SIGTERM when the supervisor dies (Linux); if it is gone
    already, go now."""
    try:
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    except (OSError, AttributeError):  # not Linux: the supervisor's own signals still reach us
        pass
    if os.getppid() != parent:
        os.kill(os.getpid(), signal.SIGTERM)


def check_port(host: str, port: int) -> None:
    """Refuse a port something already listens on. Workers bind with SO_REUSEPORT, and a second
    Chatwire started on the same port would otherwise join the first silently (the kernel would
    share connections between two servers)."""
    for family, kind, proto, _, address in socket.getaddrinfo(
            host or None, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE):
        with socket.socket(family, kind, proto) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            if family == socket.AF_INET6:
                probe.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
            probe.bind(address)


class Supervisor:
    def __init__(self, settings: Settings, command: list[str]) -> None:
        self.settings = settings
        self.command = command  # `run.py serve`, to which each worker's options are added
        self.children: dict[int, subprocess.Popen] = {}
        self.ready: dict[int, int] = {}  # worker -> pid, once it listens
        self.stopping_at: float | None = None
        self.failed = False

    def run(self) -> int:
        n = self.settings.workers
        try:
            check_port(self.settings.host, self.settings.port)
        except OSError as exc:
            print(f"error: cannot listen on {self.settings.host}:{self.settings.port}: "
                  f"{exc.strerror or exc}", file=sys.stderr)
            return 1
        if self.settings.migrate_on_start:
            from storage.migrate import apply_migrations
            applied = apply_migrations(self.settings.database_url)
            if applied:
                log.info("applied migrations: %s", ", ".join(applied))
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, self._on_signal)
        read_fd, write_fd = os.pipe()
        try:
            for k in range(1, n + 1):
                if self.stopping_at is not None:
                    break
                self.children[k] = subprocess.Popen(
                    [*self.command, "--workers", str(n), "--worker", str(k),
                     "--ready-fd", str(write_fd), "--supervisor", str(os.getpid())],
                    pass_fds=(write_fd,))
        finally:
            os.close(write_fd)
        self._watch(read_fd)
        clean = all(self._clean(k, p.returncode) for k, p in self.children.items())
        return 0 if clean and not self.failed else 1

    def _on_signal(self, signum: int, frame: FrameType | None) -> None:
        if self.stopping_at is None:
            log.info("shutting down: draining %d workers for up to %.0f s", len(self.children),
                     self.settings.shutdown_grace_s)
        self._stop(signum)

    def _stop(self, signum: int = signal.SIGTERM) -> None:
        if self.stopping_at is None:
            self.stopping_at = time.monotonic()
        for child in self.children.values():
            if child.poll() is None:
                child.send_signal(signum)

    def _clean(self, k: int, code: int | None) -> bool:
        """Exited 0; or was stopped before it listened (nothing to drain)."""
        return code == 0 or (k not in self.ready and self.stopping_at is not None
                             and code in (-signal.SIGTERM, -signal.SIGINT))

    def _watch(self, read_fd: int) -> None:
        """Until every worker has exited: note them ready, stop all if one dies, kill laggards."""
        pending = b""
        deadline = self.settings.shutdown_grace_s + KILL_MARGIN_S
        while True:
            alive = [k for k, child in self.children.items() if child.poll() is None]
            died = [k for k in self.children if k not in alive]
            if died and self.stopping_at is None:
                for k in died:
                    log.error("worker %d (pid %d) exited on its own with code %s; stopping the "
                              "others", k, self.children[k].pid, self.children[k].returncode)
                self.failed = True
                self._stop()
            if not alive:
                break
            if self.stopping_at is not None and time.monotonic() - self.stopping_at > deadline:
                for k in alive:
                    log.error("worker %d (pid %d) did not stop in %.0f s; killed", k,
                              self.children[k].pid, deadline)
                    self.children[k].kill()
                self.failed = True
            if read_fd < 0:
                time.sleep(0.1)
                continue
            readable, _, _ = select.select([read_fd], [], [], 0.1)
            if not readable:
                continue
            chunk = os.read(read_fd, 4096)
            if not chunk:  # every worker has closed its end
                os.close(read_fd)
                read_fd = -1
                continue
            pending += chunk
            *lines, pending = pending.split(b"\n")
            for line in lines:
                k, pid = (int(part) for part in line.split())
                self.ready[k] = pid
            if lines and len(self.ready) == len(self.children) == self.settings.workers:
                pids = ", ".join(str(self.ready[k]) for k in sorted(self.ready))
                print(f"Chatwire serving on http://{self.settings.host}:{self.settings.port} "
                      f"with {len(self.ready)} workers (pids {pids})", flush=True)
        if read_fd >= 0:
            os.close(read_fd)


def report_ready(fd: int, worker: int) -> None:
    """A worker tells the supervisor it listens."""
    os.write(fd, f"{worker} {os.getpid()}\n".encode())
    os.close(fd)
