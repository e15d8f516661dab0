"""Load worker: simulated users on Chatwire, each checking what it receives. Run by bench/soak.py
and bench/scaling.py, several at once, in processes of their own (so their CPU is not the server's).

Each user signs up, opens one socket, makes a chat, then until the deadline: sends a message,
rebuilds the streamed reply from its deltas, and (with --drop) sometimes cuts its socket mid-reply
and reconnects — to a random instance — with `?last_seq=N`. It checks every event's `seq` (no gap,
no duplicate across reconnects) and each delta's `index`, and at the end compares every rebuilt
reply with the stored message. Prints one JSON line of counts and latencies.

    python bench/load_clients.py --urls http://127.0.0.1:8080 --users 100 --seconds 60
"""
from __future__ import annotations

import argparse
import asyncio
import json
import random
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.common import refresh_tokens, register_tokens  # noqa: E402

WORDS = ("привет мир stream token reply ledger socket resume кредиты сообщение ответ chat "
         "model delta seq order exact once instance redis postgres").split()


@dataclass
class Totals:
    users: int = 0
    messages: int = 0
    replies_done: int = 0
    events: int = 0
    gaps: int = 0
    duplicates: int = 0
    bad_delta_index: int = 0
    mismatched_replies: int = 0
    unfinished_replies: int = 0
    drops: int = 0
    resyncs: int = 0
    errors: list[str] = field(default_factory=list)
    latencies_ms: list[float] = field(default_factory=list)  # send → message.done
    ttft_ms: list[float] = field(default_factory=list)  # send → first delta


