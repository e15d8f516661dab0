"""Share links: anyone with the link reads a snapshot of a chat's active branch, frozen when it
was shared — no sign-in, nothing of the owner (no email, no name), no attachments.

The id is the only secret: 176 random bits (`secrets.token_urlsafe(22)`), so links cannot be
guessed or enumerated; a revoked or unknown one is `not_found` alike. Trashing the chat revokes
its links (`Chats`), purging deletes them. A signed-in reader may copy the snapshot into a chat
of their own (`continue_`): their copy starts where the snapshot ends, costs nothing, and is
theirs alone.
"""
from __future__ import annotations

import secrets
from typing import Any

from protocol.errors import BadRequest, NotFound
from storage import Database, new_id, utcnow
from storage import chats as chat_rows
from storage import messages as message_rows
from storage import shares as share_rows

from .branches import Tree
from .events import EventSink

SHARED_STATUSES = ("complete", "stopped", "interrupted")  # not a reply in flight, nor an error


def shaped(row: dict[str, Any]) -> dict[str, Any]:
    """A share as its owner sees it; `url` is the public page's path, on this server's origin."""
    return {"id": row["id"], "url": f"/s/{row['id']}", "chat_id": row["chat_id"],
            "title": row["title"], "message_count": row["message_count"],
            "created_at": row["created_at"]}


class Shares:
    def __init__(self, db: Database, events: EventSink) -> None:
        self.db = db
        self.events = events

    async def share(self, user_id: str, chat_id: str) -> dict[str, Any]:
        chat = await chat_rows.get(self.db, user_id, chat_id)
        if chat is None:
            raise NotFound(f"chat {chat_id} does not exist", chat_id=chat_id)
        if chat["deleted_at"] is not None:
            raise BadRequest("the chat is in the trash; restore it to share it", chat_id=chat_id)
        rows = await message_rows.thread(self.db, chat_id, user_id)
        by_id = {row["id"]: row for row in rows}
        branch = [by_id[i] for i in Tree.of(rows).active_path(chat["current_message_id"])
                  if i in by_id]
        messages = [{"role": row["role"], "content": row["content"], "model": row["model"],
                     "created_at": row["created_at"]}
                    for row in branch if row["role"] in ("user", "assistant") and row["content"]
                    and row["status"] in SHARED_STATUSES]
        if not messages:
            raise BadRequest("the chat has no messages to share yet", chat_id=chat_id)
        row = await share_rows.insert(self.db, id=secrets.token_urlsafe(22), user_id=user_id,
                                      chat_id=chat_id, title=chat["title"], messages=messages,
                                      now=utcnow())
        share = shaped(row)
        await self.events.publish(user_id, "share.created", {"share": share})
        return {"share": share}

    async def unshare(self, user_id: str, share_id: str) -> dict[str, Any]:
        if await share_rows.revoke(self.db, user_id, share_id, utcnow()) is None:
            raise NotFound(f"share {share_id} does not exist", share_id=share_id)
        await self.events.publish(user_id, "share.revoked", {"share_id": share_id})
        return {"share_id": share_id, "revoked": True}

    async def list(self, user_id: str) -> dict[str, Any]:
        return {"shares": [shaped(row) for row in await share_rows.list_live(self.db, user_id)]}

    async def public(self, share_id: str) -> dict[str, Any]:
        """What the link shows anyone: the title, when it was shared, the messages."""
        found = await share_rows.live(self.db, share_id)
        if found is None:
            raise NotFound("this shared chat does not exist or is no longer shared")
        row, messages = found
        return {"share": {"id": row["id"], "title": row["title"], "created_at": row["created_at"]},
                "messages": messages}

    async def continue_(self, user_id: str, share_id: str) -> dict[str, Any]:
        """A new chat of `user_id`'s holding the snapshot's messages (one branch), to go on with."""
        snapshot = await self.public(share_id)
        now, parent = utcnow(), None
        async with self.db.transaction() as tx:
            chat = await chat_rows.insert(tx, id=new_id(), user_id=user_id,
                                          title=snapshot["share"]["title"], favorite=False,
                                          model=None, system_prompt=None, tags=[], now=now)
            for message in snapshot["messages"]:
                row = await message_rows.insert(
                    tx, id=new_id(), chat_id=chat["id"], user_id=user_id, parent_id=parent,
                    role=message["role"], content=message["content"], model=message["model"],
                    status="complete", client_msg_id=None, now=utcnow())
                parent = row["id"]
            await chat_rows.set_current(tx, user_id, chat["id"], parent)
            chat = await chat_rows.get(tx, user_id, chat["id"])
        assert chat is not None
        await self.events.publish(user_id, "chat.created", {"chat_id": chat["id"], "chat": chat})
        return {"chat": chat}
