"""Reading an import file: our own JSON export (`chatwire.chat/1`, one chat or a list of them) and
ChatGPT's `conversations.json` (a list of conversations, each a tree of nodes under `mapping`).

Pure: bytes in, plain chats out, and the whole file is checked before anything is stored, so a bad
file is refused with one `bad_request` that says which conversation, node and field is wrong. Each
chat keeps its tree: the messages come out parents first, each naming its parent by the source's
own key, and `current` is the key of the message the active branch ends at.

ChatGPT's trees hold nodes a reader never sees (the empty root, system prompts, tool calls and
their output, hidden context): they are skipped, and their children hang from the nearest visible
ancestor instead, so the tree stays connected.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

import orjson

from protocol.errors import BadRequest
from .exports import FORMAT

MAX_CHATS = 1000  # conversations in one import
MAX_NODES = 50_000  # messages (ChatGPT: mapping nodes, shown or not) in one import, all chats
TITLE_CHARS, MODEL_CHARS, TAGS, TAG_CHARS, PROMPT_CHARS = 200, 100, 20, 32, 20_000
STATUSES = ("complete", "stopped", "error", "interrupted")
SHOWN_CONTENT = ("text", "multimodal_text")
TICK = timedelta(microseconds=1)


@dataclass
class Message:
    key: str
    parent: str | None
    role: str
    content: str
    model: str | None
    status: str
    created_at: datetime


@dataclass
class Chat:
    title: str
    created_at: datetime
    updated_at: datetime
    messages: list[Message] = field(default_factory=list)
    current: str | None = None
    tags: list[str] = field(default_factory=list)
    favorite: bool = False
    model: str | None = None
    system_prompt: str | None = None
    personalize: bool = True
    ours: bool = False  # our own export: kept even with no messages (a chat set up, unused)


class Where:
    """Names the place a problem is, for the error: "conversation 2 ("Trip"), node abc: …"."""

    def __init__(self, index: int, title: Any = None) -> None:
        self.index, self.title = index, title

    def fail(self, problem: str, node: str | None = None, field_name: str | None = None) -> BadRequest:
        place = f"conversation {self.index}"
        if isinstance(self.title, str) and self.title:
            place += f" ({self.title[:60]!r})"
        if node is not None:
            place += f", node {node[:80]}"
        details: dict[str, Any] = {"conversation": self.index}
        if node is not None:
            details["node"] = node[:80]
        if field_name is not None:
            details["field"] = field_name
            problem = f"{field_name}: {problem}"
        return BadRequest(f"{place}: {problem}", **details)


def parse(data: bytes, now: datetime) -> list[Chat]:
    """Every chat in the file, in order, or BadRequest. A chat may have no messages (a ChatGPT
    conversation with nothing a reader sees): the caller decides what to do with it."""
    if not data.strip():
        raise BadRequest("the file is empty", field="file")
    if data[:4] == b"PK\x03\x04":
        raise BadRequest("this is a zip archive: unzip it and import conversations.json", field="file")
    try:
        document = orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        raise BadRequest(f"the file is not valid JSON: {exc}", field="file") from None
    items = document if isinstance(document, list) else [document]
    if not items:
        raise BadRequest("the file holds no conversations", field="file")
    if len(items) > MAX_CHATS:
        raise BadRequest(f"at most {MAX_CHATS} conversations in one import (this file has "
                         f"{len(items)}); split it", field="file")
    budget = [MAX_NODES]
    return [_one(item, index, now, budget) for index, item in enumerate(items)]


def _one(item: Any, index: int, now: datetime, budget: list[int]) -> Chat:
    where = Where(index, item.get("title") if isinstance(item, dict) else None)
    if not isinstance(item, dict):
        raise where.fail("expected an object (an exported chat or a ChatGPT conversation)")
    if "mapping" in item:
        nodes = item["mapping"]
        size = len(nodes) if isinstance(nodes, dict) else 0
    elif "format" in item:
        messages = item.get("messages")
        size = len(messages) if isinstance(messages, list) else 0
    else:
        raise where.fail("neither a Chatwire export (format, chat, messages) nor a ChatGPT "
                         "conversation (title, mapping, current_node)")
    budget[0] -= size
    if budget[0] < 0:
        raise where.fail(f"the file has more than {MAX_NODES} messages; import it in parts")
    return _chatgpt(item, where, now) if "mapping" in item else _ours(item, where)


# -- our own export -----------------------------------------------------------------------------

def _ours(item: dict[str, Any], where: Where) -> Chat:
    if item.get("format") != FORMAT:
        raise where.fail(f"format {item.get('format')!r} is not one this server reads ({FORMAT})",
                         field_name="format")
    chat, rows = item.get("chat"), item.get("messages")
    if not isinstance(chat, dict):
        raise where.fail("expected an object", field_name="chat")
    if not isinstance(rows, list):
        raise where.fail("expected a list", field_name="messages")
    where.title = chat.get("title")
    tags = chat.get("tags", [])
    if (not isinstance(tags, list) or len(tags) > TAGS
            or not all(isinstance(t, str) and 0 < len(t) <= TAG_CHARS for t in tags)):
        raise where.fail(f"expected at most {TAGS} texts of 1-{TAG_CHARS} characters",
                         field_name="chat.tags")
    prompt = _text(chat.get("system_prompt"), where, "chat.system_prompt", nullable=True)
    if prompt is not None and len(prompt) > PROMPT_CHARS:
        raise where.fail(f"longer than {PROMPT_CHARS} characters", field_name="chat.system_prompt")
    made = Chat(title=(_text(chat.get("title"), where, "chat.title", nullable=True) or "")[:TITLE_CHARS],
                created_at=_when(chat.get("created_at"), where, "chat.created_at"),
                updated_at=_when(chat.get("updated_at"), where, "chat.updated_at"),
                tags=list(dict.fromkeys(tags)), favorite=_flag(chat, "favorite", False, where),
                personalize=_flag(chat, "personalize", True, where),
                model=_model(chat.get("model"), where, "chat.model"), system_prompt=prompt,
                ours=True)
    messages: dict[str, Message] = {}
    for n, row in enumerate(rows):
        if not isinstance(row, dict):
            raise where.fail("expected an object", field_name=f"messages[{n}]")
        key = _text(row.get("id"), where, f"messages[{n}].id")
        if key in messages:
            raise where.fail("appears twice", node=key, field_name="id")
        role = row.get("role")
        if role not in ("user", "assistant", "system"):
            raise where.fail("expected user, assistant or system", node=key, field_name="role")
        status = row.get("status", "complete")
        status = "interrupted" if status == "streaming" else status
        if status not in STATUSES:
            raise where.fail(f"expected one of {', '.join(STATUSES)}", node=key, field_name="status")
        messages[key] = Message(
            key=key, parent=_text(row.get("parent_id"), where, "parent_id", nullable=True, node=key),
            role=role, content=_text(row.get("content", ""), where, "content", node=key),
            model=_model(row.get("model"), where, "model", node=key), status=status,
            created_at=_when(row.get("created_at"), where, "created_at", node=key))
    made.messages = _parents_first(messages, where)
    current = _text(chat.get("current_message_id"), where, "chat.current_message_id", nullable=True)
    if current is not None and current not in messages:
        raise where.fail(f"names message {current[:80]}, which is not in messages",
                         field_name="chat.current_message_id")
    made.current = current
    return made


# -- ChatGPT's conversations.json ---------------------------------------------------------------

def _chatgpt(item: dict[str, Any], where: Where, now: datetime) -> Chat:
    mapping = item["mapping"]
    if not isinstance(mapping, dict):
        raise where.fail("expected an object of nodes by id", field_name="mapping")
    title = (_text(item.get("title"), where, "title", nullable=True) or "")[:TITLE_CHARS]
    started = _epoch(item.get("create_time"), where, "create_time") or now
    updated = _epoch(item.get("update_time"), where, "update_time") or started
    default_model = _model(item.get("default_model_slug"), where, "default_model_slug")
    parents: dict[str, str | None] = {}
    shown: dict[str, Message] = {}
    for key, node in mapping.items():
        if not isinstance(node, dict):
            raise where.fail("expected an object", node=key)
        parent = _text(node.get("parent"), where, "parent", nullable=True, node=key)
        if parent is not None and parent not in mapping:
            raise where.fail(f"{parent[:80]} is not in the mapping", node=key, field_name="parent")
        children = node.get("children", [])
        if not isinstance(children, list) or not all(isinstance(c, str) for c in children):
            raise where.fail("expected a list of node ids", node=key, field_name="children")
        for child in children:
            if child not in mapping:
                raise where.fail(f"{child[:80]} is not in the mapping", node=key,
                                 field_name="children")
        parents[key] = parent
        message = _shown(node.get("message"), key, where, default_model, started)
        if message is not None:
            shown[key] = message
    _no_cycle(parents, where)

    above: dict[str, str | None] = {}  # each hidden node's nearest shown ancestor, found once

    def visible(key: str | None) -> str | None:
        """The node itself if shown, else its nearest shown ancestor (None: a root)."""
        trail = []
        while key is not None and key not in shown and key not in above:
            trail.append(key)
            key = parents[key]
        found = above[key] if key is not None and key not in shown else key
        above.update(dict.fromkeys(trail, found))
        return found

    for key, message in shown.items():
        message.parent = visible(parents[key])
    current = _text(item.get("current_node"), where, "current_node", nullable=True)
    if current is not None and current not in mapping:
        raise where.fail(f"{current[:80]} is not in the mapping", field_name="current_node")
    return Chat(title=title, created_at=started, updated_at=max(updated, started),
                messages=_parents_first(shown, where), current=visible(current))


def _shown(message: Any, key: str, where: Where, default_model: str | None,
           started: datetime) -> Message | None:
    """The node's message as we keep it, or None if a reader of the chat never sees it."""
    if message is None:
        return None
    if not isinstance(message, dict):
        raise where.fail("expected an object or null", node=key, field_name="message")
    author, content = message.get("author"), message.get("content")
    if not isinstance(author, dict) or not isinstance(author.get("role"), str):
        raise where.fail("expected an object with a role", node=key, field_name="message.author")
    metadata = message.get("metadata") or {}
    if not isinstance(metadata, dict):
        raise where.fail("expected an object", node=key, field_name="message.metadata")
    if not isinstance(content, dict) or not isinstance(content.get("content_type"), str):
        raise where.fail("expected an object with a content_type", node=key,
                         field_name="message.content")
    created = _epoch(message.get("create_time"), where, "message.create_time", node=key)
    role = author["role"]
    if (role not in ("user", "assistant") or content["content_type"] not in SHOWN_CONTENT
            or metadata.get("is_visually_hidden_from_conversation")
            or message.get("recipient", "all") not in ("all", None)):
        return None
    parts = content.get("parts")
    if not isinstance(parts, list):
        raise where.fail("expected a list", node=key, field_name="message.content.parts")
    text = "\n\n".join(piece for piece in map(_part, parts) if piece).strip()
    if not text:
        return None
    model = (_model(metadata.get("model_slug"), where, "message.metadata.model_slug", node=key)
             or default_model) if role == "assistant" else None
    return Message(key=key, parent=None, role=role, content=text, model=model, status="complete",
                   created_at=created or started)  # the parent is found once every node is read


