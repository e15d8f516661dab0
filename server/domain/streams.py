"""The replies streaming on this instance: their tasks, partial text, stops, capacity and shutdown.

`Generations` decides a turn and hands its reply here as a `Job` with the coroutine that streams
it; from then on this registry owns the reply's task. It saves the partial text of every reply in
flight once per `flush_s` (one statement for all of them), answers the live text of a reply that
is still streaming, stops one on request (asked on this instance or by another), refuses a user's
reply past the per-user limit, and at shutdown drains and then interrupts what is left.

A job's events go to the user's event stream (every socket, through the broker) and to whoever
listens on the job itself (`Job.listen`), which is how a caller that holds no socket (an HTTP
response written as server-sent events, a test) consumes a reply.
"""
from __future__ import annotations

import asyncio
import logging
from typing import Any, AsyncIterator, Coroutine, Protocol, runtime_checkable

from protocol.errors import RateLimited, Unavailable
from providers.registry import Model
from storage import Database, utcnow
from storage import messages as message_rows

log = logging.getLogger("chatwire.generation")

ReplyEvent = tuple[str, dict[str, Any]]  # (event kind, its fields), as the broker publishes it
_END = None


class Job:
    """A reply streaming on this instance.

    Each field has one writer: `parts` the runner (the text as it arrives); `task` and
    `stop_requested` the job itself, when the registry runs it (`run_as`) or stops it
    (`request_stop`); `finishing` the job, when the runner says the stream is over
    (`finishing_now`); `announced` (an event, set once) the side that starts the turn, when the
    turn's own events are out — the reply's events wait for it.
    """

    __slots__ = ("user_id", "chat_id", "message_id", "model", "title_from", "parts",
                 "stop_requested", "finishing", "task", "announced", "_listeners", "_ended")

    def __init__(self, user_id: str, chat_id: str, message_id: str, model: Model,
                 title_from: str | None = None) -> None:
        self.user_id = user_id
        self.chat_id = chat_id
        self.message_id = message_id
        self.model = model
        self.title_from = title_from  # an untitled chat's first message: named after it, once done
        self.parts: list[str] = []
        self.stop_requested = False
        self.finishing = False  # the stream is over: only the final write is left
        self.task: asyncio.Task[Any] | None = None
        self.announced = asyncio.Event()
        self._listeners: list[asyncio.Queue[ReplyEvent | None]] = []
        self._ended = False

    @property
    def text(self) -> str:
        return "".join(self.parts)

    def run_as(self, task: asyncio.Task[Any]) -> None:
        self.task = task

    def request_stop(self) -> None:
        """Cancel the reply's task, as a stop (it ends `stopped`, charged for what it generated).
        Once the stream is over there is nothing left to stop: the final write (the row's end,
        the charge, the hold's release) must not be cut short, so the stop only waits for it."""
        if self.task is not None and not self.finishing:
            self.stop_requested = True
            self.task.cancel()

    def interrupt(self) -> None:
        """Cancel the reply's task as the server stops (it ends `interrupted`), unless it is
        already writing its end."""
        if self.task is not None and not self.finishing:
            self.task.cancel()

    def finishing_now(self) -> None:
        """The runner: the stream is over; what is left is the final write."""
        self.finishing = True

    def listen(self) -> AsyncIterator[ReplyEvent]:
        """The reply's events from now on, ending after its final one (or when its task ends).

        Listening starts when this is called, not when iteration starts: call it before the
        reply's task first runs (before the caller's next await) to miss nothing.
        """
        queue: asyncio.Queue[ReplyEvent | None] = asyncio.Queue()
        if self._ended:  # too late: nothing more will come
            queue.put_nowait(_END)
        else:
            self._listeners.append(queue)
        return _drain(queue)

    def heard(self, kind: str, fields: dict[str, Any]) -> None:
        """An event of this reply, as it was published: to each listener, in order."""
        for queue in self._listeners:
            queue.put_nowait((kind, fields))

    def ended(self) -> None:
        self._ended = True
        for queue in self._listeners:
            queue.put_nowait(_END)
        self._listeners = []


async def _drain(queue: asyncio.Queue[ReplyEvent | None]) -> AsyncIterator[ReplyEvent]:
    while (item := await queue.get()) is not _END:
        yield item


@runtime_checkable
class Slot(Protocol):
    """One reply's place in its user's limit across every instance (`ReplySlots`)."""

    async def give_back(self) -> None:
        """Free the place (the reply ended, or never started). Idempotent."""


@runtime_checkable
class ReplySlots(Protocol):
    """The concurrent-replies limit shared by every instance: a slot per reply in flight."""

    async def take(self, user_id: str, limit: int) -> Slot | None:
        """A slot for a new reply of `user_id`, or None while `limit` replies hold one."""


class Claim:
    """A user's reply slot, held from the capacity check until the reply ends (or the turn
    fails): concurrent sends each take one at once, so none slips past the limit while another
    is still being decided (eight sockets sending together got eight replies against three).

    On this instance the slot is a count taken synchronously (`pending` until the reply starts,
    then the running job counts); `slot` is its place across instances, given back when the
    reply ends.
    """

    __slots__ = ("user_id", "_pending", "_slot", "_state")

    def __init__(self, user_id: str, pending: dict[str, int], slot: Slot) -> None:
        self.user_id = user_id
        self._pending = pending
        self._slot = slot
        pending[user_id] = pending.get(user_id, 0) + 1
        self._state = "held"

    def _unpend(self) -> None:
        left = self._pending[self.user_id] - 1
        if left:
            self._pending[self.user_id] = left
        else:
            del self._pending[self.user_id]

    def started(self) -> None:
        """The reply runs: it counts here as a job now, and its slot is the registry's to free."""
        if self._state == "held":
            self._unpend()
            self._state = "running"

    async def release(self) -> None:
        """Give the slot back if the reply never started; a no-op once it did."""
        if self._state == "held":
            self._unpend()
            self._state = "done"
            await self._slot.give_back()

    async def ended(self) -> None:
        """The reply's task is over: its place across instances is free."""
        if self._state == "running":
            self._state = "done"
            await self._slot.give_back()


