"""Streamed text coalesced into deltas (server/domain/deltas.py): the first at once, then at most
one per window, in order, nothing lost and nothing empty."""
import asyncio

from prometheus_client import REGISTRY

from server.domain.deltas import DeltaCoalescer
from tests.helpers import until

WINDOW = 0.05


def coalescer(window=WINDOW, model="unit-test"):
    sent = []
    loop = asyncio.get_running_loop()

    def emit(kind, fields):
        sent.append({"kind": kind, "at": loop.time(), **fields})

    deltas = DeltaCoalescer(emit, chat_id="c1", message_id="m1", model_id=model, window_s=window)
    return deltas, sent


def texts(sent):
    return [s["delta"] for s in sent]


async def test_the_first_delta_goes_out_at_once():
    deltas, sent = coalescer()
    deltas.push("Hel")
    assert sent == [{"kind": "message.delta", "at": sent[0]["at"], "chat_id": "c1",
                     "message_id": "m1", "index": 0, "delta": "Hel"}]
    assert deltas.timer is None


async def test_pushes_within_the_window_go_out_as_one_delta_when_its_timer_fires():
    deltas, sent = coalescer()
    deltas.push("a")
    deltas.push("b")
    deltas.push("c")
    assert texts(sent) == ["a"]  # b and c wait for the window
    await until(lambda: len(sent) == 2, timeout=2)
    assert texts(sent) == ["a", "bc"]
    assert sent[1]["at"] - sent[0]["at"] >= WINDOW - 0.005  # the timer's, not the next push's
    assert deltas.timer is None and deltas.buffer == []


async def test_a_push_after_the_window_went_by_goes_out_at_once():
    deltas, sent = coalescer()
    deltas.push("a")
    deltas.push("b")
    await until(lambda: len(sent) == 2, timeout=2)
    loop = asyncio.get_running_loop()
    await until(lambda: loop.time() - sent[-1]["at"] >= WINDOW, timeout=2)
    deltas.push("c")
    assert texts(sent) == ["a", "b", "c"]


async def test_indices_count_up_by_one_and_the_text_arrives_whole_and_in_order():
    deltas, sent = coalescer(window=0.01)
    pieces = [f"p{i} " for i in range(40)]
    for burst in range(0, len(pieces), 5):  # a provider sending five tokens at a time
        for piece in pieces[burst:burst + 5]:
            deltas.push(piece)
        await until(lambda: not deltas.buffer, timeout=2)  # the window's timer sent them
    assert [s["index"] for s in sent] == list(range(len(sent)))
    assert "".join(texts(sent)) == "".join(pieces)
    assert all(texts(sent))
    assert 8 <= len(sent) <= 16  # one or two deltas a burst: the first at once, the rest later


async def test_flush_sends_what_is_buffered_now_and_the_timer_then_sends_nothing():
    deltas, sent = coalescer()
    deltas.push("a")
    deltas.push("b")
    assert deltas.timer is not None
    deltas.flush()
    assert texts(sent) == ["a", "b"] and [s["index"] for s in sent] == [0, 1]
    assert deltas.timer is None
    await asyncio.sleep(3 * WINDOW)  # time passing is the point: the cancelled timer stays silent
    assert len(sent) == 2


async def test_cancel_timer_keeps_the_buffered_text_from_going_out_later():
    deltas, sent = coalescer()
    deltas.push("a")
    deltas.push("b")
    deltas.cancel_timer()
    await asyncio.sleep(3 * WINDOW)  # time passing is the point: nothing may be sent meanwhile
    assert texts(sent) == ["a"]
    assert deltas.buffer == ["b"]  # kept: a final flush still sends it
    deltas.flush()
    assert texts(sent) == ["a", "b"]


async def test_nothing_is_emitted_when_nothing_is_buffered():
    deltas, sent = coalescer()
    deltas.flush()
    assert sent == [] and deltas.index == 0
    deltas.push("a")
    deltas.flush()
    deltas.flush()
    deltas.cancel_timer()
    assert texts(sent) == ["a"] and deltas.index == 1


async def test_with_no_window_every_push_is_its_own_delta():
    deltas, sent = coalescer(window=0)
    for piece in "abc":
        deltas.push(piece)
    assert texts(sent) == ["a", "b", "c"] and deltas.timer is None


async def test_chunks_are_counted_as_pushed_not_as_sent():
    def counted():
        return REGISTRY.get_sample_value("chatwire_streamed_chunks_total",
                                         {"model": "counting-test"}) or 0
    before = counted()
    deltas, sent = coalescer(model="counting-test")
    for piece in "abcde":
        deltas.push(piece)
    deltas.flush()
    assert len(sent) == 2 and counted() - before == 5
