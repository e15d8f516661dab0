"""One generation, from the provider's first byte to the single final write.

Deltas are coalesced: at most one `message.delta` per window (50 ms by default) whatever the
provider's chunking, the first one sent at once and a timer making sure a stalled provider never
holds back text it already sent. Partial text is saved by the stream registry's flusher (all
replies in flight, once per `flush_s`); the row's final state is written once, here. Runs as its
own task: closing the socket that asked for it changes nothing.
"""
from __future__ import annotations

import asyncio
import logging
import time
from contextlib import aclosing
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from protocol import shapes
from protocol.errors import ChatwireError, InternalError, ProviderUnavailable
from protocol.text import clean
from providers.base import GenerationRequest, Provider, StreamEnd, Usage
from providers.tokens import estimate, estimate_request
from server import metrics
from storage import Database, utcnow
from storage import chats as chat_rows
from storage import messages as message_rows

from .deltas import DeltaCoalescer
from .events import EventSink
from .streams import Job
from .titles import Titles

if TYPE_CHECKING:
    from .ledger import Ledger

log = logging.getLogger("chatwire.generation")

STOPPED, COMPLETE, ERROR, INTERRUPTED = "stopped", "complete", "error", "interrupted"


@dataclass(frozen=True)
class StreamSettings:
    coalesce_s: float = 0.05
    flush_s: float = 1.0
    first_token_timeout_s: float = 60.0
    idle_timeout_s: float = 60.0


class Runner:
    def __init__(self, db: Database, events: EventSink, ledger: "Ledger",
                 settings: StreamSettings, titles: Titles) -> None:
        self.db = db
        self.events = events
        self.ledger = ledger
        self.settings = settings
        self.titles = titles

    async def run(self, job: Job, provider: Provider, request: GenerationRequest) -> dict[str, Any]:
        deltas = DeltaCoalescer(lambda kind, fields: self._emit_nowait(job, kind, fields),
                                chat_id=job.chat_id, message_id=job.message_id,
                                model_id=job.model.id, window_s=self.settings.coalesce_s)
        end: StreamEnd | None = None
        error: ChatwireError | None = None
        status = COMPLETE
        heard = _Heard()
        metrics.STREAMING.inc()
        try:
            end = await self._stream(job, provider, request, deltas, heard)
        except asyncio.CancelledError:
            # We asked for this cancellation (stop, or shutdown): finish the row, don't propagate.
            task = asyncio.current_task()
            if task is not None:
                task.uncancel()
            status = STOPPED if job.stop_requested else INTERRUPTED
        except ChatwireError as exc:
            status, error = ERROR, exc
        except Exception:
            log.exception("generation %s failed", job.message_id)
            status, error = ERROR, InternalError("the reply failed on the server")
        finally:
            deltas.cancel_timer()
            metrics.STREAMING.dec()
        job.finishing_now()  # a stop from now on waits for the final write instead of cutting it
        await _announced(job, through_cancel=True)
        deltas.flush()
        return await self._finish(job, status, request, end.usage if end else heard.usage, error,
                                  heard.first_token_ms)

    async def _stream(self, job: Job, provider: Provider, request: GenerationRequest,
                      deltas: DeltaCoalescer, heard: _Heard) -> StreamEnd:
        watchdog = Watchdog(self.settings.first_token_timeout_s, self.settings.idle_timeout_s)
        started, first = time.monotonic(), True
        try:
            async with aclosing(provider.stream(request)) as stream:
                async for item in stream:
                    if type(item) is Usage:  # the vendor's counts so far: not a token
                        heard.usage = item
                        continue
                    watchdog.fed()
                    if first:
                        first = False
                        waited = time.monotonic() - started
                        metrics.TTFT.labels(provider.name).observe(waited)
                        heard.first_token_ms = round(waited * 1000)  # stored: the console's p50/p95
                        await _announced(job)
                    if isinstance(item, StreamEnd):
                        metrics.PROVIDER_LATENCY.labels(provider.name).observe(time.monotonic() - started)
                        return item
                    item = clean(item)  # NUL or half a surrogate pair: stored and sent as U+FFFD
                    job.parts.append(item)
                    deltas.push(item)
        except asyncio.CancelledError:
            if not watchdog.expired:
                raise
            asyncio.current_task().uncancel()  # type: ignore[union-attr]
            what = "sent nothing in time" if not job.parts else "stopped sending mid-reply"
            raise ProviderUnavailable(f"{provider.name} {what}") from None
        finally:
            watchdog.cancel()
        raise ProviderUnavailable(f"{provider.name} ended the stream without finishing")

    async def _finish(self, job: Job, status: str, request: GenerationRequest,
                      reported: Usage | None, error: ChatwireError | None,
                      first_token_ms: int | None = None) -> dict[str, Any]:
        """The one final write: the row's end state and the charge, in one transaction.

        Complete and stopped replies are charged for their tokens; errors and interruptions for
        nothing. Either way the reservation is released, exactly once.
        """
        usage = _usage(job, request, reported, ended=status == COMPLETE)
        price = job.model.cost(usage.prompt_tokens, usage.completion_tokens,
                               cached_tokens=usage.cached_tokens,
                               cache_write_tokens=usage.cache_write_tokens) if status in (
            COMPLETE, STOPPED) else 0
        now = utcnow()
        title_here = status == COMPLETE and bool(job.title_from) and self.titles.offline
        named: dict[str, Any] | None = None
        async with self.db.quick.transaction() as tx:
            charged, account = await self.ledger.settle(tx, job.user_id, job.message_id, price)
            row = await message_rows.finish(
                tx, job.message_id, status=status, content=job.text, tokens=usage.breakdown(),
                cost=charged, error_code=error.code if error else None, now=now,
                first_token_ms=first_token_ms)
            if row is not None:
                await chat_rows.touch(tx, job.chat_id, now)
                if title_here:
                    named = await self.titles.write_offline(tx, job.user_id, job.chat_id,
                                                            job.title_from)
        if row is None:  # finalised elsewhere (recovery), or its chat was purged
            await self.ledger.announce(job.user_id, account)
            stored = await message_rows.get(self.db, job.user_id, job.message_id)
            return shapes.message(stored) if stored is not None else {}
        metrics.GENERATIONS.labels(job.model.id, status).inc()
        metrics.TOKENS.labels(job.model.id, "prompt").inc(usage.prompt_tokens)
        metrics.TOKENS.labels(job.model.id, "completion").inc(usage.completion_tokens)
        metrics.COST.labels(job.model.id).inc(charged)
        message = shapes.message(row)
        fields: dict[str, Any] = {"chat_id": job.chat_id, "message_id": job.message_id,
                                  "message": message}
        if status == ERROR and error is not None:
            self._emit_nowait(job, "message.error", {**fields, "error": error.as_dict()})
        else:
            fields.update(usage=usage.breakdown(), cost=charged, balance=account["balance"])
            kind = {COMPLETE: "message.done", STOPPED: "message.stopped"}.get(status,
                                                                           "message.interrupted")
            self._emit_nowait(job, kind, fields)
        # After the reply's own final event, and awaited: both leave in one batch (with Redis,
        # one script call and one message for the pair instead of a round trip each).
        await self.ledger.announce(job.user_id, account)
        if title_here:
            if named:
                await self.titles.announce(job.user_id, named)
        elif status == COMPLETE and job.title_from:
            try:
                await self.titles.name(job.user_id, job.chat_id, job.title_from, job.text)
            except Exception:  # the reply is done and charged: a title is not worth failing it
                log.exception("naming chat %s failed", job.chat_id)
        return message


    def _emit_nowait(self, job: Job, kind: str, fields: dict[str, Any]) -> None:
        """A reply's event: to the user's sockets (through the broker) and the job's listeners."""
        self.events.publish_nowait(job.user_id, kind, fields)
        job.heard(kind, fields)


