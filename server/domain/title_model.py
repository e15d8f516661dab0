"""Chat titles asked of a model (`TITLE_MODEL`), charged like a reply.

The call is reserved first, under a hold of its own (`title:<chat id>`: not a message, so it is
settled with a note instead of a message id); when it ends the vendor's counts are charged once
through the ledger and the rest released. A balance that cannot cover the worst case skips the
call: the chat gets its offline title. So does any failure — an error, silence, an answer that is
no usable title — and the call is then charged only for what the vendor reported using.

The answer is cleaned into a title: one line, no quotes, no markdown, no "Title:" label, at most
60 characters cut at a word boundary, and something a reader can read (a letter or a digit).
"""
from __future__ import annotations

import asyncio
import logging
import re
from contextlib import aclosing

from protocol.errors import SpendCapReached
from providers.base import ChatMessage, GenerationRequest, Provider, StreamEnd, Usage
from providers.registry import Model
from storage import Database, IntegrityError
from storage.ledger import SIDE_HOLD

from .ledger import Ledger, worst_case
from .titles import LIMIT, offline_title

log = logging.getLogger("chatwire.titles")

SIDE_CALL_MAX_S = 600  # a title call's hold is an orphan once this old (recovery)
MAX_TOKENS = 40
EXCERPT_CHARS = 2000  # of the first message; 1000 of the reply
PROMPT = ("You name conversations. Reply with a short title for the conversation below, in the "
          "language the user wrote in: at most six words, no quotes, no markdown, no full stop at "
          "the end. Reply with the title only.")
_LABEL = re.compile(r"^\s*(?:title|название|заголовок|тема)\s*[:：—-]\s*", re.I)
_QUOTES = "\"'`«»“”„‘’‹›*_#"


def clean_title(answer: str) -> str:
    """The model's answer as a title, or "" when nothing in it is one."""
    line = next((line for line in answer.splitlines() if line.strip()), "")
    line = _LABEL.sub("", line).strip().strip(_QUOTES).strip()
    title = offline_title(line, LIMIT).strip(_QUOTES).strip()
    return title if any(ch.isalnum() for ch in title) else ""


class ModelTitler:
    """`models` is the live catalogue: the title model's prices are read at each call (an admin
    may change them), and a disabled title model means offline titles until it is back."""

    def __init__(self, db: Database, ledger: Ledger, models: dict[str, Model], model_id: str,
                 provider: Provider, *, timeout_s: float = 30.0) -> None:
        self.db = db
        self.ledger = ledger
        self.models = models
        self.model_id = model_id
        self.provider = provider
        self.timeout_s = timeout_s

    def request(self, model: Model, first_message: str, reply: str) -> GenerationRequest:
        text = f"User: {first_message[:EXCERPT_CHARS]}\n\nAssistant: {reply[:EXCERPT_CHARS // 2]}"
        return GenerationRequest(model=model.upstream, system=PROMPT,
                                 messages=[ChatMessage("user", text)],
                                 max_tokens=min(MAX_TOKENS, model.max_output_tokens))

    async def title(self, user_id: str, chat_id: str, first_message: str, reply: str) -> str:
        """The model's title for the chat, or "" (then the offline one is used)."""
        model = self.models.get(self.model_id)
        if model is None:
            return ""
        request = self.request(model, first_message, reply)
        key = f"{SIDE_HOLD}{chat_id}"
        try:
            async with self.db.transaction() as tx:
                held = await self.ledger.reserve(tx, user_id, key, worst_case(model, request))
        except IntegrityError:  # a title call for this chat is already in flight
            return ""
        except SpendCapReached:  # a cap is reached: the offline title, free
            return ""
        if held is None:
            return ""  # the balance cannot cover it: the offline title, free
        usage, answer = Usage(), ""
        try:
            usage, answer = await asyncio.wait_for(self._ask(request), self.timeout_s)
        except asyncio.CancelledError:
            await asyncio.shield(self._settle(model, user_id, key, usage))
            raise
        except Exception as exc:  # no title is worth more than the offline one
            log.warning("the title model failed for chat %s: %s: %s", chat_id,
                        type(exc).__name__, exc)
        await self._settle(model, user_id, key, usage)
        return clean_title(answer)

    async def _ask(self, request: GenerationRequest) -> tuple[Usage, str]:
        parts: list[str] = []
        usage = Usage()
        async with aclosing(self.provider.stream(request)) as stream:
            async for item in stream:
                if isinstance(item, StreamEnd):
                    return item.usage, "".join(parts)
                if isinstance(item, Usage):
                    usage = item
                else:
                    parts.append(item)
        return usage, "".join(parts)

    async def _settle(self, model: Model, user_id: str, key: str, usage: Usage) -> None:
        cost = model.cost(usage.prompt_tokens, usage.completion_tokens,
                               cached_tokens=usage.cached_tokens,
                               cache_write_tokens=usage.cache_write_tokens)
        async with self.db.transaction() as tx:
            _, account = await self.ledger.settle(tx, user_id, key, cost, linked=False,
                                                  note=f"chat title ({model.id})")
        await self.ledger.announce(user_id, account)