class Streams:
    def __init__(self, db: Database, slots: ReplySlots, *, flush_s: float,
                 max_per_user: int) -> None:
        self.db = db
        self.slots = slots
        self.flush_s = flush_s
        self.max_per_user = max_per_user
        self._jobs: dict[str, Job] = {}
        self._saved: dict[str, int] = {}  # how many of a job's parts storage already has
        self._pending: dict[str, int] = {}  # per user: replies claimed, not yet started
        self._accepting = True  # false while the server drains for shutdown
        self._flusher: asyncio.Task[None] | None = None

    # -- starting --

    def check_accepting(self) -> None:
        """Refuse a new reply while the server shuts down."""
        if not self._accepting:
            raise Unavailable("this server is shutting down; reconnect and try again")

    async def claim(self, user_id: str) -> Claim:
        """A slot for a new reply of `user_id`, or `rate_limited` past the concurrent replies
        (streaming, or claimed and about to): on this instance first — synchronously, so
        atomically — then across instances (`ReplySlots`)."""
        self._check_room(user_id)
        slot = await self.slots.take(user_id, self.max_per_user)
        if slot is None:
            raise self._full()
        try:
            self._check_room(user_id)  # others here may have claimed while we asked
        except RateLimited:
            await slot.give_back()
            raise
        return Claim(user_id, self._pending, slot)

    def _check_room(self, user_id: str) -> None:
        running = sum(1 for job in self._jobs.values() if job.user_id == user_id)
        if running + self._pending.get(user_id, 0) >= self.max_per_user:
            raise self._full()

    def _full(self) -> RateLimited:
        return RateLimited(f"{self.max_per_user} replies are already streaming; wait for one "
                           "to finish", retry_after=1)

    def start(self, job: Job, streaming: Coroutine[Any, Any, Any], claim: Claim) -> None:
        """Run `streaming` (the job's reply) as the job's task, owned here until it ends; the
        job now counts against its user in place of its claim."""
        self._jobs[job.message_id] = job
        claim.started()
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.create_task(self._flush_forever(), name="generation-flusher")
        job.run_as(asyncio.create_task(self._run(job, streaming, claim),
                                       name=f"generation-{job.message_id}"))

    async def _run(self, job: Job, streaming: Coroutine[Any, Any, Any], claim: Claim) -> None:
        try:
            await streaming
        except Exception:
            log.exception("generation %s could not be finalised", job.message_id)
        finally:
            self._jobs.pop(job.message_id, None)
            self._saved.pop(job.message_id, None)
            job.ended()
            try:
                await claim.ended()
            except Exception:  # a lease left behind expires on its own
                log.exception("generation %s: its reply slot could not be freed", job.message_id)

    # -- what is running --

    def live_text(self, message_id: str, stored: str) -> str:
        """The text so far of a reply streaming here; else what storage has."""
        job = self._jobs.get(message_id)
        return job.text if job is not None else stored

    def running(self) -> int:
        return len(self._jobs)

    # -- stopping --

    def stop_here(self, message_id: str) -> None:
        """Cancel a reply of this instance (asked locally or by another instance)."""
        job = self._jobs.get(message_id)
        if job is not None:
            job.request_stop()

    async def stop(self, message_id: str) -> bool:
        """Stop a reply streaming here and wait for its final write; False if it is not here."""
        job = self._jobs.get(message_id)
        if job is None or job.task is None:
            return False
        self.stop_here(message_id)
        await asyncio.wait({job.task})
        return True

    # -- partial text --

    async def _flush_forever(self) -> None:
        """Save the partial text of every reply in flight, once per `flush_s`, in one statement."""
        while self._jobs:
            await asyncio.sleep(self.flush_s)
            try:
                await self.flush_progress()
            except Exception:
                log.exception("saving partial replies failed; retrying next tick")

    async def flush_progress(self) -> None:
        dirty = [job for job in list(self._jobs.values())
                 if len(job.parts) != self._saved.get(job.message_id, 0)]
        if not dirty:
            return
        counts = [len(job.parts) for job in dirty]
        texts = [(job.message_id, "".join(job.parts[:n])) for job, n in zip(dirty, counts)]
        await message_rows.save_progress(self.db, texts, utcnow())
        for job, n in zip(dirty, counts):
            if job.message_id in self._jobs:  # not finished (and forgotten) meanwhile
                self._saved[job.message_id] = n

    # -- shutdown --

    async def drain(self, timeout_s: float) -> None:
        """Start nothing new; give the replies in flight up to `timeout_s` to finish."""
        self._accepting = False
        tasks = {job.task for job in self._jobs.values() if job.task is not None}
        if tasks and timeout_s > 0:
            await asyncio.wait(tasks, timeout=timeout_s)

    async def close(self) -> None:
        """Stop streaming: running replies end as `interrupted`, text kept, nothing charged."""
        self._accepting = False
        if self._flusher is not None:
            self._flusher.cancel()
        tasks = {job.task for job in self._jobs.values() if job.task is not None}
        for job in list(self._jobs.values()):
            job.interrupt()
        if tasks:
            await asyncio.wait(tasks)
