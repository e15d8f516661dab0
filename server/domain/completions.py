"""OpenAI-compatible chat completions through the generation core, stored as no chat.

A call is decided like a reply: the model and the key's allow-list checked, the user's and the
key's rate limits counted, a reply slot taken (the same concurrent-replies limit as the
WebSocket's), and the worst case reserved — within the user's available credits and the key's
monthly cap — before the provider is asked. The hold is the call's own (`api:<key id>:<call
id>`: no message), settled once when the call ends with a usage row that names the key (its
`api_key_id`, and a note): the vendor's counts for a finished reply; for one cut short (the
client went away) what was generated; nothing when the provider failed. Nothing is written as a
chat or a message.
"""
from __future__ import annotations

import asyncio
import logging
import time
from contextlib import aclosing
from dataclasses import dataclass, field
from typing import Any, AsyncIterator

from protocol import shapes
from protocol.errors import (Forbidden, InsufficientBalance, NotFound,
                             ProviderUnavailable, Unauthorized)
from providers.base import GenerationRequest, Provider, StreamEnd, Usage
from providers.registry import Model
from providers.tokens import estimate_request
from server import metrics
from storage import Database, new_id
from storage import api_keys as key_rows
from storage.ledger import API_HOLD

from .api_keys import KeyIdentity, month_start
from .ledger import Ledger, worst_case
from .limits import Limits
from .openai_api import Asked, invalid
from .runner import StreamSettings, Watchdog, usage_of
from .streams import Claim, Streams

log = logging.getLogger("chatwire.api")

API_CALL_MAX_S = 600  # a call is cut (finish_reason "length") past this; its hold is then stale
FINISH = {"stop": "stop", "end_turn": "stop", "stop_sequence": "stop", "length": "length",
          "max_tokens": "length", "content_filter": "content_filter"}


@dataclass
class Call:
    """One completion in flight: what it asks, the hold it is reserved under, how it ended."""

    id: str
    key: KeyIdentity
    model: Model
    provider: Provider
    request: GenerationRequest
    hold_key: str
    claim: Claim
    created: int = field(default_factory=lambda: int(time.time()))
    parts: list[str] = field(default_factory=list)
    usage: Usage = field(default_factory=Usage)
    finish_reason: str = "stop"
    cost: int = 0

    @property
    def text(self) -> str:
        return "".join(self.parts)


