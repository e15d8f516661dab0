"""Deciding turns: send, regenerate, edit — and stopping a reply wherever it runs.

A new turn is decided in one transaction: the user's message is stored, the reply's worst-case cost
reserved, and (if the credits cover it) an empty assistant message created in `streaming` state.
The provider is asked only after that commits; a Runner task then streams the reply, and settles
its cost in the same transaction as its final write. Every change is an event.

The reply itself belongs to the stream registry (`streams.Streams`) once started; what a turn
answers is transport-neutral: the WebSocket replies with `Started.answer` and lets the broker
carry the reply's events, and a caller without a socket iterates `Started.events`.
"""
from __future__ import annotations

import asyncio
import logging
from typing import Any, Protocol, runtime_checkable

from protocol import shapes
from protocol.errors import (BadRequest, Conflict, InsufficientBalance, NotFound,
                             ProviderUnavailable, SpendCapReached, Unavailable)
from providers.base import Provider
from providers.registry import Model
from storage import Database, IntegrityError, new_id, utcnow
from storage import chats as chat_rows
from storage import files as file_rows
from storage import messages as message_rows

from . import prompts
from .branches import Tree
from .chats import Chats
from .events import EventSink
from .files import Files
from .limits import Limits
from .ledger import Ledger, worst_case
from .runner import Runner
from .streams import Claim, Job, Streams
from .turns import GenerationSettings, Started, Turn, busy, check_not_streaming

log = logging.getLogger("chatwire.generation")


@runtime_checkable
class StopSignals(Protocol):
    async def signal_stop(self, instance_id: str, message_id: str) -> None:
        """Ask the instance generating `message_id` to stop it."""


