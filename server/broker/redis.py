"""Events in Redis: several instances behind a load balancer, one event order per user.

One Lua script call per user per batch: it numbers the user's events of the batch (`INCRBY` the
user's seq), `XADD`s each to the user's stream (the resume history: capped in count and in bytes,
oldest first, expiring) and `PUBLISH`es them as one message — `e<seq> <event>` for one,
`E<first seq> <event>\\n<event>…` for several (JSON never holds a raw newline). Parsing a message
is most of what an event costs a subscriber in redis-py, so a send's four announcements are one
message, not four. Redis runs scripts one at a time, so every instance sees a user's events in the
order they are numbered. Each instance subscribes to the channels of the users it has sockets for.

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

# KEYS: the user's seq, channel, stream and stream bytes. ARGV: history (count), TTL (ms), the
# seq floor, history (bytes), then the events' payloads, in order. Numbers them consecutively,
# keeps each in the stream, and publishes them as one message; answers the first one's seq.
_PUBLISH = """
local n = #ARGV - 4
local last = redis.call('INCRBY', KEYS[1], n)
if last - n < tonumber(ARGV[3]) then
  last = tonumber(ARGV[3]) + n
  redis.call('SET', KEYS[1], last)
end
local first = last - n + 1
local added = 0
for i = 1, n do
  redis.call('XADD', KEYS[3], (first + i - 1) .. '-0', 'p', ARGV[4 + i])
  added = added + string.len(ARGV[4 + i])
end
local bytes = redis.call('INCRBY', KEYS[4], added)
local count = redis.call('XLEN', KEYS[3])
while count > tonumber(ARGV[1]) or (bytes > tonumber(ARGV[4]) and count > 1) do
  local oldest = redis.call('XRANGE', KEYS[3], '-', '+', 'COUNT', 1)[1]
  redis.call('XDEL', KEYS[3], oldest[1])
  bytes = redis.call('DECRBY', KEYS[4], string.len(oldest[2][2]))
  count = count - 1
end
redis.call('PEXPIRE', KEYS[3], ARGV[2])
redis.call('PEXPIRE', KEYS[4], ARGV[2])
if n == 1 then
  redis.call('PUBLISH', KEYS[2], 'e' .. first .. ' ' .. ARGV[5])
else
  local payloads = {}
  for i = 1, n do payloads[i] = ARGV[4 + i] end
  redis.call('PUBLISH', KEYS[2], 'E' .. first .. ' ' .. table.concat(payloads, '\\n'))
end
return first
"""
# A user's events in one script call at most (a burst of deltas while Redis was slow is split).
PER_CALL = 100
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
        self._later: list[tuple[Any, ...]] = []  # commands no one awaits: with the next pipeline
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

    def send_later(self, *command: Any) -> None:
        """A command whose answer nobody reads, sent in the writer's next pipeline (a reply's slot
        given back leaves with the reply's last events instead of a round trip of its own). Lost
        if Redis is away then: the caller's state must not depend on it (a slot's lease lapses)."""
        self._later.append(command)
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
            later, self._later = self._later, []
            if not batch and not later:
                continue
            seqs = await self._send(batch, later) if time.monotonic() >= self._retry_at else None
            if seqs is None:
                seqs = self._number_locally(batch)
            for (user_id, _, _, _, done), seq in zip(batch, seqs, strict=True):
                self._last_seq[user_id] = max(seq, self._last_seq.get(user_id, 0))
                if done is not None and not done.done():
                    done.set_result(seq)

    def _calls(self, batch: list[Outgoing]) -> list[tuple[str, list[int]]]:
        """The batch as script calls: one per user (at most PER_CALL events), in the batch's order
        within each user — the only order there is (every user has a seq of their own)."""
        by_user: dict[str, list[int]] = {}
        for i, (user_id, *_rest) in enumerate(batch):
            by_user.setdefault(user_id, []).append(i)
        return [(user_id, indices[at:at + PER_CALL]) for user_id, indices in by_user.items()
                for at in range(0, len(indices), PER_CALL)]

    async def _publish_all(self, batch: list[Outgoing], calls: list[tuple[str, list[int]]],
                           later: list[tuple[Any, ...]] = ()) -> list[Any]:
        """One pipeline of the script's calls (then `later`'s commands, whose answers are
        dropped); each answer a first seq or the error Redis gave."""
        async with self._redis.pipeline(transaction=False) as pipe:
            for user_id, indices in calls:
                pipe.evalsha(self._script.sha, 4, _seq_key(user_id), _channel(user_id),
                             _stream(user_id), _stream_bytes(user_id), self.history,
                             self.history_ttl_ms, self._last_seq.get(user_id, 0),
                             self.history_bytes, *(batch[i][3] for i in indices))
            for command in later:
                pipe.execute_command(*command)
            return (await pipe.execute(raise_on_error=False))[:len(calls)]

    async def _send(self, batch: list[Outgoing], later: list[tuple[Any, ...]] = ()) -> list[int] | None:
        calls = self._calls(batch)
        try:
            results = await self._publish_all(batch, calls, later)
            missed = [c for c, r in enumerate(results) if isinstance(r, NoScriptError)]
            if missed:  # Redis restarted or flushed its scripts: those calls did nothing
                await self._redis.script_load(_PUBLISH)
                again = await self._publish_all(batch, [calls[c] for c in missed])
                for c, result in zip(missed, again, strict=True):
                    results[c] = result
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
        seqs = [0] * len(batch)
        for (_, indices), first in zip(calls, results, strict=True):
            for offset, i in enumerate(indices):
                seqs[i] = int(first) + offset
        return seqs

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
        if data[:1] in (b"e", b"E"):  # one event, or several numbered on from the first
            head, body = data[1:].split(b" ", 1)
            first = int(head)
            payloads = body.split(b"\n") if data[:1] == b"E" else [body]  # JSON has no raw \n
            self._last_seq[user_id] = max(first + len(payloads) - 1, self._last_seq.get(user_id, 0))
            for seq, payload in enumerate(payloads, first):
                kind, fields = orjson.loads(payload)
                self._deliver_local(user_id, seq, self._frame(seq, kind, fields))
        elif data[:1] == b"x":
            kind, fields = orjson.loads(data[1:])
            self._deliver_local(user_id, NO_SEQ, self._notice(kind, fields))
        elif data[:1] == b"c":  # [code, reason, keep_session?, only_session?]
            code, reason, *which = orjson.loads(data[1:])
            self._close_local(user_id, code, reason, *which)
