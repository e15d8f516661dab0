"""messages: the turns of a chat — a tree (edits and regenerations branch from a parent) with
status, usage and cost. The final write of a generation happens once: it only matches while the
row is still `streaming`."""
from __future__ import annotations

from typing import Any, Mapping

from .base import Executor, Row

COLUMNS = ("id", "chat_id", "parent_id", "role", "content", "model", "status", "error_code",
           "prompt_tokens", "completion_tokens", "cached_tokens", "cache_write_tokens",
           "reasoning_tokens", "cost", "client_msg_id", "created_at", "updated_at")
SELECT = ", ".join(COLUMNS)
TOKENS = ("prompt_tokens", "completion_tokens", "cached_tokens", "cache_write_tokens",
          "reasoning_tokens")  # a reply's usage: the totals, then the parts priced apart
DEFAULTS = {"error_code": None, "prompt_tokens": 0, "completion_tokens": 0, "cached_tokens": 0,
            "cache_write_tokens": 0, "reasoning_tokens": 0, "cost": 0}  # as the table's


async def insert(db: Executor, *, id: str, chat_id: str, user_id: str, parent_id: str | None,
                 role: str, content: str, model: str | None, status: str,
                 client_msg_id: str | None, now: str, instance: str | None = None) -> Row:
    row = await db.fetchone(
        f"""INSERT INTO messages (id, chat_id, user_id, parent_id, role, content, model, status,
                                  client_msg_id, generation_instance, created_at, updated_at)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING {SELECT}""",
        (id, chat_id, user_id, parent_id, role, content, model, status, client_msg_id, instance,
         now, now),
    )
    assert row is not None
    return row


async def insert_turn(db: Executor, *, chat_id: str, user_id: str, now: str,
                      user: dict[str, Any], reply: dict[str, Any] | None) -> tuple[Row, Row | None]:
    """A user message and (if its reply can start) the empty reply, in one statement.

    Each dict gives id, parent_id, role, content, model, status, client_msg_id and instance. The
    rows come back as the statement stores them (every other column at its default), built here
    rather than read back: without RETURNING it is a `write`, and in the send's transaction it
    travels with COMMIT. This runs for every message sent.
    """
    turn = [user] if reply is None else [user, reply]
    values = ", ".join("(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)" for _ in turn)
    params = [value for m in turn for value in (
        m["id"], chat_id, user_id, m["parent_id"], m["role"], m["content"], m["model"], m["status"],
        m["client_msg_id"], m["instance"], now, now)]
    await db.write(
        f"""INSERT INTO messages (id, chat_id, user_id, parent_id, role, content, model, status,
                                  client_msg_id, generation_instance, created_at, updated_at)
            VALUES {values}""", params)
    stored = [{**DEFAULTS, "id": m["id"], "chat_id": chat_id, "parent_id": m["parent_id"],
               "role": m["role"], "content": m["content"], "model": m["model"], "status": m["status"],
               "client_msg_id": m["client_msg_id"], "created_at": now, "updated_at": now}
              for m in turn]
    return stored[0], stored[1] if reply is not None else None


IMPORTED = ("id", "parent_id", "role", "content", "model", "status", "created_at")


async def insert_imported(db: Executor, *, chat_id: str, user_id: str,
                          rows: list[dict[str, Any]]) -> None:
    """An imported chat's messages (each dict gives IMPORTED), parents first, 500 to a statement;
    usage and cost stay at zero: nothing was generated, or charged, here."""
    for start in range(0, len(rows), 500):
        batch = rows[start:start + 500]
        values = ", ".join("(?, ?, ?, ?, ?, ?, ?, ?, ?, ?)" for _ in batch)
        await db.execute(
            f"""INSERT INTO messages (id, chat_id, user_id, parent_id, role, content, model, status,
                                      created_at, updated_at)
                VALUES {values}""",
            [value for m in batch for value in (
                m["id"], chat_id, user_id, m["parent_id"], m["role"], m["content"], m["model"],
                m["status"], m["created_at"], m["created_at"])])


async def generating_instance(db: Executor, message_id: str) -> str | None:
    """The instance running a reply that is still streaming; None once it is over."""
    return await db.fetchval(
        "SELECT generation_instance FROM messages WHERE id = ? AND status = 'streaming'",
        (message_id,))