class User:
    def __init__(self, session: aiohttp.ClientSession, urls: list[str], totals: Totals,
                 args: argparse.Namespace, index: int) -> None:
        self.session, self.urls, self.totals, self.args = session, urls, totals, args
        self.url = urls[index % len(urls)]
        self.token = ""
        self.refresh_token = ""
        self.token_renew_at = 0.0  # a minute before the access token expires
        self.ws: aiohttp.ClientWebSocketResponse | None = None
        self.last_seq = 0
        self.chats: list[str] = []  # every chat this user wrote in, the current one last
        self.pieces: dict[str, dict[int, str]] = {}  # message id -> index -> delta
        self.done: dict[str, float] = {}  # message id -> when message.done arrived
        self.first: dict[str, float] = {}
        self.rid = 0

    async def call(self, kind: str, **params) -> dict:
        self.rid += 1
        rid = str(self.rid)
        await self.ws.send_str(orjson.dumps({"type": kind, "id": rid, **params}).decode())
        while True:
            frame = await self.next_frame()
            if frame.get("type") == "reply" and frame.get("id") == rid:
                if not frame["ok"]:
                    raise RuntimeError(f"{kind}: {frame['error']}")
                return frame["data"]

    async def next_frame(self, timeout: float = 60) -> dict:
        msg = await self.ws.receive(timeout=timeout)
        if msg.type not in (aiohttp.WSMsgType.TEXT, aiohttp.WSMsgType.BINARY):
            raise ConnectionError(f"socket closed ({msg.type})")
        frame = orjson.loads(msg.data)
        self.observe(frame)
        return frame

    def observe(self, frame: dict) -> None:
        seq = frame.get("seq")
        if seq is not None:
            self.totals.events += 1
            if seq <= self.last_seq:
                self.totals.duplicates += 1
                return
            if seq != self.last_seq + 1:
                self.totals.gaps += 1
            self.last_seq = seq
        kind = frame.get("type")
        if kind == "message.delta":
            pieces = self.pieces.setdefault(frame["message_id"], {})
            if frame["index"] in pieces:
                self.totals.bad_delta_index += 1
            pieces[frame["index"]] = frame["delta"]
            self.first.setdefault(frame["message_id"], time.monotonic())
        elif kind in ("message.done", "message.error", "message.stopped", "message.interrupted"):
            self.done[frame["message_id"]] = time.monotonic()
            if kind != "message.done":
                self.totals.errors.append(f"{kind}: {frame.get('error')}")
        elif kind == "resync_required":
            self.totals.resyncs += 1

    def _keep(self, tokens: dict) -> None:
        self.token, self.refresh_token = tokens["access_token"], tokens["refresh_token"]
        self.token_renew_at = time.monotonic() + max(0, tokens["expires_in"] - 60)

    async def connect(self, resume: bool) -> None:
        # A socket is authorised when it opens; a reconnect needs a live token, so refresh as an
        # API client must (15-minute access tokens outlast short runs, not the soak; the web
        # client's session cookie is not bound to them).
        if time.monotonic() >= self.token_renew_at:
            self._keep(await refresh_tokens(self.session, self.url, self.refresh_token))
        query = f"?last_seq={self.last_seq}" if resume else ""
        self.ws = await self.session.ws_connect(f"{self.url}/ws{query}",
                                                headers={"Authorization": f"Bearer {self.token}"},
                                                heartbeat=None)
        hello = orjson.loads((await self.ws.receive(timeout=30)).data)
        if not resume:
            self.last_seq = hello["last_seq"]

    async def wait_done(self, message_id: str, deadline: float) -> None:
        while message_id not in self.done:
            await self.next_frame(timeout=max(1.0, deadline - time.monotonic()))

    async def run(self, until: float) -> None:
        self._keep(await register_tokens(self.session, self.url))
        self.totals.users += 1
        await self.connect(resume=False)
        await asyncio.sleep(random.uniform(0, self.args.think_max))  # spread the first sends
        sent_here = 0
        while time.monotonic() < until:
            if not self.chats or sent_here == self.args.turns_per_chat:  # a new conversation
                self.chats.append((await self.call("chat.create", title="load"))["id"])
                sent_here = 0
            sent_here += 1
            words = random.randint(self.args.words_min, self.args.words_max)
            content = " ".join(random.choice(WORDS) for _ in range(words))
            sent_at = time.monotonic()
            sent = await self.call("message.send", chat_id=self.chats[-1], content=content)
            self.totals.messages += 1
            reply_id = sent["assistant_message"]["id"]
            if self.args.drop and random.random() < self.args.drop:
                await asyncio.sleep(random.uniform(0, words / self.args.tokens_per_s))
                await self.ws.close()
                self.totals.drops += 1
                await asyncio.sleep(random.uniform(0, 0.5))
                self.url = random.choice(self.urls)
                await self.connect(resume=True)
            await self.wait_done(reply_id, time.monotonic() + 60 + words / self.args.tokens_per_s)
            self.totals.replies_done += 1
            self.totals.latencies_ms.append((self.done[reply_id] - sent_at) * 1000)
            if reply_id in self.first:
                self.totals.ttft_ms.append((self.first[reply_id] - sent_at) * 1000)
            think = random.uniform(self.args.think_min, self.args.think_max)
            await asyncio.sleep(think)

    async def verify(self) -> None:
        """Every rebuilt reply equals the stored message, text for text."""
        stored: dict[str, dict] = {}
        for chat_id in self.chats:
            cursor = None
            while True:
                params = {"chat_id": chat_id, "limit": 100}
                if cursor:
                    params["cursor"] = cursor
                page = await self.call("message.list", **params)
                stored.update({m["id"]: m for m in page["messages"] if m["role"] == "assistant"})
                cursor = page.get("next_cursor")
                if not cursor:
                    break
        for message_id, pieces in self.pieces.items():
            row = stored.get(message_id)
            text = "".join(pieces[i] for i in sorted(pieces))
            if sorted(pieces) != list(range(len(pieces))):
                self.totals.bad_delta_index += 1
            if row is None or row["content"] != text:
                self.totals.mismatched_replies += 1
        self.totals.unfinished_replies += sum(1 for m in stored.values() if m["status"] != "complete")
        await self.ws.close()


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--urls", required=True, help="comma-separated Chatwire base URLs")
    parser.add_argument("--users", type=int, default=100)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--think-min", type=float, default=5)
    parser.add_argument("--think-max", type=float, default=15)
    parser.add_argument("--words-min", type=int, default=20)
    parser.add_argument("--words-max", type=int, default=60)
    parser.add_argument("--tokens-per-s", type=float, default=30, help="the server's echo pace")
    parser.add_argument("--drop", type=float, default=0.0, help="chance to drop mid-reply")
    parser.add_argument("--turns-per-chat", type=int, default=10,
                        help="messages before the user starts a new chat (0: one chat throughout)")
    args = parser.parse_args()
    urls = args.urls.split(",")
    totals = Totals()
    until = time.monotonic() + args.seconds
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(connector=connector) as session:
        users = [User(session, urls, totals, args, i) for i in range(args.users)]

        async def lifetime(user: User) -> None:
            try:
                await user.run(until)
                await user.verify()
            except Exception as exc:  # noqa: BLE001 - counted and reported, not hidden
                totals.errors.append(f"{type(exc).__name__}: {exc}"[:300])

        await asyncio.gather(*(lifetime(u) for u in users))
    out = {k: v for k, v in totals.__dict__.items() if k not in ("latencies_ms", "ttft_ms")}
    out["error_count"] = len(totals.errors)
    out["errors"] = totals.errors[:5]
    out["latencies_ms"] = totals.latencies_ms
    out["ttft_ms"] = totals.ttft_ms
    sys.stdout.write(json.dumps(out) + "\n")


if __name__ == "__main__":
    asyncio.run(main())
