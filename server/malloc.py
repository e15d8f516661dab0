"""Give the C heap's free pages back to the system now and then.

A soak run showed why (docs/BENCHMARKS.md, Soak): under steady load the memory glibc's malloc has
in use stays flat, yet its heap keeps growing with free space between live chunks — sockets,
database buffers and JSON buffers come and go in many sizes, and the heap only shrinks from its
top. `malloc_trim(0)` also releases the free pages inside it. It takes a few milliseconds on a
heap of tens of megabytes and runs in a thread, so the event loop barely notices. Where there is
no glibc (musl, macOS) there is nothing to call and this does nothing.
"""
from __future__ import annotations

import asyncio
import ctypes
import logging
from collections.abc import Callable

log = logging.getLogger("chatwire.memory")


def glibc_trim() -> Callable[[int], int] | None:
    try:
        trim = ctypes.CDLL("libc.so.6").malloc_trim
    except (OSError, AttributeError):
        return None
    trim.argtypes = [ctypes.c_size_t]
    trim.restype = ctypes.c_int
    return trim


async def trim_periodically(every_s: float) -> None:
    trim = glibc_trim()
    if trim is None:
        log.info("no glibc malloc_trim here: the heap is left to the allocator")
        return
    loop = asyncio.get_running_loop()
    while True:
        await asyncio.sleep(every_s)
        await loop.run_in_executor(None, trim, 0)
