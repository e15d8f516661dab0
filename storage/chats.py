"""chats and chat_tags: a user's conversations, their tags, trash and newest-activity paging."""
from __future__ import annotations

from typing import Any

import orjson

from protocol.text import clean

from . import search
from .base import Executor, Row

COLUMNS = ("id", "title", "favorite", "model", "system_prompt", "personalize", "folder_id",
           "current_message_id", "deleted_at", "created_at", "updated_at")
SELECT = ", ".join(f"c.{col}" for col in COLUMNS)
UPDATABLE = frozenset({"title", "favorite", "model", "system_prompt", "personalize", "folder_id"})


# A chat's tags in order, as a JSON array in a column of the chat's own row: one query where a
# second one (per chat, or per page) cost a round trip on every message sent (bench/relay.py).
TAGS = {
    "sqlite": """(SELECT json_group_array(tag) FROM (
                     SELECT t.tag FROM chat_tags t WHERE t.chat_id = c.id ORDER BY t.position)
                 ) AS tags_json""",
    "postgresql": """(SELECT COALESCE(json_agg(t.tag ORDER BY t.position), '[]'::json)::text
                     FROM chat_tags t WHERE t.chat_id = c.id) AS tags_json""",
}


def _shape(row: Row) -> Row:
    row["favorite"] = bool(row["favorite"])
    row["personalize"] = bool(row["personalize"])
    row["tags"] = orjson.loads(row.pop("tags_json") or "[]")
    return row


async def insert(db: Executor, *, id: str, user_id: str, title: str, favorite: bool,
                 model: str | None, system_prompt: str | None, tags: list[str], now: str) -> Row:
    """A new chat, answered as `get` would answer it: the row from the insert's own RETURNING
    and the tags as stored (`bound` cleans every text it writes). A new id has no tags to
    replace, and reading it back cost two statements of every chat a burst of users creates."""
    row = await db.fetchone(
        f"""INSERT INTO chats (id, user_id, title, favorite, model, system_prompt, created_at,
                              updated_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING {", ".join(COLUMNS)}""",
        (id, user_id, title, favorite, model, system_prompt, now, now),
    )
    assert row is not None
    await _insert_tags(db, id, user_id, tags)
    return {**_shape({**row, "tags_json": None}), "tags": [clean(tag) for tag in tags]}


