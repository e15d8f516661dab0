"""Which event loop the server runs on: uvloop when it is installed, asyncio's own on request.

uvloop (libuv underneath) takes less CPU per socket event than asyncio's selector loop — the send
path is mostly small socket reads and writes (docs/BENCHMARKS.md, issue 26). `EVENT_LOOP=asyncio`
opts out, e.g. to compare or to debug with asyncio's own tooling.
"""
from __future__ import annotations

import asyncio
import logging
from typing import Any, Coroutine, TypeVar

T = TypeVar("T")
log = logging.getLogger("chatwire")


def run(main: Coroutine[Any, Any, T], choice: str = "uvloop") -> T:
    """Run `main` to completion on the chosen loop (as `asyncio.run` does)."""
    if choice == "uvloop":
        try:
            import uvloop
        except ImportError:
            log.warning("EVENT_LOOP=uvloop but uvloop is not installed: running on asyncio's loop")
        else:
            return uvloop.run(main)
    return asyncio.run(main)


def running() -> str:
    """The running loop's kind, as /healthz and the start-up line report it."""
    return "uvloop" if type(asyncio.get_running_loop()).__module__.startswith("uvloop") else "asyncio"
