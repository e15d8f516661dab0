"""The broker's roles, and what their in-process and Redis engines share.

A broker is six things, each with an in-process engine (one instance, nothing to run) and a Redis
engine (several instances behind a load balancer):

- **events** (`EventLog`): numbers each user's events (`seq`), keeps the recent ones for `resume`
  under an `epoch`, fans them out to the user's sockets on every instance, closes them;
- **presence**: which devices are online (the domain's `DeviceRegistry`);
- **counters**: fixed-window counts behind the rate limits (the domain's `Counter`);
- **stops**: asks the instance running a reply to stop it (the domain's `StopSignals`);
- **slots**: a place per reply in flight, behind the per-user concurrent-replies limit across
  instances (the domain's `ReplySlots`);
- **catalogue**: says on every instance that the model catalogue changed (an admin's edit), so
  each reloads it (the domain's `CatalogueSignal`).

The domain states the roles it uses as protocols (`server/domain/`); the transport uses the rest
of `EventLog` (subscribe, replay). `Broker` bundles the six with their shared lifecycle.
"""
from __future__ import annotations

import abc
import asyncio
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Awaitable, Callable, Protocol

from protocol import encode, event
from protocol.session import NOTICE

if TYPE_CHECKING:  # the roles as the domain states them; the engines only match their shape
    from server.domain.generation import StopSignals
    from server.domain.limits import Counter
    from server.domain.presence import DeviceRegistry
    from server.domain.catalogue import CatalogueSignal
    from server.domain.streams import ReplySlots

log = logging.getLogger("chatwire.broker")

Backlog = list[tuple[int, bytes]]  # (seq, encoded frame), oldest first
NO_SEQ = NOTICE  # the seq of a notice: not numbered, not kept, never a duplicate
STOP_TRIES, STOP_WAIT_S = 20, 0.5  # see stop_tasks


class Subscriber(Protocol):
    """A local socket's side of the broker: must never block (it queues)."""

    user_id: str
    session_id: str  # the login the socket belongs to: a password change ends the others'

    def deliver(self, seq: int, frame: bytes) -> None:
        """`seq` is NO_SEQ for a notice."""

    def close_soon(self, code: int, reason: str) -> None: ...


class Lifecycle(Protocol):
    async def start(self) -> None: ...

    async def stop(self) -> None: ...


DEVICE_FIELDS = ("connection_id", "instance", "user_agent", "connected_since")


def compact(device: dict[str, Any]) -> tuple[str, ...]:
    """A device as a tuple of the socket's own strings: a few pointers per idle socket."""
    return tuple(device[k] for k in DEVICE_FIELDS)


def expand(device: tuple[str, ...]) -> dict[str, Any]:
    return dict(zip(DEVICE_FIELDS, device, strict=True))


class EventLog(abc.ABC):
    """Per-user numbered events, kept for resume, delivered to every socket of the user."""

    epoch: str  # names the history seqs count in; another epoch means seqs started over

    def __init__(self, history: int = 1000, history_bytes: int = 256 * 1024) -> None:
        self._local: dict[str, list[Subscriber]] = {}
        self.history = history  # events kept per user for resume, at most this many
        self.history_bytes = history_bytes  # ...and this many bytes (the newest event always)

    async def start(self) -> None:
        """Connect; the in-process engine has nothing to do."""

    async def stop(self) -> None:
        """Disconnect; the in-process engine has nothing to do."""

    async def subscribe(self, sub: Subscriber) -> None:
        # A list, not a set: most users have one or two sockets, and a set costs 216 bytes.
        self._local.setdefault(sub.user_id, []).append(sub)

    async def unsubscribe(self, sub: Subscriber) -> None:
        subs = self._local.get(sub.user_id)
        if subs is not None and sub in subs:
            subs.remove(sub)
            if not subs:
                del self._local[sub.user_id]

    @abc.abstractmethod
    async def publish(self, user_id: str, kind: str, fields: dict[str, Any]) -> int: ...

    @abc.abstractmethod
    def publish_nowait(self, user_id: str, kind: str, fields: dict[str, Any]) -> None:
        """Publish without waiting: the hot path of streamed deltas. Keeps order with `publish`."""

    @abc.abstractmethod
    async def notify(self, user_id: str, kind: str, fields: dict[str, Any]) -> None:
        """A passing notice: delivered now to every socket, with no seq, not kept for resume."""

    @abc.abstractmethod
    async def current_seq(self, user_id: str) -> int:
        """The seq of the user's latest event (0 before any)."""

    @abc.abstractmethod
    async def replay(self, user_id: str, after: int) -> Backlog | None:
        """Every kept event with seq > `after`, in order; None when some of them are gone."""

    @abc.abstractmethod
    async def disconnect(self, user_id: str, code: int, reason: str, *,
                         keep_session: str | None = None, only_session: str | None = None) -> None:
        """Close the user's sockets on every instance: all, all but `keep_session`'s, or only
        `only_session`'s."""

    @staticmethod
    def _frame(seq: int, kind: str, fields: dict[str, Any]) -> bytes:
        return encode(event(kind, seq, fields))

    @staticmethod
    def _notice(kind: str, fields: dict[str, Any]) -> bytes:
        return encode({"type": kind, **fields})

    def _deliver_local(self, user_id: str, seq: int, frame: bytes) -> None:
        for sub in tuple(self._local.get(user_id, ())):
            sub.deliver(seq, frame)  # encoded once, shared by every socket

    def notify_everyone_here(self, kind: str, fields: dict[str, Any]) -> int:
        """A passing notice to every socket on this instance (each instance sends its own: a
        change every user must hear, such as the model catalogue's). How many got it."""
        frame = self._notice(kind, fields)
        sockets = [sub for subs in tuple(self._local.values()) for sub in tuple(subs)]
        for sub in sockets:
            sub.deliver(NO_SEQ, frame)
        return len(sockets)

    def _close_local(self, user_id: str, code: int, reason: str, keep_session: str | None = None,
                     only_session: str | None = None) -> None:
        for sub in tuple(self._local.get(user_id, ())):
            if keep_session is not None and sub.session_id == keep_session:
                continue
            if only_session is not None and sub.session_id != only_session:
                continue
            sub.close_soon(code, reason)