class Generations:
    def __init__(self, db: Database, events: EventSink, stops: StopSignals, chats: Chats,
                 ledger: Ledger, models: dict[str, Model], providers: dict[str, Provider],
                 settings: GenerationSettings, *, streams: Streams, runner: Runner,
                 personalize: prompts.Personalizer, files: Files, limits: Limits) -> None:
        self.db = db
        self.events = events
        self.stops = stops
        self.chats = chats
        self.ledger = ledger
        self.models = models
        self.providers = providers
        self.settings = settings
        self.streams = streams
        self.runner = runner
        self.personalize = personalize
        self.files = files
        self.limits = limits

    # -- what clients can pick --

    def available_models(self) -> dict[str, Any]:
        listed = [dict(m.public(), default=m.id == self.settings.default_model)
                  for m in self.models.values() if m.provider in self.providers]
        return {"models": listed, "next_cursor": None}

    def _model(self, model_id: str | None, *fallbacks: str | None) -> Model:
        chosen = next((m for m in (model_id, *fallbacks) if m), self.settings.default_model)
        model = self.models.get(chosen)
        if model is None:
            raise BadRequest(f"unknown model {chosen!r}; models.list names the available ones",
                             field="model")
        if model.provider not in self.providers:
            raise ProviderUnavailable(f"model {chosen} needs the {model.provider} provider, "
                                      "which is not configured on this server")
        return model

    # -- starting replies --

    async def send(self, user_id: str, chat_id: str, content: str, model: str | None = None,
                   client_msg_id: str | None = None,
                   file_ids: list[str] | None = None) -> dict[str, Any]:
        """A new user message at the end of the active branch, and a reply to it."""
        started = await self.send_streaming(user_id, chat_id, content, model, client_msg_id,
                                            file_ids, listen=False)
        return started.answer

    async def send_streaming(self, user_id: str, chat_id: str, content: str,
                             model: str | None = None, client_msg_id: str | None = None,
                             file_ids: list[str] | None = None, *,
                             listen: bool = True) -> Started:
        """`send`, answering also the reply's events for the caller to consume (`listen`)."""
        # What a new turn reads, together where round trips overlap (PostgreSQL), in turn where
        # they take microseconds on the loop's thread (SQLite's `quick`). The thread is filtered
        # by owner: nothing foreign is read even before the chat's check has answered.
        reads = [self._open_chat(user_id, chat_id),
                 message_rows.thread(self.db.quick, chat_id, user_id), self.personalize(user_id)]
        if client_msg_id:
            reads.append(message_rows.by_client_msg_id(self.db.quick, user_id, client_msg_id))
        chat, rows, profile, *earlier = await self.db.quick.settled(reads)
        if earlier and isinstance(earlier[0], dict):  # a retry: the first answer, whatever came since
            return Started(await self._duplicate(chat_id, earlier[0]))
        for result in (chat, rows, profile, *earlier):
            if isinstance(result, BaseException):
                raise result
        chosen = self._model(model, chat["model"])
        prompts.check_fits(chosen, content)
        files = await self._attachable(user_id, file_ids or [], chosen)
        claim = await self._check_capacity(user_id)
        try:
            tree = Tree.of(rows)
            path = tree.active_path(chat["current_message_id"])
            turn = await self._turn(chat, tree, rows, chosen, path, content, files,
                                    profile if chat.get("personalize") else None)
            try:
                return await self._new_user_turn(user_id, turn, content, client_msg_id, listen,
                                                 claim)
            except IntegrityError:  # the same client_msg_id raced in, or another reply did
                earlier = await self._earlier_send(user_id, chat_id, client_msg_id or "")
                if earlier is None:
                    raise busy() from None
                return Started(earlier)
        finally:
            await claim.release()  # a no-op once the reply started

    async def edit(self, user_id: str, message_id: str, content: str,
                   model: str | None = None) -> dict[str, Any]:
        """A new user message beside `message_id` (same parent), then a reply to it."""
        return (await self.edit_streaming(user_id, message_id, content, model, listen=False)).answer

    async def edit_streaming(self, user_id: str, message_id: str, content: str,
                             model: str | None = None, *, listen: bool = True) -> Started:
        old = await self._message(user_id, message_id)
        if old["role"] != "user":
            raise BadRequest("only a user message can be edited", field="message_id")
        chat = await self._open_chat(user_id, old["chat_id"])
        chosen = self._model(model, chat["model"])
        prompts.check_fits(chosen, content)
        kept_files = [f["id"] for f in (await file_rows.attached(self.db, [old["id"]])).get(old["id"], [])]
        files = await self._attachable(user_id, kept_files, chosen)
        claim = await self._check_capacity(user_id)
        try:
            rows = await message_rows.thread(self.db, old["chat_id"], user_id)
            tree = Tree.of(rows)
            path = tree.path_to(old["parent_id"]) if old["parent_id"] else []
            turn = await self._turn(chat, tree, rows, chosen, path, content, files,
                                    await self._personal(user_id, chat))
            try:
                return await self._new_user_turn(user_id, turn, content, None, listen, claim)
            except IntegrityError:  # another reply started in this chat meanwhile
                raise busy() from None
        finally:
            await claim.release()

    async def regenerate(self, user_id: str, message_id: str,
                         model: str | None = None) -> dict[str, Any]:
        """A new reply to the same user message, as a sibling of `message_id` — or, given a
        user message (one kept unanswered when credits ran short), a reply to it."""
        return (await self.regenerate_streaming(user_id, message_id, model, listen=False)).answer

    async def regenerate_streaming(self, user_id: str, message_id: str, model: str | None = None,
                                   *, listen: bool = True) -> Started:
        old = await self._message(user_id, message_id)
        answered_id = old["id"] if old["role"] == "user" else old["parent_id"]
        if old["role"] not in ("user", "assistant") or not answered_id:
            raise BadRequest("this message has no user message to answer", field="message_id")
        chat = await self._open_chat(user_id, old["chat_id"])
        chosen = self._model(model, old["model"], chat["model"])
        claim = await self._check_capacity(user_id)
        try:
            rows = await message_rows.thread(self.db, old["chat_id"], user_id)
            tree = Tree.of(rows)
            turn = await self._turn(chat, tree, rows, chosen, tree.path_to(answered_id),
                                    None, [], await self._personal(user_id, chat))
            answered = old if old["role"] == "user" else await self._message(user_id, answered_id)
            reply_id = new_id()
            try:
                async with self.db.transaction() as tx:
                    await check_not_streaming(tx, chat["id"])
                    account = await self.ledger.reserve(tx, user_id, reply_id, turn.hold)
                    if account is None:
                        available = (await self.ledger.balance(user_id))["available"]
                        raise self._short(turn.hold, available)
                    reply = await self._insert_reply(tx, user_id, chat["id"], answered["id"],
                                                     chosen, reply_id, utcnow())
            except IntegrityError:  # another reply started in this chat meanwhile
                raise busy() from None
            return await self._start(user_id, turn, answered, reply, account,
                                     new_user_message=False, listen=listen, claim=claim)
        finally:
            await claim.release()

    async def _turn(self, chat: dict[str, Any], tree: Tree, rows: list[dict[str, Any]],
                    model: Model, path: list[str], content: str | None,
                    files: list[dict[str, Any]], personal: str | None) -> Turn:
        """The exact request the model will get, and its worst-case cost, before anything is stored.

        `rows` is the chat's thread (`message_rows.thread`): the branch's text is already there, and
        attachments are read only when a message on the branch has some.
        """
        by_id = {row["id"]: row for row in rows}
        branch = [by_id[i] for i in path if i in by_id]
        with_files = [row["id"] for row in branch if row["has_files"]]
        attached = await self.files.attachments(with_files) if with_files else {}
        history = [{**row, "attachments": attached.get(row["id"])} for row in branch]
        new_files = await self.files.load(files) if files else []
        if content is not None:
            history.append({"role": "user", "content": content, "status": "complete",
                            "attachments": new_files})
        system = prompts.system_prompt(chat.get("system_prompt"), chat.get("folder_instructions"),
                                       personal)
        request = prompts.build_request(model, history, system)
        return Turn(chat, tree, model, path[-1] if path else None, request, worst_case(model, request),
                    files)

    async def _new_user_turn(self, user_id: str, turn: Turn, content: str,
                             client_msg_id: str | None, listen: bool, claim: Claim) -> Started:
        """Store the user's message; reserve and create the reply if the credits cover it.

        Without enough credits the user's message is still kept (it is theirs), no reply is
        created, nothing reaches the provider, and the answer is `insufficient_balance`.
        """
        chat_id, user_msg_id, reply_id, now = turn.chat["id"], new_id(), new_id(), utcnow()
        async with self.db.quick.transaction() as tx:
            # The hold first (it names the reply, which is not a foreign key), so that both
            # messages are written by one statement when the credits cover the reply. A reply
            # still streaming in the chat refuses this one (`busy`): the unique index on a chat's
            # streaming reply does, when the new reply is written (the caller maps the
            # IntegrityError); when there is no new reply, or a cap refuses it, the check is made
            # here, first, as it always was — one statement fewer for every send that starts.
            try:
                account = await self.ledger.reserve(tx, user_id, reply_id, turn.hold)
            except SpendCapReached:
                await check_not_streaming(tx, chat_id)
                raise
            if account is None:
                await check_not_streaming(tx, chat_id)
            user_msg, reply = await message_rows.insert_turn(
                tx, chat_id=chat_id, user_id=user_id, now=now,
                user={"id": user_msg_id, "parent_id": turn.parent_id, "role": "user",
                      "content": content, "model": None, "status": "complete",
                      "client_msg_id": client_msg_id, "instance": None},
                reply=None if account is None else {
                    "id": reply_id, "parent_id": user_msg_id, "role": "assistant", "content": "",
                    "model": turn.model.id, "status": "streaming", "client_msg_id": None,
                    "instance": self.settings.instance_id})
            await file_rows.attach(tx, user_msg_id, [f["id"] for f in turn.files])
            await chat_rows.touch(tx, chat_id, now,
                                  current_message_id=reply_id if reply is not None else user_msg_id)
        user_msg["files"] = shapes.attachments(turn.files)
        if reply is None:
            turn.tree.add(user_msg["id"], user_msg["parent_id"])
            shaped = shapes.message(user_msg, turn.tree.siblings(user_msg["id"]))
            self.events.publish_nowait(user_id, "message.created", {
                "chat_id": chat_id, "message_id": shaped["id"], "message": shaped})
            chat = {**turn.chat, "updated_at": now, "current_message_id": user_msg["id"]}
            await self.events.publish(user_id, "chat.updated", {"chat_id": chat_id, "chat": chat})
            available = (await self.ledger.balance(user_id))["available"]
            raise self._short(turn.hold, available, message_id=user_msg["id"])
        return await self._start(user_id, turn, user_msg, reply, account, new_user_message=True,
                                 listen=listen, claim=claim)

    @staticmethod
    def _short(needed: int, available: int, **extra: Any) -> InsufficientBalance:
        return InsufficientBalance(
            f"this reply may cost up to {shapes.credits(needed)} credits and "
            f"{shapes.credits(available)} are available",
            needed=needed, available=available, **extra)

    async def _personal(self, user_id: str, chat: dict[str, Any]) -> str | None:
        """The profile's part of the system prompt, for a chat that wants it."""
        return await self.personalize(user_id) if chat.get("personalize") else None

    async def _earlier_send(self, user_id: str, chat_id: str,
                            client_msg_id: str) -> dict[str, Any] | None:
        user_msg = await message_rows.by_client_msg_id(self.db, user_id, client_msg_id)
        return await self._duplicate(chat_id, user_msg) if user_msg is not None else None

    async def _duplicate(self, chat_id: str, user_msg: dict[str, Any]) -> dict[str, Any]:
        """The answer a send first got, for its retry (same `client_msg_id`)."""
        if user_msg["chat_id"] != chat_id:
            raise Conflict("client_msg_id was already used for a message in another chat",
                           field="client_msg_id")
        reply = await message_rows.first_child(self.db, user_msg["id"])
        linked = await file_rows.attached(self.db, [user_msg["id"]])
        user_msg["files"] = shapes.attachments(linked.get(user_msg["id"], []))
        return {"message": shapes.message(user_msg),
                "assistant_message": shapes.message(reply) if reply else None,
                "duplicate": True}

    async def _open_chat(self, user_id: str, chat_id: str) -> dict[str, Any]:
        chat = await self.chats.for_turn(user_id, chat_id)
        if chat["deleted_at"] is not None:
            raise Conflict("the chat is in the trash; restore it first", chat_id=chat_id)
        return chat

    async def _message(self, user_id: str, message_id: str) -> dict[str, Any]:
        row = await message_rows.get(self.db, user_id, message_id)
        if row is None:
            raise NotFound(f"message {message_id} does not exist", message_id=message_id)
        return row

    async def _attachable(self, user_id: str, file_ids: list[str],
                          model: Model) -> list[dict[str, Any]]:
        """The files to attach, read once: checked here, then sent, linked and summarised."""
        if not file_ids:
            return []
        return await self.files.attachable(user_id, file_ids, model)

    async def _check_capacity(self, user_id: str) -> Claim:
        """A reply slot for the user; the caller releases it unless the reply started."""
        self.streams.check_accepting()
        await self.limits.send(user_id)
        return await self.streams.claim(user_id)

    async def _insert_reply(self, tx: Any, user_id: str, chat_id: str, parent_id: str, model: Model,
                            reply_id: str, now: str) -> dict[str, Any]:
        reply = await message_rows.insert(
            tx, id=reply_id, chat_id=chat_id, user_id=user_id, parent_id=parent_id,
            role="assistant", content="", model=model.id, status="streaming", client_msg_id=None,
            now=now, instance=self.settings.instance_id)
        await chat_rows.touch(tx, chat_id, now, current_message_id=reply["id"])
        return reply

    async def _start(self, user_id: str, turn: Turn, user_msg: dict, reply: dict, account: dict, *,
                     new_user_message: bool, listen: bool, claim: Claim) -> Started:
        """Start streaming the new turn's reply, then announce the turn and the credits it holds.

        The provider is asked first: the reply's task runs up to its first wait (the request on
        the wire) before the turn's events are written, so their writes — and, with Redis, their
        round trips — overlap the model's think time instead of preceding it. The task holds its
        first event until `announced`, so clients still see the messages created before any
        delta. The tree was read before the insert; the new rows are added to it here.
        """
        chat_id, tree = turn.chat["id"], turn.tree
        # An untitled chat is named after its first message once this reply is done.
        first = None if turn.chat.get("title") else next(
            (m.content for m in turn.request.messages if m.role == "user"), None)
        job = Job(user_id, chat_id, reply["id"], turn.model, title_from=first)
        events = job.listen() if listen else None  # before the task runs: nothing is missed
        self.streams.start(job, self.runner.run(job, self.providers[turn.model.provider],
                                                turn.request), claim)
        try:  # `announced` is set however this ends, or the reply's task would wait for ever
            await asyncio.sleep(0)
            if new_user_message:
                tree.add(user_msg["id"], user_msg["parent_id"])
            tree.add(reply["id"], reply["parent_id"])
            shaped_user = shapes.message(user_msg, tree.siblings(user_msg["id"]))
            shaped_reply = shapes.message(reply, tree.siblings(reply["id"]))
            chat = {**turn.chat, "updated_at": reply["created_at"], "current_message_id": reply["id"]}
            # One batch, awaited once (the last): with Redis one script call and one message for
            # the four, where awaiting each cost a round trip before the reply's first token.
            for message in (shaped_user, shaped_reply):
                self.events.publish_nowait(user_id, "message.created", {
                    "chat_id": chat_id, "message_id": message["id"], "message": message})
            self.events.publish_nowait(user_id, "chat.updated", {"chat_id": chat_id, "chat": chat})
            await self.ledger.announce(user_id, account)
        finally:
            job.announced.set()
        return Started({"message": shaped_user, "assistant_message": shaped_reply}, events)

    # -- controlling replies --

    async def stop(self, user_id: str, message_id: str) -> dict[str, Any]:
        """Stop a reply wherever it runs: here, or on the instance that started it."""
        row = await self._message(user_id, message_id)  # ownership: someone else's is not_found
        if not await self.streams.stop(message_id) and row["status"] == "streaming":
            instance = await message_rows.generating_instance(self.db, message_id)
            if instance is not None:
                await self.stops.signal_stop(instance, message_id)
                await self._until_over(message_id)
        final = await self._message(user_id, message_id)
        return {"message": shapes.message(final)}

    async def _until_over(self, message_id: str, timeout_s: float = 10.0) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout_s
        while await message_rows.generating_instance(self.db, message_id) is not None:
            if loop.time() > deadline:
                raise Unavailable("the server generating this reply did not answer; if it is "
                                  "gone, the reply is marked interrupted shortly", message_id=message_id)
            await asyncio.sleep(0.05)