class Completions:
    def __init__(self, db: Database, ledger: Ledger, limits: Limits, models: dict[str, Model],
                 providers: dict[str, Provider], streams: Streams,
                 settings: StreamSettings) -> None:
        self.db = db
        self.ledger = ledger
        self.limits = limits
        self.models = models
        self.providers = providers
        self.streams = streams
        self.settings = settings

    def usable_models(self, key: KeyIdentity) -> list[Model]:
        """What the key may call: configured here, and on its allow-list if it has one."""
        return [m for m in self.models.values()
                if m.provider in self.providers and key.may_use(m.id)]

    def _model(self, key: KeyIdentity, model_id: str) -> Model:
        model = self.models.get(model_id)
        if model is None or model.provider not in self.providers:
            raise NotFound(f"the model '{model_id}' does not exist; GET /v1/models lists the "
                           "ones this key may use", field="model", openai_code="model_not_found")
        if not key.may_use(model_id):
            raise Forbidden(f"this API key may not use the model '{model_id}'", field="model",
                            openai_code="model_not_allowed")
        return model

    async def start(self, key: KeyIdentity, asked: Asked) -> Call:
        """Check, count and reserve; the call is then the caller's to `stream` (which settles)."""
        model = self._model(key, asked.model)
        if asked.has_images and not model.vision:
            raise invalid("messages", f"holds images and {model.id} does not read them")
        max_tokens = asked.max_tokens or model.max_output_tokens
        if max_tokens > model.max_output_tokens:
            raise invalid("max_tokens", f"is at most {model.max_output_tokens} for {model.id}")
        request = GenerationRequest(model=model.upstream, messages=asked.messages,
                                    system=asked.system, max_tokens=max_tokens,
                                    temperature=asked.temperature, top_p=asked.top_p,
                                    stop=asked.stop)
        if estimate_request(request) + max_tokens > model.context_window:
            raise invalid("messages", f"with max_tokens do not fit {model.id}'s context window "
                                      f"({model.context_window} tokens)")
        self.streams.check_accepting()
        await self.limits.send(key.user_id)
        await self.limits.api_key(key.key_id)
        claim = await self.streams.claim(key.user_id)
        try:
            call = Call(id=new_id(), key=key, model=model, provider=self.providers[model.provider],
                        request=request, hold_key="", claim=claim)
            call.hold_key = f"{API_HOLD}{key.key_id}:{call.id}"
            await self._reserve(call, worst_case(model, request))
        except BaseException:
            await claim.release()
            raise
        return call

    async def _reserve(self, call: Call, worst: int) -> None:
        key = call.key
        async with self.db.quick.transaction() as tx:
            # A key with a cap is locked, so that two calls cannot both fit under it, and checked
            # again. Without a cap nothing is counted against the key: the check this request
            # passed a moment ago is what a revocation meets (a call already past it when the
            # revocation commits runs, as one begun before it), and a round trip is saved.
            if key.monthly_cap is not None:
                row = await key_rows.lock(tx, key.key_id)
                if row is None or row["revoked_at"] is not None:  # revoked since it was checked
                    raise Unauthorized("invalid API key: it is unknown, revoked or expired")
                spent = await key_rows.spent_since(tx, key.key_id, month_start())
                held = await key_rows.held(tx, f"{API_HOLD}{key.key_id}:")
                if spent + held + worst > key.monthly_cap:
                    raise InsufficientBalance(
                        f"this call may cost up to {shapes.credits(worst)} credits and the key's "
                        f"monthly cap leaves {shapes.credits(max(0, key.monthly_cap - spent - held))}"
                        "; lower max_tokens or raise the cap", needed=worst,
                        limit="monthly_cap")
            account = await self.ledger.reserve(tx, key.user_id, call.hold_key, worst)
            if account is None:
                available = (await self.ledger.balance(key.user_id))["available"]
                raise InsufficientBalance(
                    f"this call may cost up to {shapes.credits(worst)} credits and "
                    f"{shapes.credits(available)} are available", needed=worst,
                    available=available)
        await self.ledger.announce(key.user_id, account)

    async def stream(self, call: Call) -> AsyncIterator[str]:
        """The reply's text as the provider sends it; settled exactly once however it ends —
        finished, cut by the caller (closing this iterator: charged for what was generated),
        or failed (nothing charged). `call.usage`, `cost` and `finish_reason` are set after."""
        ended, failed = False, False
        try:
            async with aclosing(self._pieces(call)) as pieces:
                async for piece in pieces:
                    yield piece
            ended = True
        except Exception:  # a typed provider error, or a bug: either way nothing is charged
            failed = True
            raise
        finally:
            await asyncio.shield(self._settle(call, ended=ended, failed=failed))

    async def _pieces(self, call: Call) -> AsyncIterator[str]:
        watchdog = Watchdog(self.settings.first_token_timeout_s, self.settings.idle_timeout_s)
        deadline = time.monotonic() + API_CALL_MAX_S
        provider = call.provider
        try:
            async with aclosing(provider.stream(call.request)) as items:
                async for item in items:
                    if type(item) is Usage:
                        call.usage = item
                        continue
                    watchdog.fed()
                    if isinstance(item, StreamEnd):
                        call.usage = item.usage
                        call.finish_reason = FINISH.get(item.finish_reason, "stop")
                        return
                    call.parts.append(item)
                    yield item
                    if time.monotonic() > deadline:
                        call.finish_reason = "length"
                        return
        except asyncio.CancelledError:
            if not watchdog.expired:
                raise
            asyncio.current_task().uncancel()  # type: ignore[union-attr]
            what = "sent nothing in time" if not call.parts else "stopped sending mid-reply"
            raise ProviderUnavailable(f"{provider.name} {what}") from None
        finally:
            watchdog.cancel()
        raise ProviderUnavailable(f"{provider.name} ended the stream without finishing")

    async def _settle(self, call: Call, *, ended: bool, failed: bool) -> None:
        try:
            call.usage = usage_of(call.text, call.request, call.usage, ended=ended)
            price = 0 if failed else call.model.cost(
                call.usage.prompt_tokens, call.usage.completion_tokens,
                cached_tokens=call.usage.cached_tokens,
                cache_write_tokens=call.usage.cache_write_tokens)
            async with self.db.quick.transaction() as tx:
                call.cost, account = await self.ledger.settle(
                    tx, call.key.user_id, call.hold_key, price, linked=False,
                    note=f"API key {call.key.prefix} ({call.model.id})",
                    api_key_id=call.key.key_id)
            status = "error" if failed else "complete" if ended else "stopped"
            metrics.GENERATIONS.labels(call.model.id, status).inc()
            metrics.COST.labels(call.model.id).inc(call.cost)
            await self.ledger.announce(call.key.user_id, account)
        except Exception:  # the hold is then released as an orphan, once stale (recovery)
            log.exception("settling API call %s failed", call.id)
        finally:
            await call.claim.release()

    def as_response(self, call: Call) -> dict[str, Any]:
        return {"id": f"chatcmpl-{call.id}", "object": "chat.completion",
                "created": call.created, "model": call.model.id,
                "choices": [{"index": 0, "message": {"role": "assistant", "content": call.text,
                                                     "refusal": None},
                             "logprobs": None, "finish_reason": call.finish_reason}],
                "usage": usage_body(call.usage)}


def usage_body(usage: Usage) -> dict[str, Any]:
    return {"prompt_tokens": usage.prompt_tokens, "completion_tokens": usage.completion_tokens,
            "total_tokens": usage.prompt_tokens + usage.completion_tokens,
            "prompt_tokens_details": {"cached_tokens": usage.cached_tokens},
            "completion_tokens_details": {"reasoning_tokens": usage.reasoning_tokens}}
