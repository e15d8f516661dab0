"""A reply's task and the announcement of its turn (server/domain/runner.py)."""
from __future__ import annotations

import asyncio

import pytest

from providers.registry import Model
from server.domain.runner import _announced
from server.domain.streams import Job


def job() -> Job:
    model = Model(id="echo", provider="echo", upstream="echo", input_price=0, output_price=0,
                  context_window=1000, max_output_tokens=100)
    return Job("u", "c", "m", model)


async def test_a_stop_landing_before_the_turn_is_announced_does_not_strand_the_reply():
    # Before its final write the reply waits for its turn's events; a stop (a cancellation)
    # arriving then must not end the task there, or the row would stay `streaming`, credits held.
    j = job()
    final_wait = asyncio.create_task(_announced(j, through_cancel=True))
    await asyncio.sleep(0)  # one turn of the loop: the task starts waiting
    final_wait.cancel()
    await asyncio.sleep(0.01)  # time passing is the point: the task would have ended by now
    assert not final_wait.done()
    j.announced.set()
    await asyncio.wait_for(final_wait, 1)
    assert not final_wait.cancelled()


async def test_a_stop_before_the_first_token_is_announced_still_stops_the_stream():
    j = job()
    first_token_wait = asyncio.create_task(_announced(j))
    await asyncio.sleep(0)  # one turn of the loop: the task starts waiting
    first_token_wait.cancel()
    with pytest.raises(asyncio.CancelledError):
        await first_token_wait