async def get(db: Executor, user_id: str, message_id: str) -> Row | None:
    return await db.fetchone(f"SELECT {SELECT} FROM messages WHERE id = ? AND user_id = ?",
                             (message_id, user_id))


async def get_many(db: Executor, ids: list[str]) -> dict[str, Row]:
    if not ids:
        return {}
    marks = ", ".join("?" for _ in ids)
    rows = await db.fetchall(f"SELECT {SELECT} FROM messages WHERE id IN ({marks})", ids)
    return {r["id"]: r for r in rows}


async def by_client_msg_id(db: Executor, user_id: str, client_msg_id: str) -> Row | None:
    return await db.fetchone(
        f"SELECT {SELECT} FROM messages WHERE user_id = ? AND client_msg_id = ?",
        (user_id, client_msg_id))


async def first_child(db: Executor, parent_id: str) -> Row | None:
    return await db.fetchone(
        f"SELECT {SELECT} FROM messages WHERE parent_id = ? ORDER BY created_at, id LIMIT 1",
        (parent_id,))


async def thread(db: Executor, chat_id: str, user_id: str) -> list[Row]:
    """Every message of the chat with its text, oldest first, and whether files are attached
    (none if `user_id` does not own the chat).

    What a new turn needs in one read: the tree (to find the active branch) and the branch's text
    (the model's context), which is most of the chat anyway; attachments are read only for the
    messages that have some.
    """
    return await db.fetchall(
        f"""SELECT {SELECT}, EXISTS (SELECT 1 FROM message_files mf
                                     WHERE mf.message_id = messages.id) AS has_files
            FROM messages WHERE chat_id = ? AND user_id = ? ORDER BY created_at, id""", (chat_id, user_id))


async def tree(db: Executor, chat_id: str) -> list[Row]:
    """Every message's place in the chat's tree, oldest first, without the text."""
    return await db.fetchall(
        "SELECT id, parent_id FROM messages WHERE chat_id = ? ORDER BY created_at, id", (chat_id,))


async def save_progress(db: Executor, texts: list[tuple[str, str]], now: str) -> None:
    """Save the partial text of many streaming replies in one statement per batch.

    One write a second for every reply in flight, rather than one per reply: the statements per
    message stay constant however long the reply, and the database sees one round trip.
    """
    for start in range(0, len(texts), 200):
        batch = texts[start:start + 200]
        values = ", ".join("(?, ?)" for _ in batch)
        await db.execute(
            f"""UPDATE messages SET content = v.column2, updated_at = ?
                FROM (VALUES {values}) AS v
                WHERE messages.id = v.column1 AND messages.status = 'streaming'""",
            (now, *(item for pair in batch for item in pair)))


async def finish(db: Executor, message_id: str, *, status: str, content: str,
                 tokens: Mapping[str, int], cost: int, error_code: str | None,
                 now: str, first_token_ms: int | None = None) -> Row | None:
    """The one final write; None if the row had already left `streaming`. `tokens` has each of
    TOKENS; `first_token_ms`: how long the provider took to its first token (None: it sent none)."""
    return await db.fetchone(
        f"""UPDATE messages SET status = ?, content = ?, {", ".join(f"{t} = ?" for t in TOKENS)},
                                cost = ?, error_code = ?, updated_at = ?, first_token_ms = ?
            WHERE id = ? AND status = 'streaming' RETURNING {SELECT}""",
        (status, content, *(tokens[t] for t in TOKENS), cost, error_code, now, first_token_ms,
         message_id))


async def interrupt_orphans(db: Executor, *, instance: str | None, stale_before: str | None) -> list[Row]:
    """Mark `streaming` rows nobody is generating as `interrupted`, keeping their partial text.

    `instance`: rows this (restarted) instance had started; `stale_before`: rows whose last write
    is older than any live generation can be; both None: every streaming row (single instance).
    """
    where, params = "status = 'streaming'", []
    conditions = []
    if instance is not None:
        conditions.append("generation_instance = ?")
        params.append(instance)
    if stale_before is not None:
        conditions.append("updated_at < ?")
        params.append(stale_before)
    if conditions:
        where += f" AND ({' OR '.join(conditions)})"
    return await db.fetchall(
        f"""UPDATE messages SET status = 'interrupted', error_code = NULL
            WHERE {where} RETURNING id, user_id, chat_id""", params)