@dataclass(frozen=True)
class Broker:
    """The six roles over one engine, started and stopped together.

    `redis` is the client the Redis roles share (None in process): pinged for readiness, and
    closed after them.
    """

    events: EventLog
    presence: DeviceRegistry
    counters: Counter
    stops: StopSignals
    slots: ReplySlots
    catalogue: CatalogueSignal
    redis: Any = None

    def _roles(self) -> list[Lifecycle]:
        return [role for role in (self.events, self.stops, self.presence, self.counters,
                                  self.slots, self.catalogue)
                if hasattr(role, "start")]

    async def start(self) -> None:
        started: list[Lifecycle] = []
        try:
            if self.redis is not None:
                await self.redis.ping()  # fail fast, before anything subscribes
            for role in self._roles():
                await role.start()
                started.append(role)
        except BaseException:
            for role in reversed(started):
                await role.stop()
            await self._close_client()
            raise

    async def stop(self) -> None:
        for role in reversed(self._roles()):
            try:
                await role.stop()
            except Exception:
                log.exception("broker: stopping %s failed", type(role).__name__)
        await self._close_client()

    async def ping(self) -> bool:
        return bool(await self.redis.ping()) if self.redis is not None else True

    async def _close_client(self) -> None:
        if self.redis is not None:
            # We built its pool: closing it is ours to do.
            await self.redis.aclose(close_connection_pool=True)


async def every(interval_s: float, step: Callable[[], Awaitable[Any]], what: str | None) -> None:
    """Run `step` every `interval_s`, for as long as the task lives (the Redis roles' refresh
    loops). A failure — Redis away — is logged as `what` failing (unless None: another loop logs
    it already) and tried again next time."""
    while True:
        await asyncio.sleep(interval_s)
        try:
            await step()
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            if what is not None:
                log.warning("redis broker: %s failed (%s); retrying", what, exc)


async def read_channel(pubsub: Any, handle: Callable[[bytes], None], what: str,
                       on_back: Callable[[], None] | None = None) -> None:
    """Hand every message of a subscribed Redis channel to `handle`, for as long as the task
    lives. redis-py reconnects and re-subscribes on the next read after a drop; `on_back` runs
    when it has (a message published meanwhile is lost, and a listener may need to catch up)."""
    failing = False
    while True:
        try:
            message = await pubsub.get_message(timeout=1.0)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            if not failing:
                log.error("redis broker: the %s dropped (%s); reconnecting", what, exc)
            failing = True
            await asyncio.sleep(0.5)
            continue
        if failing:
            failing = False
            if on_back is not None:
                on_back()
        if message is not None and message.get("type") == "message":
            handle(message["data"])


async def stop_tasks(tasks: list[asyncio.Task[Any]]) -> None:
    """Cancel background tasks, as often as it takes, and report one that failed or would not stop.

    On Python 3.11 a cancellation that lands while a timeout inside redis-py expires can come
    out as that timeout's error (and the loops carry on after Redis errors), so one cancel may
    be lost and awaiting the task would wait forever: seen as a test server's shutdown hanging
    about once in ten runs.
    """
    for _ in range(STOP_TRIES):
        running = [task for task in tasks if not task.done()]
        if not running:
            break
        for task in running:
            task.cancel()
        await asyncio.wait(running, timeout=STOP_WAIT_S)
    for task in tasks:
        if not task.done():
            log.error("redis broker: %s would not stop", task.get_name())
        elif not task.cancelled() and task.exception() is not None:
            log.error("redis broker: %s had failed: %r", task.get_name(), task.exception())
