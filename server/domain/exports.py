"""One chat exported: its active branch as Markdown (to read, or paste elsewhere), or its whole
tree as JSON (every branch, with models, usage and costs — what an import can rebuild)."""
from __future__ import annotations

from typing import Any

from protocol import shapes
from protocol.errors import NotFound
from storage import Database
from storage import chats as chat_rows
from storage import messages as message_rows

from .branches import Tree

FORMAT = "chatwire.chat/1"
LABELS = {"en": {"user": "You", "assistant": "Assistant", "untitled": "Untitled chat",
                 "stopped": "stopped", "error": "error", "interrupted": "interrupted"},
          "ru": {"user": "Вы", "assistant": "Ассистент", "untitled": "Чат без названия",
                 "stopped": "остановлено", "error": "ошибка", "interrupted": "прервано"}}


class Exports:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def _read(self, user_id: str, chat_id: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        chat = await chat_rows.get(self.db, user_id, chat_id)
        if chat is None:
            raise NotFound(f"chat {chat_id} does not exist", chat_id=chat_id)
        return chat, await message_rows.thread(self.db, chat_id, user_id)

    async def as_json(self, user_id: str, chat_id: str) -> dict[str, Any]:
        chat, rows = await self._read(user_id, chat_id)
        by_id = {row["id"]: row for row in rows}
        messages = [{k: v for k, v in shapes.message(by_id[i]).items() if k not in ("has_files", "files")}
                    for i in Tree.of(rows).parents_first()]
        return {"format": FORMAT, "chat": chat, "messages": messages}

    async def as_markdown(self, user_id: str, chat_id: str, lang: str = "en") -> tuple[str, str]:
        """(title, the active branch as Markdown) in the reader's language ("en" or "ru")."""
        chat, rows = await self._read(user_id, chat_id)
        words = LABELS.get(lang, LABELS["en"])
        by_id = {row["id"]: row for row in rows}
        path = Tree.of(rows).active_path(chat["current_message_id"])
        title = chat["title"] or words["untitled"]
        parts = [f"# {title}"]
        for row in (by_id[i] for i in path if i in by_id):
            who = words[row["role"]] if row["role"] in ("user", "assistant") else row["role"]
            if row["role"] == "assistant" and row["model"]:
                who += f" ({row['model']})"
            if row["status"] in ("stopped", "error", "interrupted"):
                who += f", {words[row['status']]}"
            parts.append(f"**{who}** · {row['created_at'][:16].replace('T', ' ')} UTC\n\n{row['content']}")
        return title, "\n\n---\n\n".join(parts) + "\n"

