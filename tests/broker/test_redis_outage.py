"""Redis goes away under a live stream and comes back: the instance keeps serving its own sockets,
then publishes and subscribes through Redis again without a restart."""
import asyncio
import shutil
import subprocess
import time
import uuid

import pytest
import redis

from providers.factory import ProviderSettings
from server.broker.redis import _channel
from server.web.state import CONTEXT
from tests import services
from tests.helpers import free_port, open_socket, register, until


class PrivateRedis:
    """A redis-server of this test's own, so stopping it disturbs nobody else."""

    def __init__(self) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            services.unavailable("redis-server", "the binary is not installed")
        self.binary = binary
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        client = redis.Redis(port=self.port)
        for _ in range(100):
            try:
                client.ping()
                return
            except redis.ConnectionError:
                subprocess.run(["sleep", "0.05"])
        raise AssertionError("private redis-server did not start")

    def stop(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait(timeout=10)
            self.process = None


@pytest.fixture
def private_redis():
    server = PrivateRedis()
    server.start()
    yield server
    server.stop()


async def frames_until(sock, predicate, timeout=10.0):
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    seen = []
    while loop.time() < deadline:
        try:
            frame = await sock._next_frame(timeout=deadline - loop.time())
        except asyncio.TimeoutError:
            break
        seen.append(frame)
        if predicate(frame):
            return seen
    raise AssertionError(f"timed out; saw {[(f.get('type'), f.get('seq')) for f in sock.frames[-8:]]}")


async def test_a_stream_survives_redis_going_away_and_the_instance_recovers(make_client,
                                                                           private_redis):
    echo = ProviderSettings(echo_tokens_per_second=25)
    a = await make_client(redis_url=private_redis.url, instance_id=f"a-{uuid.uuid4().hex[:6]}",
                          providers=echo)
    user = await register(a, f"u-{uuid.uuid4().hex[:8]}@example.com")
    sock = await open_socket(a, user, ignore=frozenset())
    await sock.ok("ping")
    chat = await sock.ok("chat.create")
    text = " ".join(f"w{i}" for i in range(40))
    sent = await sock.ok("message.send", chat_id=chat["id"], content=text)
    reply_id = sent["assistant_message"]["id"]
    await frames_until(sock, lambda f: f.get("type") == "message.delta"
                       and f["message_id"] == reply_id)

    private_redis.stop()  # mid-stream
    frames = await frames_until(sock, lambda f: f.get("type") == "message.done"
                                and f["message_id"] == reply_id)
    frames = sock.frames
    deltas = "".join(f["delta"] for f in frames if f.get("type") == "message.delta")
    assert deltas == text  # every delta still reached the socket on this instance
    seqs = [f["seq"] for f in frames if "seq" in f]
    assert seqs == sorted(seqs) and len(seqs) == len(set(seqs))
    during = await sock.ok("chat.create", title="made while Redis was away")
    assert during["title"] == "made while Redis was away"
    ready = await a.get("/readyz")
    assert ready.status == 503 and (await ready.json())["checks"]["broker"] is False

    private_redis.start()  # back, and empty (no persistence)
    with redis.Redis(port=private_redis.port) as probe:  # A's subscriber reconnects by itself
        await until(lambda: probe.pubsub_numsub(_channel(user["user"]["id"]))[0][1] >= 1,
                    timeout=10, interval=0.05, what="A to subscribe to the user's channel again")
    # and its publisher, which delivered on this instance only, tries Redis again once its retry
    # time (a second after the last failed publish) has come
    broker = a.server.app[CONTEXT].services.broker
    await until(lambda: time.monotonic() >= broker.events._retry_at, timeout=10, interval=0.05,
                what="A's publisher to try Redis again")
    b = await make_client(redis_url=private_redis.url, instance_id=f"b-{uuid.uuid4().hex[:6]}")
    on_b = await open_socket(b, user, ignore=frozenset())
    await on_b.ok("ping")
    before = max(f["seq"] for f in sock.frames if "seq" in f)
    made = await sock.ok("chat.create", title="after the outage")
    event_b = (await frames_until(on_b, lambda f: f.get("type") == "chat.created"
                                  and f["chat_id"] == made["id"]))[-1]  # through Redis to B
    def made_here(f):
        return f.get("type") == "chat.created" and f["chat_id"] == made["id"]
    event_a = next((f for f in sock.frames if made_here(f)), None) or (
        await frames_until(sock, made_here))[-1]  # and A subscribed again by itself
    assert event_a["seq"] == event_b["seq"] > before  # never backwards, though Redis lost them
    assert (await a.get("/readyz")).status == 200


async def test_a_socket_that_joined_while_redis_was_away_hears_other_instances_once_it_is_back(
        make_client, private_redis):
    a = await make_client(redis_url=private_redis.url, instance_id=f"a-{uuid.uuid4().hex[:6]}")
    user = await register(a, f"u-{uuid.uuid4().hex[:8]}@example.com")
    private_redis.stop()
    sock = await open_socket(a, user, ignore=frozenset())  # its channel's SUBSCRIBE fails
    await sock.ok("ping")
    private_redis.start()
    with redis.Redis(port=private_redis.port) as probe:
        await until(lambda: probe.pubsub_numsub(_channel(user["user"]["id"]))[0][1] >= 1,
                    timeout=10, interval=0.05, what="A to subscribe the channel it could not")
    b = await make_client(redis_url=private_redis.url, instance_id=f"b-{uuid.uuid4().hex[:6]}")
    on_b = await open_socket(b, user)
    made = await on_b.ok("chat.create", title="made on B")
    await frames_until(sock, lambda f: f.get("type") == "chat.created" and f["chat_id"] == made["id"])
