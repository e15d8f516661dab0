"""Reading a chat's history: newest page first, each page in reading order, older pages by cursor."""
from server.web.state import CONTEXT
from storage import messages, new_id
from storage.base import iso


async def add_messages(client, user, chat_id, n):
    from datetime import datetime, timedelta, timezone
    start = datetime(2026, 1, 1, tzinfo=timezone.utc)
    ids = []
    for i in range(n):
        row = await messages.insert(
            client.app[CONTEXT].services.db, id=new_id(), chat_id=chat_id, user_id=user["user"]["id"],
            parent_id=ids[-1] if ids else None, role="user" if i % 2 == 0 else "assistant",
            content=f"message {i}", model=None, status="complete", client_msg_id=None,
            now=iso(start + timedelta(seconds=i)))
        ids.append(row["id"])
    return ids


async def test_history_pages_back_from_the_newest(client, alice, connect):
    sock = await connect(alice)
    chat = await sock.ok("chat.create", title="long talk")
    ids = await add_messages(client, alice, chat["id"], 7)
    page = await sock.ok("message.list", chat_id=chat["id"], limit=3)
    assert [m["id"] for m in page["messages"]] == ids[4:7]
    assert page["messages"][0]["content"] == "message 4"
    assert {"role", "status", "parent_id", "prompt_tokens", "cost"} <= set(page["messages"][0])
    page = await sock.ok("message.list", chat_id=chat["id"], limit=3, cursor=page["next_cursor"])
    assert [m["id"] for m in page["messages"]] == ids[1:4]
    page = await sock.ok("message.list", chat_id=chat["id"], limit=3, cursor=page["next_cursor"])
    assert [m["id"] for m in page["messages"]] == ids[0:1] and page["next_cursor"] is None


async def test_an_empty_chat_has_an_empty_history(client, alice, connect):
    sock = await connect(alice)
    chat = await sock.ok("chat.create")
    assert await sock.ok("message.list", chat_id=chat["id"]) == {"messages": [],
                                                                  "next_cursor": None}


async def test_purging_a_chat_removes_its_messages(client, alice, connect):
    sock = await connect(alice)
    chat = await sock.ok("chat.create")
    await add_messages(client, alice, chat["id"], 3)
    await sock.ok("chat.delete", chat_id=chat["id"])
    await sock.ok("chat.purge", chat_id=chat["id"])
    db = client.app[CONTEXT].services.db
    assert await db.fetchval("SELECT COUNT(*) AS n FROM messages WHERE chat_id = ?",
                             (chat["id"],)) == 0
