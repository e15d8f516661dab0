"""Uploaded files inspected in a process of their own, with a hard time and memory limit.

A 3 KB PDF whose pages draw one compressed stream of 250,000 operators cost ~2.5 s of CPU a page,
and a 48 KB .docx of a million empty paragraphs 9.6 s and +330 MB; parsed in the server's thread
pool they also kept log-ins (whose password hashing shares that pool) waiting for seconds. Here
each file is inspected by a short-lived child process (forked from a server that has the parsers
already imported), under an address-space limit, and killed when it outlives its time: the
upload then answers `unsupported_file_type` with the reason. At most `workers` parse at once;
the threads that wait for them are their own, never the pool that hashes passwords.
"""
from __future__ import annotations

import asyncio
import multiprocessing
import resource
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from protocol import errors

from .filetypes import Inspected, inspect

PRELOADED = ["server.domain.filetypes", "pypdf", "docx", "PIL.Image"]


@dataclass(frozen=True)
class ParseLimits:
    time_s: float = 10.0
    memory_mb: int = 512
    workers: int = 2


def _address_space() -> int:
    """This process's address space now, in bytes (what it mapped before parsing anything)."""
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[0]) * resource.getpagesize()


def _child(conn: Any, path: str, name: str, max_image_pixels: int, memory_bytes: int) -> None:
    """In the child: limit how much more address space it may map (on top of the interpreter
    and the parsers it started with, whatever the allocator reserved for them), inspect, and
    send back the outcome (picklable)."""
    try:
        ceiling = _address_space() + memory_bytes
        resource.setrlimit(resource.RLIMIT_AS, (ceiling, ceiling))
        conn.send(("ok", inspect(Path(path), name, max_image_pixels=max_image_pixels)))
    except errors.ChatwireError as exc:
        conn.send(("error", type(exc).__name__, exc.message, exc.details))
    except MemoryError:
        conn.send(("error", "UnsupportedFileType", "the file needs too much memory to read", {}))
    except BaseException:  # noqa: BLE001 - a parser's own failure: the file is not readable
        conn.send(("error", "UnsupportedFileType", "the file could not be read", {}))
    finally:
        conn.close()


class Parser:
    def __init__(self, limits: ParseLimits) -> None:
        self.limits = limits
        self._context = multiprocessing.get_context("forkserver")
        self._context.set_forkserver_preload(PRELOADED)
        self._waiters = ThreadPoolExecutor(max_workers=limits.workers,
                                           thread_name_prefix="chatwire-parse")
        self._slots = asyncio.Semaphore(limits.workers)

    async def inspect(self, path: Path, name: str, *, max_image_pixels: int) -> Inspected:
        async with self._slots:
            loop = asyncio.get_running_loop()
            outcome = await loop.run_in_executor(self._waiters, self._run, path, name,
                                                 max_image_pixels)
        if outcome[0] == "ok":
            return outcome[1]
        _, kind, message, details = outcome
        error_class = getattr(errors, kind, errors.UnsupportedFileType)
        raise error_class(message, **details)

    def _run(self, path: Path, name: str, max_image_pixels: int) -> tuple[Any, ...]:
        receiving, sending = self._context.Pipe(duplex=False)
        child = self._context.Process(
            target=_child, daemon=True,
            args=(sending, str(path), name, max_image_pixels, self.limits.memory_mb * 1024 * 1024))
        child.start()
        sending.close()
        try:
            if receiving.poll(self.limits.time_s):
                try:
                    return receiving.recv()
                except EOFError:  # died without a word: killed by the memory limit, say
                    return ("error", "UnsupportedFileType",
                            "the file needs too much memory to read", {})
            return ("error", "UnsupportedFileType",
                    f"the file takes too long to read (over {self.limits.time_s:g} s)", {})
        finally:
            receiving.close()
            if child.is_alive():
                child.kill()
            child.join()

    def close(self) -> None:
        self._waiters.shutdown(wait=False, cancel_futures=True)
