"""The server hands the C heap's free pages back to the system (see server/malloc.py)."""
import asyncio
import sys
from pathlib import Path

import pytest

from server.malloc import glibc_trim, trim_periodically
from tests.helpers import until

pytestmark = pytest.mark.skipif(sys.platform != "linux" or glibc_trim() is None,
                                reason="malloc_trim is glibc's; elsewhere the task does nothing")


def resident_bytes() -> int:
    return int(Path("/proc/self/statm").read_text().split()[1]) * 4096


def fragmented_heap() -> list:
    """~130 MB of malloc'd chunks (over pymalloc's 512 bytes), nine in ten freed: runs of free
    space between live chunks, which the heap cannot give back from its top."""
    chunks = [bytearray(600 + (i % 50) * 80) for i in range(50_000)]
    for i in range(len(chunks)):
        if i % 10:
            chunks[i] = None
    return chunks


async def test_free_space_inside_the_heap_goes_back_to_the_system():
    kept = fragmented_heap()
    before = resident_bytes()
    trimmer = asyncio.create_task(trim_periodically(0.05))
    try:
        await until(lambda: before - resident_bytes() > 20 * 2**20, interval=0.05,
                    what="20 MB to go back to the system")
    finally:
        trimmer.cancel()
    released = before - resident_bytes()
    assert released > 20 * 2**20, f"only {released >> 20} MB went back"
    assert len(kept) == 50_000  # what is still in use stays


async def test_without_the_trim_the_same_heap_keeps_its_pages():
    """The control: the allocator alone does not release this memory, so the test above measures
    the trim and not an accident of the heap."""
    kept = fragmented_heap()
    before = resident_bytes()
    await asyncio.sleep(0.5)  # time passing is the point: ten trims' worth, with none running
    assert before - resident_bytes() < 5 * 2**20
    assert len(kept) == 50_000