async def insert_imported(db: Executor, *, id: str, user_id: str, chat: dict[str, Any]) -> None:
    """A chat brought in by an import, with its own times and active branch; `chat` gives title,
    favorite, model, system_prompt, personalize, current_message_id, created_at, updated_at, tags."""
    await db.execute(
        """INSERT INTO chats (id, user_id, title, favorite, model, system_prompt, personalize,
                              current_message_id, created_at, updated_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
        (id, user_id, chat["title"], chat["favorite"], chat["model"], chat["system_prompt"],
         chat["personalize"], chat["current_message_id"], chat["created_at"], chat["updated_at"]))
    await replace_tags(db, id, user_id, chat["tags"])


async def get(db: Executor, user_id: str, chat_id: str) -> Row | None:
    """The chat if `user_id` owns it (trashed or not); None for missing and foreign alike."""
    row = await db.fetchone(
        f"SELECT {SELECT}, {TAGS[db.dialect]} FROM chats c WHERE c.id = ? AND c.user_id = ?",
        (chat_id, user_id))
    return _shape(row) if row is not None else None


async def get_for_turn(db: Executor, user_id: str, chat_id: str) -> Row | None:
    """`get`, with the instructions of the chat's folder (`folder_instructions`) in the same read:
    a turn's system prompt needs them, and a second query would be a round trip on every send."""
    row = await db.fetchone(
        f"""SELECT {SELECT}, {TAGS[db.dialect]},
                   (SELECT f.instructions FROM folders f WHERE f.id = c.folder_id)
                       AS folder_instructions
            FROM chats c WHERE c.id = ? AND c.user_id = ?""",
        (chat_id, user_id))
    return _shape(row) if row is not None else None


async def update(db: Executor, user_id: str, chat_id: str, changes: dict[str, Any], now: str) -> bool:
    fields = [k for k in changes if k in UPDATABLE]
    assignments = "".join(f"{k} = ?, " for k in fields)
    changed = await db.execute(
        f"UPDATE chats SET {assignments}updated_at = ? WHERE id = ? AND user_id = ?",
        (*(changes[k] for k in fields), now, chat_id, user_id),
    )
    return changed == 1


async def set_title_if_untitled(db: Executor, user_id: str, chat_id: str, title: str,
                                now: str) -> bool:
    """The server's title for a chat nobody has named; False if it has a title already."""
    changed = await db.execute(
        "UPDATE chats SET title = ?, updated_at = ? WHERE id = ? AND user_id = ? AND title = ''",
        (title, now, chat_id, user_id))
    return changed == 1


async def set_deleted(db: Executor, user_id: str, chat_id: str, deleted_at: str | None,
                      now: str) -> bool:
    """Move to trash (a timestamp) or back out of it (None); False if it was already there."""
    state = "deleted_at IS NULL" if deleted_at is not None else "deleted_at IS NOT NULL"
    changed = await db.execute(
        f"""UPDATE chats SET deleted_at = ?, updated_at = ?
            WHERE id = ? AND user_id = ? AND {state}""",
        (deleted_at, now, chat_id, user_id),
    )
    return changed == 1


async def purge(db: Executor, user_id: str, chat_id: str) -> bool:
    """Delete a trashed chat for good (messages, tags and attachments links cascade)."""
    changed = await db.execute(
        "DELETE FROM chats WHERE id = ? AND user_id = ? AND deleted_at IS NOT NULL",
        (chat_id, user_id),
    )
    return changed == 1


async def has_streaming(db: Executor, chat_id: str) -> bool:
    row = await db.fetchone(
        "SELECT 1 AS streaming FROM messages WHERE chat_id = ? AND status = 'streaming' LIMIT 1",
        (chat_id,))
    return row is not None


async def touch(db: Executor, chat_id: str, now: str, current_message_id: str | None = None) -> None:
    """New activity: move the chat up the list (and, given a message, make its branch current)."""
    if current_message_id is None:
        await db.write("UPDATE chats SET updated_at = ? WHERE id = ?", (now, chat_id))
    else:
        await db.write("UPDATE chats SET updated_at = ?, current_message_id = ? WHERE id = ?",
                         (now, current_message_id, chat_id))


async def set_current(db: Executor, user_id: str, chat_id: str, message_id: str | None) -> None:
    """Make the branch ending at `message_id` the chat's active one (switching branches)."""
    await db.execute("UPDATE chats SET current_message_id = ? WHERE id = ? AND user_id = ?",
                     (message_id, chat_id, user_id))


async def replace_tags(db: Executor, chat_id: str, user_id: str, tags: list[str]) -> None:
    await db.execute("DELETE FROM chat_tags WHERE chat_id = ?", (chat_id,))
    await _insert_tags(db, chat_id, user_id, tags)


async def _insert_tags(db: Executor, chat_id: str, user_id: str, tags: list[str]) -> None:
    for position, tag in enumerate(tags):
        await db.write(
            "INSERT INTO chat_tags (chat_id, user_id, tag, position) VALUES (?, ?, ?, ?)",
            (chat_id, user_id, tag, position),
        )


TOP_LEVEL = object()  # list_page's `folder` for chats in no folder


async def list_page(db: Executor, user_id: str, *, trashed: bool, favorite: bool | None,
                    tag: str | None, q: str | None, after: tuple[str, str] | None,
                    limit: int, folder: Any = None) -> list[Row]:
    """One page, newest activity first; `after` is the (updated_at, id) of the previous page's last row.

    `folder`: None for chats anywhere, a folder id for that folder's, TOP_LEVEL for those in none.
    """
    where = ["c.user_id = ?", "c.deleted_at IS NOT NULL" if trashed else "c.deleted_at IS NULL"]
    params: list[Any] = [user_id]
    if folder is TOP_LEVEL:
        where.append("c.folder_id IS NULL")
    elif folder is not None:
        where.append("c.folder_id = ?")
        params.append(folder)
    if favorite is not None:
        where.append("c.favorite = ?")
        params.append(favorite)
    if tag:
        where.append("EXISTS (SELECT 1 FROM chat_tags t WHERE t.chat_id = c.id AND t.tag = ?)")
        params.append(tag)
    terms = search.words(q)
    if terms:
        where.append(search.chat_match_clause(db.dialect))
        param = search.query_param(db.dialect, terms)
        params += [param, param]
    if after is not None:
        where.append("(c.updated_at < ? OR (c.updated_at = ? AND c.id < ?))")
        params += [after[0], after[0], after[1]]
    rows = await db.fetchall(
        f"""SELECT {SELECT}, {TAGS[db.dialect]} FROM chats c WHERE {' AND '.join(where)}
            ORDER BY c.updated_at DESC, c.id DESC LIMIT ?""",
        (*params, limit),
    )
    return [_shape(r) for r in rows]


async def first_matching_messages(db: Executor, chat_ids: list[str], q: str | None) -> dict[str, str]:
    """Per chat, the text of its oldest message matching `q` (a search result's snippet comes
    from it), in one statement for a whole page of chats."""
    terms = search.words(q)
    if not terms or not chat_ids:
        return {}
    marks = ", ".join("?" for _ in chat_ids)
    rows = await db.fetchall(
        f"""SELECT chat_id, content FROM (
                SELECT m.chat_id, m.content, ROW_NUMBER() OVER (
                    PARTITION BY m.chat_id ORDER BY m.created_at, m.id) AS n
                FROM messages m
                WHERE m.chat_id IN ({marks}) AND {search.message_match(db.dialect)}) AS found
            WHERE n = 1""",
        (*chat_ids, search.query_param(db.dialect, terms)))
    return {row["chat_id"]: row["content"] for row in rows}


async def ids_page(db: Executor, user_id: str, *, after: str | None, limit: int) -> list[str]:
    """The user's chat ids, trashed ones too, in id order from after `after`: a walk over every
    chat (the data export) that holds one page at a time."""
    rows = await db.fetchall(
        "SELECT id FROM chats WHERE user_id = ? AND id > ? ORDER BY id LIMIT ?",
        (user_id, after or "", limit))
    return [row["id"] for row in rows]
