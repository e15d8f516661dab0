"""Events in Redis: several instances behind a load balancer, one event order per user.

One Lua script per event: `INCR` the user's seq, `XADD` the event to the user's stream (the resume
history: capped in count and in bytes, oldest first, expiring), `PUBLISH` it. Redis runs scripts one at a time, so every
instance sees a user's events in the order they are numbered. Each instance subscribes to the
channels of the users it has sockets for.

Every publish of this process goes through one FIFO drained by one task, which sends whatever has
queued up as one pipeline: events keep their order, and a burst of deltas costs one round trip.
The script is called by its SHA (`EVALSHA`), loaded again only when Redis answers that it does
not have it: redis-py's own script objects ask `SCRIPT EXISTS` before every pipeline that holds
one, a second round trip for every batch (~1.8 ms of CPU a reply with events one at a time).

When Redis is unreachable the instance keeps serving: events are numbered locally and delivered
to its own sockets (other instances and the resume history miss them; clients see a gap and
resync), and Redis is retried every second. Each publish carries the latest seq this instance has
seen for the user, and the script never numbers below it: after an outage, or a Redis that
restarted empty, a user's seq still only goes up.
"""
from __future__ import annotations

import asyncio
import logging
import secrets
import time
from typing import Any

import orjson
from redis.exceptions import NoScriptError

from protocol import dumps

from .base import NO_SEQ, Backlog, EventLog, Subscriber, every, stop_tasks
from .keys import EPOCH
from .keys import channel as _channel
from .keys import seq_key as _seq_key
from .keys import stream as _stream
from .keys import stream_bytes as _stream_bytes

log = logging.getLogger("chatwire.broker")

_PUBLISH = """
local seq = redis.call('INCR', KEYS[1])
if seq <= tonumber(ARGV[4]) then
  seq = tonumber(ARGV[4]) + 1
  redis.call('SET', KEYS[1], seq)
end
redis.call('XADD', KEYS[3], seq .. '-0', 'p', ARGV[1])
local bytes = redis.call('INCRBY', KEYS[4], string.len(ARGV[1]))
local count = redis.call('XLEN', KEYS[3])
while count > tonumber(ARGV[2]) or (bytes > tonumber(ARGV[5]) and count > 1) do
  local oldest = redis.call('XRANGE', KEYS[3], '-', '+', 'COUNT', 1)[1]
  redis.call('XDEL', KEYS[3], oldest[1])
  bytes = redis.call('DECRBY', KEYS[4], string.len(oldest[2][2]))
  count = count - 1
end
redis.call('PEXPIRE', KEYS[3], ARGV[3])
redis.call('PEXPIRE', KEYS[4], ARGV[3])
redis.call('PUBLISH', KEYS[2], 'e' .. seq .. ' ' .. ARGV[1])
return seq
"""
RETRY_S = 1.0

Outgoing = tuple[str, str, dict[str, Any], bytes, "asyncio.Future[int] | None"]