async def _announced(job: Job, *, through_cancel: bool = False) -> None:
    """Wait (at most once, in practice) until the turn's creation has been announced.

    Before the final write the wait outlasts a cancellation (a stop or shutdown landing in it):
    the outcome is decided by then, and leaving here would leave the row `streaming` and its
    credits held. The announcing side always ends, so this always ends.
    """
    while not job.announced.is_set():
        try:
            await job.announced.wait()
        except asyncio.CancelledError:
            if not through_cancel:
                raise
            asyncio.current_task().uncancel()  # type: ignore[union-attr]


class _Heard:
    """The vendor's latest counts during a stream (`Usage` items), for a reply that never ends;
    and when its first token came (ms after the request; None until one does)."""

    __slots__ = ("usage", "first_token_ms")

    def __init__(self) -> None:
        self.usage: Usage | None = None
        self.first_token_ms: int | None = None


def _usage(job: Job, request: GenerationRequest, reported: Usage | None, *, ended: bool) -> Usage:
    return usage_of(job.text, request, reported, ended=ended)


def usage_of(text: str, request: GenerationRequest, reported: Usage | None, *,
             ended: bool) -> Usage:
    """The vendor's figures wherever it gave them; our estimate only for what it never said.

    A reply that did not end (stopped, cut) has no final completion count: what the vendor said
    midway (Anthropic's message_start, a Gemini chunk) is its prompt count and the completion
    so far at best, so the completion is estimated from the text it sent.
    """
    reported = reported or Usage()
    estimated: list[str] = []
    prompt = reported.prompt_tokens
    if not prompt:
        prompt = estimate_request(request)
        estimated.append("prompt_tokens")
    completion = reported.completion_tokens if ended else 0
    if not completion:
        completion = estimate(text)
        estimated.append("completion_tokens")
    return Usage(prompt, completion, cached_tokens=reported.cached_tokens,
                 cache_write_tokens=reported.cache_write_tokens,
                 reasoning_tokens=reported.reasoning_tokens if ended else 0,
                 estimated=tuple(estimated))


class Watchdog:
    """Cancels the generation when the provider is silent too long: first token, then between tokens.

    Feeding it is one assignment per token; the timer re-arms itself only when it fires, which
    `asyncio.timeout` rescheduling twice per token cost measurably more at 10,000 tokens/s.
    """

    def __init__(self, first_token_s: float, idle_s: float) -> None:
        self.loop = asyncio.get_running_loop()
        self.task = asyncio.current_task()
        self.idle_s = idle_s
        self.last = None  # type: float | None
        self.expired = False
        self.handle = self.loop.call_at(self.loop.time() + first_token_s, self._check)

    def fed(self) -> None:
        now = self.loop.time()
        if self.last is None:  # the first token: from now on silence is bounded by the idle limit
            self.handle.cancel()
            self.handle = self.loop.call_at(now + self.idle_s, self._check)
        self.last = now

    def _check(self) -> None:
        if self.last is not None and self.loop.time() - self.last < self.idle_s:
            self.handle = self.loop.call_at(self.last + self.idle_s, self._check)
            return
        self.expired = True
        assert self.task is not None
        self.task.cancel()

    def cancel(self) -> None:
        self.handle.cancel()