def _part(part: Any) -> str:
    """A part's text: a string, a transcript's text, or a mark where an image was."""
    if isinstance(part, str):
        return part
    if isinstance(part, dict):
        if isinstance(part.get("text"), str):
            return part["text"]
        if part.get("content_type") == "image_asset_pointer":
            return "[image]"
    return ""


# -- shared checks ------------------------------------------------------------------------------

def _no_cycle(parents: dict[str, str | None], where: Where) -> None:
    """Every chain of parents ends at a root; a loop is named by the nodes in it."""
    done: set[str] = set()
    for start in parents:
        trail: list[str] = []
        on_trail: set[str] = set()
        node: str | None = start
        while node is not None and node not in done:
            if node in on_trail:
                loop = trail[trail.index(node):]
                names = ", ".join(n[:40] for n in loop[:5]) + (", …" if len(loop) > 5 else "")
                raise where.fail(f"{len(loop)} nodes form a cycle (each one's parent leads back "
                                 f"to it): {names}", node=node, field_name="parent")
            trail.append(node)
            on_trail.add(node)
            node = parents[node]
        done.update(trail)


def _parents_first(messages: dict[str, Message], where: Where) -> list[Message]:
    """The messages, each after its parent, siblings oldest first; a child is dated after its
    parent and a sibling after the one before it, so the stored tree sorts the same way."""
    for message in messages.values():
        if message.parent is not None and message.parent not in messages:
            raise where.fail(f"{message.parent[:80]} is not among the messages",
                             node=message.key, field_name="parent_id")
    _no_cycle({key: m.parent for key, m in messages.items()}, where)
    children: dict[str | None, list[Message]] = {}
    for message in messages.values():
        children.setdefault(message.parent, []).append(message)
    pending: list[Message | None] = [None]
    while pending:  # parents are dated before their children
        parent = pending.pop()
        key = parent.key if parent is not None else None
        kids = children[key] = sorted(children.get(key, []), key=lambda m: m.created_at)
        previous = parent.created_at if parent is not None else None
        for kid in kids:
            if previous is not None and kid.created_at <= previous:
                kid.created_at = previous + TICK
            previous = kid.created_at
        pending.extend(kids)
    order: list[Message] = []
    stack = list(reversed(children[None]))
    while stack:
        node = stack.pop()
        order.append(node)
        stack.extend(reversed(children[node.key]))
    return order