class RedisEvents(EventLog):
    def __init__(self, redis: Any, *, history: int = 1000, history_bytes: int = 256 * 1024,
                 history_ttl_s: float = 3600.0) -> None:
        super().__init__(history, history_bytes)
        self._redis = redis
        self.history_ttl_ms = int(history_ttl_s * 1000)
        self._pubsub: Any = None
        self._tasks: list[asyncio.Task[None]] = []
        self._script: Any = None
        self._outbox: list[Outgoing] = []
        self._wake = asyncio.Event()
        self._channels = asyncio.Event()  # set when there is a channel to read or to subscribe
        self._deferred: set[str] = set()  # channels whose SUBSCRIBE failed (Redis away): retried
        self._last_seq: dict[str, int] = {}  # the latest seq seen per user: the floor of the next
        self._retry_at = 0.0  # while Redis is away: when to try it again

    async def start(self) -> None:
        self.epoch = await self._claim_epoch(secrets.token_hex(8))
        self._script = self._redis.register_script(_PUBLISH)
        self._pubsub = self._redis.pubsub(ignore_subscribe_messages=True)
        self._tasks = [asyncio.create_task(self._read(), name="redis-events-reader"),
                       asyncio.create_task(self._write(), name="redis-events-writer"),
                       asyncio.create_task(every(10.0, self._keep_epoch, None),
                                           name="redis-events-epoch")]

    async def _claim_epoch(self, candidate: str) -> str:
        """One history for every instance: the first instance names it, the others read it."""
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.set(EPOCH, candidate, nx=True)
            pipe.get(EPOCH)
            _, named = await pipe.execute()
        return named.decode() if named is not None else candidate

    async def _keep_epoch(self) -> None:
        """Write the epoch back should Redis lose it (restarted empty, evicted): seqs still only
        go up (each publish carries its floor), so the history goes on, and an instance starting
        then must read the same name rather than invent another. Every 10 s; while Redis is away
        the publisher and reader log that."""
        await self._redis.set(EPOCH, self.epoch, nx=True)

    async def stop(self) -> None:
        await stop_tasks(self._tasks)
        if self._pubsub is not None:
            await self._pubsub.aclose()

    async def subscribe(self, sub: Subscriber) -> None:
        first = sub.user_id not in self._local
        await super().subscribe(sub)
        if first:
            try:
                await self._pubsub.subscribe(_channel(sub.user_id))
            except Exception:  # Redis is away: the reader subscribes it once Redis is back
                log.warning("redis broker: subscribing %s deferred until Redis is back", sub.user_id)
                self._deferred.add(_channel(sub.user_id))
            self._channels.set()

    async def unsubscribe(self, sub: Subscriber) -> None:
        await super().unsubscribe(sub)
        if sub.user_id not in self._local and self._pubsub is not None:
            self._deferred.discard(_channel(sub.user_id))
            try:
                await self._pubsub.unsubscribe(_channel(sub.user_id))
            except Exception:
                log.warning("redis broker: unsubscribing %s failed (Redis away)", sub.user_id)

    # -- publishing --

    async def publish(self, user_id: str, kind: str, fields: dict[str, Any]) -> int:
        done: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        self._outbox.append((user_id, kind, fields, dumps([kind, fields]), done))
        self._wake.set()
        return await done

    def publish_nowait(self, user_id: str, kind: str, fields: dict[str, Any]) -> None:
        self._outbox.append((user_id, kind, fields, dumps([kind, fields]), None))
        self._wake.set()

    async def notify(self, user_id: str, kind: str, fields: dict[str, Any]) -> None:
        payload = dumps([kind, fields])
        try:
            await self._redis.publish(_channel(user_id), b"x" + payload)
        except Exception:  # Redis is away: this instance's sockets still hear it
            self._deliver_local(user_id, NO_SEQ, self._notice(kind, fields))

    async def _write(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            batch, self._outbox = self._outbox, []
            if not batch:
                continue
            seqs = await self._send(batch) if time.monotonic() >= self._retry_at else None
            if seqs is None:
                seqs = self._number_locally(batch)
            for (user_id, _, _, _, done), seq in zip(batch, seqs, strict=True):
                self._last_seq[user_id] = max(seq, self._last_seq.get(user_id, 0))
                if done is not None and not done.done():
                    done.set_result(seq)

    async def _publish_all(self, batch: list[Outgoing]) -> list[Any]:
        """One pipeline of the script's calls; each answer a seq or the error Redis gave."""
        async with self._redis.pipeline(transaction=False) as pipe:
            for user_id, _, _, payload, _ in batch:
                pipe.evalsha(self._script.sha, 4, _seq_key(user_id), _channel(user_id),
                             _stream(user_id), _stream_bytes(user_id), payload, self.history,
                             self.history_ttl_ms, self._last_seq.get(user_id, 0),
                             self.history_bytes)
            return await pipe.execute(raise_on_error=False)

    async def _send(self, batch: list[Outgoing]) -> list[int] | None:
        try:
            results = await self._publish_all(batch)
            missed = [i for i, r in enumerate(results) if isinstance(r, NoScriptError)]
            if missed:  # Redis restarted or flushed its scripts: those calls did nothing
                await self._redis.script_load(_PUBLISH)
                again = await self._publish_all([batch[i] for i in missed])
                for i, result in zip(missed, again, strict=True):
                    results[i] = result
            failed = next((r for r in results if isinstance(r, Exception)), None)
            if failed is not None:
                raise failed
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            if self._retry_at == 0.0:
                log.error("redis broker: Redis is unreachable (%s); delivering on this instance "
                          "only and retrying every %.0f s", exc, RETRY_S)
            self._retry_at = time.monotonic() + RETRY_S
            return None
        if self._retry_at:
            log.warning("redis broker: Redis is back; publishing through it again")
        self._retry_at = 0.0
        return [int(seq) for seq in results]

    def _number_locally(self, batch: list[Outgoing]) -> list[int]:
        seqs = []
        for user_id, kind, fields, _, _ in batch:
            seq = self._last_seq.get(user_id, 0) + 1
            self._last_seq[user_id] = seq
            self._deliver_local(user_id, seq, self._frame(seq, kind, fields))
            seqs.append(seq)
        return seqs

    # -- reading back --

    async def current_seq(self, user_id: str) -> int:
        try:
            seq = int(await self._redis.get(_seq_key(user_id)) or 0)
        except Exception:
            log.warning("redis broker: reading the seq of %s failed (Redis away)", user_id)
            return self._last_seq.get(user_id, 0)
        return max(seq, self._last_seq.get(user_id, 0))

    async def replay(self, user_id: str, after: int) -> Backlog | None:
        try:
            current = await self.current_seq(user_id)
            if after > current:
                return None
            if after == current:
                return []
            entries = await self._redis.xrange(_stream(user_id), min=f"{after + 1}-0", max="+")
        except Exception:
            log.warning("redis broker: replay for %s failed (Redis away)", user_id)
            return None
        if not entries or int(entries[0][0].split(b"-")[0]) != after + 1:
            return None  # trimmed or expired: the client must re-read state
        backlog = []
        for entry_id, data in entries:
            seq = int(entry_id.split(b"-")[0])
            kind, fields = orjson.loads(data[b"p"])
            backlog.append((seq, self._frame(seq, kind, fields)))
        return backlog

    # -- closing sockets --

    async def disconnect(self, user_id: str, code: int, reason: str, *,
                         keep_session: str | None = None, only_session: str | None = None) -> None:
        try:
            await self._redis.publish(_channel(user_id),
                                      b"c" + dumps([code, reason, keep_session, only_session]))
        except Exception:
            log.warning("redis broker: could not reach other instances to close %s's sockets",
                        user_id)
            self._close_local(user_id, code, reason, keep_session, only_session)

    # -- the subscription --

    async def _read(self) -> None:
        failing = False
        while True:
            if not self._pubsub.subscribed and not self._deferred:  # no user's socket here (yet)
                self._channels.clear()
                await self._channels.wait()
                continue
            try:
                if self._deferred:  # redis-py keeps only channels whose SUBSCRIBE succeeded
                    channels = sorted(self._deferred)
                    await self._pubsub.subscribe(*channels)
                    self._deferred.difference_update(channels)
                if not self._pubsub.subscribed:
                    continue
                message = await self._pubsub.get_message(timeout=1.0)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # redis-py reconnects and re-subscribes what it has on the next call
                if not failing:
                    log.error("redis broker: the subscription dropped (%s); reconnecting", exc)
                failing = True
                await asyncio.sleep(0.5)
                continue
            if failing:
                failing = False
                log.warning("redis broker: the subscription is back")
            if message is None or message.get("type") != "message":
                continue
            try:
                self._dispatch(message["channel"], message["data"])
            except Exception:
                log.exception("redis broker: could not deliver a message")

    def _dispatch(self, channel: bytes, data: bytes) -> None:
        user_id = channel.decode().rsplit(":", 1)[1]
        if data[:1] == b"e":
            head, body = data[1:].split(b" ", 1)
            seq = int(head)
            self._last_seq[user_id] = max(seq, self._last_seq.get(user_id, 0))
            kind, fields = orjson.loads(body)
            self._deliver_local(user_id, seq, self._frame(seq, kind, fields))
        elif data[:1] == b"x":
            kind, fields = orjson.loads(data[1:])
            self._deliver_local(user_id, NO_SEQ, self._notice(kind, fields))
        elif data[:1] == b"c":  # [code, reason, keep_session?, only_session?]
            code, reason, *which = orjson.loads(data[1:])
            self._close_local(user_id, code, reason, *which)
