"""Each broker role, in both engines, is what the domain asks for: one definition of each
interface (the domain's protocols), and the engines checked against it."""
from __future__ import annotations

import pytest

from server.broker import EventLog, make_broker
from server.domain.events import EventSink
from server.domain.generation import StopSignals
from server.domain.limits import Counter
from server.domain.presence import DeviceRegistry
from server.domain.streams import ReplySlots
from tests.helpers import until


@pytest.mark.parametrize("engine", ["in-process", "redis"])
def test_both_engines_play_every_role(engine):
    url = "redis://127.0.0.1:1/0" if engine == "redis" else None  # built, never connected
    broker = make_broker(url, "i-1", on_stop=lambda message_id: None)
    assert isinstance(broker.events, EventLog) and isinstance(broker.events, EventSink)
    assert isinstance(broker.presence, DeviceRegistry)
    assert isinstance(broker.counters, Counter)
    assert isinstance(broker.stops, StopSignals)
    assert isinstance(broker.slots, ReplySlots)
    assert (broker.redis is None) == (engine == "in-process")


async def test_a_stop_request_reaches_this_instance_in_process():
    stopped = []
    broker = make_broker(None, "i-1", on_stop=stopped.append)
    await broker.start()
    await broker.stops.signal_stop("i-1", "m-1")
    await broker.stop()
    assert stopped == ["m-1"]


async def test_a_stop_request_crosses_instances_through_redis(redis_url):
    stopped_on_b = []
    a = make_broker(redis_url, "instance-a", on_stop=lambda message_id: None)
    b = make_broker(redis_url, "instance-b", on_stop=stopped_on_b.append)
    await a.start()
    await b.start()
    try:
        assert a.events.epoch == b.events.epoch  # one history for every instance
        await a.stops.signal_stop("instance-b", "m-7")
        await until(lambda: stopped_on_b, timeout=5, what="B to hear the stop")
        assert stopped_on_b == ["m-7"]
    finally:
        await a.stop()
        await b.stop()