def _text(value: Any, where: Where, name: str, *, nullable: bool = False,
          node: str | None = None) -> Any:
    if value is None and nullable:
        return None
    if not isinstance(value, str):
        raise where.fail("expected text" + (" or null" if nullable else ""), node=node,
                         field_name=name)
    return value


def _model(value: Any, where: Where, name: str, node: str | None = None) -> str | None:
    model = _text(value, where, name, nullable=True, node=node)
    return model[:MODEL_CHARS] if model else None


def _flag(chat: dict[str, Any], name: str, default: bool, where: Where) -> bool:
    value = chat.get(name, default)
    if not isinstance(value, bool):
        raise where.fail("expected true or false", field_name=f"chat.{name}")
    return value


def _when(value: Any, where: Where, name: str, node: str | None = None) -> datetime:
    """One of our timestamps (ISO 8601, UTC)."""
    try:
        parsed = datetime.fromisoformat(_text(value, where, name, node=node).replace("Z", "+00:00"))
    except ValueError:
        raise where.fail("expected an ISO 8601 time", node=node, field_name=name) from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


def _epoch(value: Any, where: Where, name: str, node: str | None = None) -> datetime | None:
    """ChatGPT's times: seconds since 1970 as a number, or null."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value < 32503680000:
        raise where.fail("expected seconds since 1970, or null", node=node, field_name=name)
    return datetime.fromtimestamp(value, timezone.utc)

